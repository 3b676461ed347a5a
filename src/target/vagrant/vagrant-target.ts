import { spawn } from 'node:child_process';
import { freshKeyPair } from '../ssh-keys.js';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive } from '../pid-alive.js';
import { InterruptedError, MountlabError, TargetError } from '../../errors.js';
import { assetPath, packageRoot } from '../../paths.js';
import type { ExecOptions, ExecResult } from '../exec.js';
import { installLabctl, targetFacts } from '../guest-facts.js';
import type { StartedTarget, Target } from '../target.js';
import type { TargetFacts } from '../../results/result.js';
import { cacheRoot, type RootfsImage } from '../vm/image.js';
import type { KernelArtifact } from '../vm/kernel-artifact.js';
import { freeLoopbackPort } from '../vm/port.js';
import { SshSession } from '../vm/ssh.js';
import { type ServedHelper, servedHelper } from '../helper-server.js';
import { HELPER } from '../../plan/steps.js';
import {
  boxVolumeName,
  kvmAccessWarning,
  libvirtdUnreachable,
  libvirtName,
  missingToolError,
  progressLine,
  userIds,
  vagrantEnv,
  vagrantFailure,
  type VagrantRunSpec,
} from './vagrant-env.js';

export interface VagrantOptions {
  image: RootfsImage;
  kernel: KernelArtifact;
  runId: string;
  cellId: string;
  /** The cell's directory in the run: vagrant's logs and the console end up here. */
  runDir: string;
  memoryMiB?: number;
  /** `vagrant up`'s time limit (default 300 s: under TCG it took 17 s here). */
  upTimeoutMs?: number;
  /**
   * Where the files libvirt's qemu (user libvirt-qemu) must read live: the
   * box with its kernel, the storage pool. It must be enterable by that
   * user, which a run dir under /root or a mkdtemp dir is not; so not the run
   * dir but /var/tmp/mountlab-vagrant/<run>-<cell>, removed at the end.
   */
  workRoot?: string;
  driver?: 'qemu' | 'kvm';
  log: (msg: string) => void;
}

export const DEFAULT_WORK_ROOT = '/var/tmp/mountlab-vagrant';
const LIBVIRT_URI = 'qemu:///system';

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
  aborted: boolean;
}

/**
 * Runs a command in its own process group (a Ctrl-C at the terminal reaches
 * mountlab only, which then stops this deliberately), with a time limit:
 * SIGTERM to the group, SIGKILL 15 s later. Never rejects for a non-zero exit.
 */
function run(
  cmd: string,
  args: string[],
  o: {
    env?: NodeJS.ProcessEnv;
    timeoutMs: number;
    signal?: AbortSignal;
    onLine?: (l: string) => void;
    logFile?: string;
  },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let buf = '';
    let timedOut = false;
    let aborted = false;
    const feed = (d: Buffer) => {
      const s = d.toString('utf8');
      output += s;
      buf += s;
      let i: number;
      while ((i = buf.search(/[\r\n]/)) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line && o.onLine) o.onLine(line);
      }
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    let killer: NodeJS.Timeout | undefined;
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      killer ??= setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 15_000);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, o.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      o.signal?.removeEventListener('abort', onAbort);
      if (o.logFile) await writeFile(o.logFile, `$ ${cmd} ${args.join(' ')}\n${output}`, { flag: 'a' }).catch(() => {});
      resolve({ code, signal, output, timedOut, aborted });
    });
  });
}

function isEnoent(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** vagrant, its libvirt plugin, virsh and a libvirtd that answers; a clear PrerequisiteError otherwise. */
export async function checkVagrantPrerequisites(
  log: (m: string) => void,
  vagrantHome: string,
): Promise<{ vagrant: string; libvirt: string }> {
  // vagrant creates its home on any command: this run's, never ~/.vagrant.d.
  const env = { ...process.env, VAGRANT_HOME: vagrantHome, VAGRANT_CHECKPOINT_DISABLE: '1' };
  let vagrant: Ran;
  try {
    vagrant = await run('vagrant', ['--version'], { env, timeoutMs: 60_000 });
  } catch (e) {
    if (isEnoent(e)) throw missingToolError('vagrant', 'it is not installed');
    throw e;
  }
  if (vagrant.code !== 0) throw missingToolError('vagrant', `\`vagrant --version\` failed: ${vagrant.output.trim()}`);
  const plugins = await run('vagrant', ['plugin', 'list'], { env, timeoutMs: 60_000 });
  if (!/^vagrant-libvirt\b/m.test(plugins.output))
    throw missingToolError(
      'the vagrant-libvirt plugin',
      `\`vagrant plugin list\` does not list it:\n${plugins.output.trim()}`,
    );
  for (const tool of ['qemu-img', 'virsh']) {
    try {
      await run(tool, ['--version'], { timeoutMs: 30_000 });
    } catch (e) {
      if (isEnoent(e)) throw missingToolError(tool, 'it is not installed');
      throw e;
    }
  }
  const v = await run('virsh', ['-c', LIBVIRT_URI, 'version'], { timeoutMs: 60_000 });
  if (v.code !== 0 || v.timedOut)
    throw libvirtdUnreachable(
      v.timedOut ? 'virsh version did not answer within 60 s' : v.output,
      existsSync('/run/systemd/system'),
    );
  const warning = kvmWarning();
  if (warning) log(`warning: ${warning}`);
  return { vagrant: vagrant.output.trim(), libvirt: (/Running hypervisor: (.*)/.exec(v.output)?.[1] ?? '?').trim() };
}

let verified: Promise<unknown> | undefined;

/**
 * checkVagrantPrerequisites once per process, with a throw-away
 * VAGRANT_HOME: the CLI calls it before the run starts (a missing piece
 * ends the run with exit 2 and the hint, before anything boots), and each
 * start() reuses the answer.
 */
export function ensureVagrantPrerequisites(log: (m: string) => void, workRoot = DEFAULT_WORK_ROOT): Promise<unknown> {
  verified ??= (async () => {
    await mkdir(workRoot, { recursive: true });
    await chmod(workRoot, 0o755);
    const home = join(workRoot, `check-${process.pid}`);
    try {
      return await checkVagrantPrerequisites(log, home);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  })().catch((e: unknown) => {
    verified = undefined;
    throw e;
  });
  return verified;
}

function kvmWarning(): string | undefined {
  try {
    const st = statSync('/dev/kvm');
    const ids = userIds('libvirt-qemu', readFileSync('/etc/passwd', 'utf8'), readFileSync('/etc/group', 'utf8'));
    return kvmAccessWarning({ mode: st.mode, uid: st.uid, gid: st.gid }, ids);
  } catch {
    return undefined;
  }
}

/** Makes (once per rootfs+kernel pair, cached) the box file with vm/vagrant/build-box.sh. */
async function ensureBox(
  image: RootfsImage,
  kernel: KernelArtifact,
  log: (m: string) => void,
  signal: AbortSignal,
): Promise<string> {
  const out = join(cacheRoot(), 'vagrant');
  const r = await run(
    'bash',
    [
      assetPath('vm', 'vagrant', 'build-box.sh'),
      '--rootfs',
      image.dir,
      '--kernel',
      kernel.dir,
      '--out',
      out,
      '--no-add',
    ],
    {
      timeoutMs: 600_000,
      signal,
      onLine: (l) => {
        const m = /^\[mountlab-vagrant\]\s*(.*)$/.exec(l);
        if (m) log(m[1]!);
      },
    },
  );
  if (r.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError('signal');
  const box = r.output.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !box.endsWith('.box'))
    throw new TargetError(
      `vm/vagrant/build-box.sh failed (exit ${r.code}):\n${r.output.trim().split('\n').slice(-20).join('\n')}`,
    );
  return box;
}

interface Owner {
  pid: number;
  pool: string;
  domain: string;
}

/** Removes the libvirt domain and pool of a run, whether or not vagrant still knows them. */
async function removeLibvirtLeftovers(o: Owner): Promise<string[]> {
  const done: string[] = [];
  const list = await run('virsh', ['-c', LIBVIRT_URI, 'list', '--all', '--name'], { timeoutMs: 60_000 });
  if (
    list.output
      .split('\n')
      .map((s) => s.trim())
      .includes(o.domain)
  ) {
    await run('virsh', ['-c', LIBVIRT_URI, 'destroy', o.domain], { timeoutMs: 60_000 });
    await run('virsh', ['-c', LIBVIRT_URI, 'undefine', o.domain], { timeoutMs: 60_000 });
    done.push(`domain ${o.domain}`);
  }
  const pools = await run('virsh', ['-c', LIBVIRT_URI, 'pool-list', '--all', '--name'], { timeoutMs: 60_000 });
  if (
    pools.output
      .split('\n')
      .map((s) => s.trim())
      .includes(o.pool)
  ) {
    // Transient: destroying it is removing it. Its files go with the work dir.
    await run('virsh', ['-c', LIBVIRT_URI, 'pool-destroy', o.pool], { timeoutMs: 60_000 });
    await run('virsh', ['-c', LIBVIRT_URI, 'pool-undefine', o.pool], { timeoutMs: 60_000 });
    done.push(`pool ${o.pool}`);
  }
  return done;
}

/** Work dirs of runs whose process is gone (SIGKILLed): their domain, pool and files. */
async function sweepStale(root: string, log: (m: string) => void): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const n of names) {
    const dir = join(root, n);
    let owner: Owner;
    try {
      owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as Owner;
    } catch {
      continue;
    }
    if (pidAlive(owner.pid)) continue;
    const removed = await removeLibvirtLeftovers(owner);
    await rm(dir, { recursive: true, force: true });
    log(`removed what a killed run (pid ${owner.pid}) left: ${[...removed, dir].join(', ')}`);
  }
}

/** A configured vagrant-libvirt guest. Nothing runs until start(). */
export class VagrantTarget implements Target {
  readonly kind = 'vagrant' as const;
  constructor(private readonly opts: VagrantOptions) {}

  get describe(): string {
    return `vagrant (${this.opts.image.id}+${this.opts.kernel.id}, kernel ${this.opts.kernel.manifest.kernelRelease})`;
  }

  async start(signal: AbortSignal): Promise<StartedVagrant> {
    const o = this.opts;
    const started = Date.now();
    const workRoot = o.workRoot ?? DEFAULT_WORK_ROOT;
    await mkdir(workRoot, { recursive: true });
    await chmod(workRoot, 0o755);
    const name = libvirtName(o.runId, o.cellId);
    const work = join(workRoot, name);
    await rm(work, { recursive: true, force: true });
    for (const d of ['home', 'dot', 'pool']) await mkdir(join(work, d), { recursive: true, mode: 0o755 });
    await chmod(work, 0o755);
    await chmod(join(work, 'dot'), 0o700);
    const owner: Owner = { pid: process.pid, pool: name, domain: `${name}-default` };
    await writeFile(join(work, 'owner.json'), JSON.stringify(owner));
    try {
      await ensureVagrantPrerequisites(o.log, workRoot);
      await sweepStale(workRoot, o.log);
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      throw e;
    }
    const boxFile = await ensureBox(o.image, o.kernel, o.log, signal).catch(async (e: unknown) => {
      await rm(work, { recursive: true, force: true });
      throw e;
    });
    // A fresh key for this guest only; the image holds no authorized key.
    const keys = freshKeyPair('mountlab-vagrant-run');
    const keyFile = join(work, 'dot', 'id_ed25519');
    await writeFile(keyFile, keys.private, { mode: 0o600 });
    await writeFile(`${keyFile}.pub`, `${keys.public.trim()}\n`, { mode: 0o644 });
    const spec: VagrantRunSpec = {
      home: join(work, 'home'),
      dotfile: join(work, 'dot', 'vagrant'),
      cwd: packageRoot,
      box: `mountlab/${o.image.manifest.suite}`,
      sshPort: await freeLoopbackPort(),
      privateKeyFile: keyFile,
      consoleFile: join(o.runDir, 'console.log'),
      pool: name,
      namePrefix: `${name}-`,
      memoryMiB: o.memoryMiB ?? 1024,
      driver: o.driver ?? 'qemu',
      bootTimeoutS: Math.round((o.upTimeoutMs ?? 300_000) / 1000),
    };
    const env = vagrantEnv(spec);
    const machine = new VagrantMachine(spec, env, work, owner, o);
    let ssh: SshSession | undefined;
    try {
      const logFile = join(o.runDir, 'vagrant.log');
      const fail = (what: string, r: Ran): never => {
        if (r.aborted || signal.aborted)
          throw signal.reason instanceof Error ? signal.reason : new InterruptedError('signal');
        throw new TargetError(
          `${what} ${r.timedOut ? 'did not finish in time' : `failed (exit ${r.code ?? r.signal})`}:\n` +
            vagrantFailure(r.output),
          machine.consoleTail(),
          {
            hint: `vagrant's full output is in ${logFile}`,
          },
        );
      };
      const add = await run(
        'vagrant',
        ['box', 'add', '--no-color', '--name', spec.box, '--provider', 'libvirt', boxFile],
        { env, timeoutMs: 300_000, signal, logFile },
      );
      if (add.code !== 0) fail('vagrant box add', add);
      const pool = await run(
        'virsh',
        ['-c', LIBVIRT_URI, 'pool-create-as', name, 'dir', '--target', join(work, 'pool')],
        { timeoutMs: 60_000, signal, logFile },
      );
      if (pool.code !== 0) fail('virsh pool-create-as', pool);
      await seedBoxVolume(spec, work, signal, logFile);
      o.log(`vagrant up (libvirt ${spec.driver === 'qemu' ? 'TCG' : 'KVM'}, ssh on 127.0.0.1:${spec.sshPort})`);
      const upStarted = Date.now();
      const up = await run('vagrant', ['up', '--no-color', '--provider', 'libvirt', '--no-provision'], {
        env,
        timeoutMs: (o.upTimeoutMs ?? 300_000) + 60_000,
        signal,
        logFile,
        onLine: (l) => {
          const p = progressLine(l);
          if (p) o.log(`vagrant: ${p} (${((Date.now() - upStarted) / 1000).toFixed(1)} s)`);
        },
      });
      if (up.code !== 0) fail('vagrant up', up);
      const upMs = Date.now() - upStarted;
      ssh = await SshSession.connect({
        host: '127.0.0.1',
        port: spec.sshPort,
        privateKey: keys.private,
        hostKey: o.image.manifest.hostKey,
        readyTimeoutMs: 30_000,
      });
      const bootMs = Date.now() - started;
      const image = `${o.image.id}+${o.kernel.id}`;
      const guest = await installLabctl(ssh, {
        id: image,
        manifest: { kernelRelease: o.kernel.manifest.kernelRelease },
      });
      const facts = targetFacts('vagrant', guest, {
        readyMs: Date.now() - started,
        accel: spec.driver === 'qemu' ? 'tcg' : 'kvm',
        bootMs,
        image,
      });
      const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      o.log(
        `vagrant up ${seconds(upMs)}, ssh ${seconds(bootMs)}, facts ${seconds(facts.readyMs)} after start ` +
          '(box, pool and prerequisites included)',
      );
      return new StartedVagrant(machine, ssh, facts);
    } catch (e) {
      if (ssh) await ssh[Symbol.asyncDispose]();
      await machine[Symbol.asyncDispose]();
      if (e instanceof MountlabError || signal.aborted) throw e;
      throw new TargetError(`vagrant target: ${(e as Error).message}`, machine.consoleTail());
    }
  }
}

/**
 * Puts the box's image into the pool under the name vagrant-libvirt looks
 * for (a hard link, or a copy across file systems), so `vagrant up` does not
 * stream it through libvirt.
 */
async function seedBoxVolume(spec: VagrantRunSpec, work: string, signal: AbortSignal, logFile: string): Promise<void> {
  const boxDir = join(spec.home, 'boxes', spec.box.replace(/\//g, '-VAGRANTSLASH-'));
  const versions = existsSync(boxDir)
    ? readdirSync(boxDir).filter((v) => existsSync(join(boxDir, v, 'libvirt', 'box.img')))
    : [];
  if (versions.length !== 1) return;
  const img = join(boxDir, versions[0]!, 'libvirt', 'box.img');
  const dest = join(work, 'pool', boxVolumeName(spec.box, versions[0]!, statSync(img).mtimeMs));
  try {
    await link(img, dest);
  } catch {
    await copyFile(img, dest);
  }
  await run('virsh', ['-c', LIBVIRT_URI, 'pool-refresh', spec.pool], { timeoutMs: 60_000, signal, logFile });
}

/** The serial console, a file libvirt writes (the Vagrantfile's serial type=file). */
class FileConsole {
  constructor(private readonly path: string) {}

  get length(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  since(mark: number): string {
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'r');
      const size = statSync(this.path).size;
      if (size <= mark) return '';
      const buf = Buffer.alloc(size - mark);
      readSync(fd, buf, 0, buf.length, mark);
      return buf.toString('latin1');
    } catch {
      return '';
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  tail(lines = 30): string {
    return this.since(Math.max(0, this.length - 64 * 1024))
      .replace(/\r/g, '')
      .split('\n')
      .slice(-lines)
      .join('\n');
  }
}

/**
 * A guest `vagrant up` is bringing up, or brought up: its domain, pool, work
 * dir and console. Disposing it destroys them.
 */
class VagrantMachine implements AsyncDisposable {
  private disposing: Promise<void> | undefined;
  private readonly console: FileConsole;

  constructor(
    spec: VagrantRunSpec,
    private readonly env: NodeJS.ProcessEnv,
    private readonly work: string,
    private readonly owner: Owner,
    private readonly opts: VagrantOptions,
  ) {
    this.console = new FileConsole(spec.consoleFile);
  }

  consoleTail(): string {
    return this.console.tail();
  }

  consoleMark(): number {
    return this.console.length;
  }

  consoleSince(mark: number): string {
    return this.console.since(mark);
  }

  /**
   * `vagrant destroy -f`, then whatever vagrant did not remove (a domain
   * defined before an interrupted `up` recorded it, the transient pool), then
   * the work dir. Idempotent; never throws (it runs on the way out of
   * errors and Ctrl-C).
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.disposing ??= (async () => {
      const o = this.opts;
      const logFile = join(o.runDir, 'vagrant.log');
      try {
        const started = Date.now();
        const d = await run('vagrant', ['destroy', '--no-color', '-f'], { env: this.env, timeoutMs: 180_000, logFile });
        if (d.code !== 0) o.log(`vagrant destroy failed (exit ${d.code ?? d.signal}); removing the domain with virsh`);
        const left = await removeLibvirtLeftovers(this.owner);
        const domainLeft = left.filter((l) => l.startsWith('domain'));
        const also = domainLeft.length ? `; also removed ${domainLeft.join(', ')}` : '';
        o.log(`vagrant destroy ${((Date.now() - started) / 1000).toFixed(1)} s${also}`);
      } catch (e) {
        o.log(
          `clean-up of the vagrant guest failed: ${(e as Error).message}; ` +
            `check \`virsh -c ${LIBVIRT_URI} list --all\` for ${this.owner.domain}`,
        );
      }
      await rm(this.work, { recursive: true, force: true }).catch(() => {});
    })();
    return this.disposing;
  }
}

/** A guest `vagrant up` started, with an open ssh connection and its facts read. Disposing it destroys it. */
export class StartedVagrant implements StartedTarget {
  private disposing: Promise<void> | undefined;
  private readonly helper: ServedHelper;

  constructor(
    private readonly machine: VagrantMachine,
    private readonly ssh: SshSession,
    readonly facts: Readonly<TargetFacts>,
  ) {
    this.helper = servedHelper(ssh, HELPER);
  }

  get alive(): boolean {
    return !this.disposing && !this.ssh.isBroken;
  }

  private session(): SshSession {
    if (this.disposing) throw new TargetError('the vagrant guest is not running');
    return this.ssh;
  }

  exec(argv: readonly string[] | string, opts: ExecOptions): Promise<ExecResult> {
    return this.session().exec(argv, opts);
  }

  execHelper(args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    this.session();
    return this.helper.exec(args, opts);
  }

  writeFile(path: string, content: string | Buffer, mode?: string): Promise<void> {
    return this.session().writeFile(path, content, mode);
  }

  consoleMark(): number {
    return this.machine.consoleMark();
  }

  consoleSince(mark: number): string {
    return this.machine.consoleSince(mark);
  }

  /** Closes the connection, then destroys the guest; idempotent, never throws. */
  [Symbol.asyncDispose](): Promise<void> {
    this.disposing ??= (async () => {
      this.helper.close();
      await this.ssh[Symbol.asyncDispose]();
      await this.machine[Symbol.asyncDispose]();
    })();
    return this.disposing;
  }
}
