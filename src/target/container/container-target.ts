import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { pidAlive } from '../pid-alive.js';
import { InterruptedError, MountlabError, TargetError, TimeoutError } from '../../errors.js';
import type { ExecOptions, ExecResult } from '../exec.js';
import { installLabctl } from '../guest-facts.js';
import type { StartedTarget, Target, TargetFacts } from '../target.js';
import { ensureContainerImage, type ImageApi, type RootfsSource } from './container-image.js';
import { findDockerEngine } from './docker-engine.js';
import {
  cacheAnswer,
  cpuModel,
  PREFLIGHT_DEADLINE_S,
  preflightKey,
  preflightMode,
  readCachedAnswer,
  refusal,
  runPreflight,
  type PreflightAnswer,
  type PreflightHost,
} from './criu-preflight.js';

/**
 * What `docker run --privileged` would give, less CAP_SYS_RESOURCE: on
 * machines whose own bounding set lacks it (this project's CI sandbox),
 * --privileged fails with "unable to apply caps". CRIU then logs a
 * non-fatal "Can't setup RLIMIT_NOFILE".
 */
export const CAP_ADD = ['ALL'];
export const CAP_DROP = ['SYS_RESOURCE'];
export const SECURITY_OPTS = ['seccomp=unconfined', 'apparmor=unconfined'];
/**
 * `--security-opt systempaths=unconfined` is a docker CLI flag, not an
 * engine option (the engine answers "invalid --security-opt"): the CLI
 * turns it into empty MaskedPaths and ReadonlyPaths, and so does this.
 */
export const SYSTEMPATHS_UNCONFINED = { MaskedPaths: [] as string[], ReadonlyPaths: [] as string[] };
/**
 * /run and /tmp are tmpfs as in the VM (its PID 1 mounts them): labctl
 * keeps its work dirs in /run/mountlab, and the scenario root is an overlay
 * whose lower layer is `/` alone, so nothing under /run leaks into it.
 * `exec`: labctl runs from /run (docker's default tmpfs is noexec).
 */
export const TMPFS: Record<string, string> = { '/run': 'rw,exec,nosuid,mode=755', '/tmp': 'rw,exec,nosuid,mode=1777' };

/** The run's label: `docker ps -a --filter label=mountlab.run` finds anything left over. */
export function containerLabels(runId: string, image: string, token: string, pid = process.pid, host = hostname()): Record<string, string> {
  return { 'mountlab.run': runId, 'mountlab.image': image, 'mountlab.target': token, 'mountlab.pid': String(pid), 'mountlab.host': host };
}

/**
 * The in-container half of every exec, a fixed script; the command is only
 * ever passed as separate arguments, never pasted into shell text.
 * $1 is a file holding stdin (copied in before; removed before the command
 * runs) or empty for /dev/null, $2 the limit in seconds, $3 a directory
 * for the stdout file (/run, a tmpfs, in the container). The limit is
 * enforced here, with `timeout --kill-after`, because testcontainers' exec
 * has none. stdout is collected in a file and printed as base64, because
 * testcontainers decodes each chunk as UTF-8: base64 keeps every byte
 * (captures are latin1: mountinfo paths need not be UTF-8).
 */
export const EXEC_WRAPPER = [
  'i=$1 l=$2 d=$3; shift 3',
  'if [ -n "$i" ]; then exec 0<"$i"; rm -f "$i"; else exec 0</dev/null; fi',
  'o=$(mktemp "$d/mountlab-out.XXXXXX") || exit 125',
  'rc=0',
  'timeout --kill-after=5 "$l" "$@" >"$o" || rc=$?',
  'base64 -w0 "$o"; rm -f "$o"',
  'exit "$rc"',
].join('\n');

/** Where the container's image layer (docker's overlay root) stays visible after ROOT_SWAP. */
export const IMAGE_LAYER = '/run/mountlab-image';
export const READY_LINE = 'MOUNTLAB-CONTAINER-READY';

/**
 * The container's main command (docker-init runs it as PID 1's child).
 * Why not just `sleep infinity` on docker's root: labctl makes each
 * scenario root an overlay with lowerdir=/, and on docker's overlay2 root
 * that is an overlay on an overlay. Building it works, but CRIU's dump
 * then fails for every scenario:
 *   Error (criu/files-reg.c:1790): Can't lookup mount=108 for fd=-3 path=/usr/bin/sleep
 * A file mapped through nested overlays (here the tree's sleeper binary)
 * reports the mount id of overlayfs' private clone of the lower layer, a
 * mount in no namespace. With a non-overlay lower (the VM's ext4, or a
 * tmpfs) it reports the scenario root's overlay, which CRIU finds. So the
 * container copies its image into a tmpfs (about 1.4 s, 170 MB of memory),
 * moves /proc, /sys, /dev, /run and /tmp onto it and pivots into it; docker
 * exec then lands in the tmpfs root, exactly as the VM's root for labctl.
 * The old root stays mounted at IMAGE_LAYER: `docker cp` writes there.
 */
export const ROOT_SWAP = [
  'set -eu',
  'N=/.mountlab-root',
  'mkdir -p "$N"',
  'mount -t tmpfs -o mode=0755 mountlab-rootfs "$N"',
  'tar -C / --one-file-system --exclude=./proc --exclude=./sys --exclude=./dev --exclude=./run --exclude=./tmp --exclude=".$N" -cf - . | tar -C "$N" -xpf -',
  'for d in proc sys dev run tmp; do mkdir -p "$N/$d"; mount --move "/$d" "$N/$d"; done',
  `mkdir -p "$N${IMAGE_LAYER}"`,
  'cd "$N"',
  `pivot_root . "${IMAGE_LAYER.slice(1)}"`,
  'cd /',
  `echo ${READY_LINE}`,
  'exec sleep infinity',
].join('\n');

/**
 * Directory for stdin files, as `docker cp` names it (docker cp writes to
 * the image layer, never into a tmpfs mount); inside the container it is
 * IMAGE_LAYER + STDIN_DIR.
 */
export const STDIN_DIR = '/var/lib';

/** The limit enforced in the container for a command whose ExecOptions say timeoutMs. */
export function execLimitSeconds(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 1000));
}

/** The host-side backstop: the in-container limit, timeout's kill-after, and slack for the engine. */
export function backstopMs(timeoutMs: number): number {
  return execLimitSeconds(timeoutMs) * 1000 + 15_000;
}

/** The argv docker execs for a command: the wrapper, then the command as separate words. A string is a shell command (`sh -c`). */
export function execArgv(command: readonly string[] | string, limitS: number, stdinPath: string | undefined, outDir = '/run'): string[] {
  const cmd = typeof command === 'string' ? ['sh', '-c', command] : [...command];
  if (cmd.length === 0) throw new TargetError('exec: empty command');
  return ['sh', '-c', EXEC_WRAPPER, 'mountlab-exec', stdinPath ?? '', String(limitS), outDir, ...cmd];
}

/** Decodes the wrapper's base64 stdout. */
export function decodeStdout(b64: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  return Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString(encoding);
}

/** True when `timeout` (not the command itself) ended it: its codes, after the whole limit. */
export function timedOut(code: number, durationMs: number, limitS: number): boolean {
  return (code === 124 || code === 137) && durationMs >= limitS * 1000 - 250;
}

export interface ContainerOptions {
  /** The guest rootfs image the container image is made from (ensureImage's answer). */
  image: RootfsSource;
  runId: string;
  log: (msg: string) => void;
}

/**
 * GenericContainer with what it has no builder method for: docker-init as
 * PID 1 (HostConfig.Init) and systempaths=unconfined.
 */
class LabContainer extends GenericContainer {
  constructor(image: string) {
    super(image);
    this.hostConfig.Init = true;
    this.hostConfig.MaskedPaths = [...SYSTEMPATHS_UNCONFINED.MaskedPaths];
    this.hostConfig.ReadonlyPaths = [...SYSTEMPATHS_UNCONFINED.ReadonlyPaths];
  }
}

/**
 * The container target: testcontainers on an image built locally from the
 * VM image's rootfs, on the host's kernel. Fast, but it cannot validate a
 * kernel: every cell of it runs whatever kernel this machine runs.
 */
export class ContainerTarget implements Target {
  readonly kind = 'container' as const;
  private preflight: Promise<PreflightAnswer> | undefined;
  constructor(private readonly opts: ContainerOptions) {}

  private async measure(c: StartedContainer, criu: string, key: string, mode: ReturnType<typeof preflightMode>, signal: AbortSignal): Promise<PreflightAnswer> {
    this.opts.log(`CRIU preflight: a dump and restore of a sleeping task on the host kernel (deadline ${PREFLIGHT_DEADLINE_S} s)...`);
    const answer = await runPreflight(c, criu, mode);
    this.opts.log(`CRIU preflight: ${answer.ok ? answer.detail : `failed: ${answer.detail}`}`);
    // An injected fault says nothing about this host, nor does a preflight cut short by Ctrl-C.
    if (mode !== 'fault-hang' && !signal.aborted) await cacheAnswer(key, answer).catch(() => {});
    return answer;
  }

  get describe(): string {
    return `container (${this.opts.image.id} rootfs, host kernel)`;
  }

  async start(signal: AbortSignal): Promise<StartedContainer> {
    const o = this.opts;
    // testcontainers' reaper (Ryuk) is a container from an image it pulls
    // from a registry; no registry is reachable here, so it could never
    // start. It is off, and this target removes its own containers: on
    // dispose (idempotent, `await using` in the runner, Ctrl-C included),
    // and at the next start, leftovers of a mountlab that was killed
    // outright (labels mountlab.pid/mountlab.host name a dead process).
    process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
    await findDockerEngine();
    const client = await getContainerRuntimeClient();
    const api = client.container.dockerode;
    await removeLeftovers(api, o.log);
    const img = await ensureContainerImage(api as unknown as ImageApi, o.image, o.log, signal);
    if (signal.aborted) throw abortReason(signal);
    const token = randomBytes(6).toString('hex');
    const started = Date.now();
    let tc: StartedTestContainer;
    try {
      tc = await new LabContainer(img.tag)
        .withCommand(['sh', '-c', ROOT_SWAP])
        .withWaitStrategy(Wait.forLogMessage(READY_LINE))
        .withLabels(containerLabels(o.runId, o.image.id, token))
        .withAddedCapabilities(...CAP_ADD)
        .withDroppedCapabilities(...CAP_DROP)
        .withSecurityOpt(...SECURITY_OPTS)
        .withTmpFs(TMPFS)
        .withNetworkMode('none')
        .withAutoCleanup(false)
        .withStartupTimeout(60_000)
        .start();
    } catch (e) {
      const logs = await logsByLabel(api, `mountlab.target=${token}`);
      await removeByLabel(api, `mountlab.target=${token}`);
      if (signal.aborted) throw abortReason(signal);
      throw new TargetError(`cannot start the container (${img.tag}): ${(e as Error).message}`, logs || undefined);
    }
    const c = new StartedContainer(tc, api);
    try {
      if (signal.aborted) throw abortReason(signal);
      const bootMs = Date.now() - started;
      // The engine's kernel and CPU, which need not be this process's (DOCKER_HOST may be another machine).
      const probe = await c.exec(['sh', '-c', 'uname -r; cat /proc/cpuinfo'], { timeoutMs: 30_000, label: 'uname' });
      const [kernel = 'unknown', ...cpuinfo] = probe.stdout.split('\n');
      const host: PreflightHost = { kernel: kernel.trim() || 'unknown', cpu: cpuModel(cpuinfo.join('\n')), image: o.image.id };
      const mode = preflightMode();
      const key = preflightKey(host);
      const cached = mode === 'normal' ? readCachedAnswer(key) : undefined;
      if (cached && !cached.ok) throw refusal(cached, host, true);
      // criu check's answer is cached per image and kernel: here the kernel is the host's.
      const facts = await installLabctl(c, { id: `container-${o.image.id}`, manifest: { kernelRelease: host.kernel } }, 'container');
      let preflight = cached ? { ...cached, detail: `${cached.detail}, cached` } : undefined;
      if (!preflight) {
        // One preflight per target, however many containers -j starts for it.
        this.preflight ??= this.measure(c, facts.criu, key, mode, signal);
        // Ctrl-C must not wait out the preflight's deadline: disposing the container (below) ends its exec.
        preflight = await untilAborted(this.preflight, signal);
        if (!preflight.ok) throw refusal(preflight, host, false);
      }
      c.facts = { ...facts, target: 'container', bootMs, readyMs: Date.now() - started, image: o.image.id, preflight: preflight.detail };
      o.log(
        `container ${tc.getId().slice(0, 12)} up in ${(bootMs / 1000).toFixed(1)} s, ready in ${(c.facts.readyMs / 1000).toFixed(1)} s` +
          `${img.built ? ` (image built in ${(img.ms / 1000).toFixed(1)} s)` : ''}; host kernel ${c.facts.kernel}, criu ${c.facts.criu}`,
      );
      return c;
    } catch (e) {
      await c[Symbol.asyncDispose]();
      throw e;
    }
  }
}

interface Api {
  listContainers(opts?: object): Promise<Array<{ Id: string; Labels?: Record<string, string> }>>;
  getContainer(id: string): { remove(opts?: object): Promise<unknown>; logs(opts: { stdout: true; stderr: true; follow?: false; tail?: number }): Promise<Buffer> };
}

/** What a container that failed to start printed (its root swap's errors), for the error message. */
async function logsByLabel(api: Api, label: string): Promise<string> {
  const list = await api.listContainers({ all: true, filters: JSON.stringify({ label: [label] }) }).catch(() => []);
  const c = list[0];
  if (!c) return '';
  const raw = await api.getContainer(c.Id).logs({ stdout: true, stderr: true, follow: false, tail: 40 }).catch(() => Buffer.alloc(0));
  // Multiplexed stream: 8-byte frame headers; keep the printable text.
  return raw.toString('latin1').replace(/[\x00-\x08\x0e-\x1f]/g, '').trim();
}

async function removeByLabel(api: Api, label: string): Promise<void> {
  const list = await api.listContainers({ all: true, filters: JSON.stringify({ label: [label] }) }).catch(() => []);
  for (const c of list) await api.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
}

/** Containers of a mountlab process on this host that no longer exists (killed with SIGKILL, say). */
export function leftovers(list: Array<{ Id: string; Labels?: Record<string, string> }>, host: string, alive: (pid: number) => boolean): string[] {
  return list
    .filter((c) => c.Labels?.['mountlab.host'] === host && c.Labels['mountlab.run'] !== undefined)
    .filter((c) => {
      const pid = Number(c.Labels?.['mountlab.pid']);
      return Number.isInteger(pid) && pid > 0 && !alive(pid);
    })
    .map((c) => c.Id);
}

async function removeLeftovers(api: Api, log: (m: string) => void): Promise<void> {
  const list = await api.listContainers({ all: true, filters: JSON.stringify({ label: ['mountlab.run'] }) }).catch(() => []);
  for (const id of leftovers(list, hostname(), pidAlive)) {
    await api.getContainer(id).remove({ force: true, v: true }).then(
      () => log(`removed container ${id.slice(0, 12)} left by a mountlab that no longer runs`),
      () => {},
    );
  }
}

/** The promise's value, or the abort's reason as soon as the signal fires. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError(String(signal.reason ?? 'signal'));
}

/** A running container. Disposing it kills and removes it. */
export class StartedContainer implements StartedTarget {
  facts: TargetFacts = { target: 'container', kernel: '?', criu: '?', criuCheck: 'failed', utilLinux: '?', readyMs: 0 };
  private broken: Error | undefined;
  private disposing: Promise<void> | undefined;

  constructor(private readonly tc: StartedTestContainer, private readonly api: Api) {}

  get alive(): boolean {
    return !this.broken && !this.disposing;
  }

  async exec(command: readonly string[] | string, opts: ExecOptions): Promise<ExecResult> {
    if (this.broken) throw this.broken;
    if (this.disposing) throw new TargetError(`${opts.label}: the container is being removed`);
    const limitS = execLimitSeconds(opts.timeoutMs);
    const started = Date.now();
    let stdinPath: string | undefined;
    try {
      if (opts.stdin !== undefined) {
        // testcontainers' exec cannot feed stdin: the content goes in as a file, which the wrapper opens and removes.
        const name = `${STDIN_DIR}/.mountlab-stdin-${randomBytes(6).toString('hex')}`;
        const content = typeof opts.stdin === 'string' ? Buffer.from(opts.stdin, 'utf8') : opts.stdin;
        await this.tc.copyContentToContainer([{ content, target: name, mode: 0o600 }]);
        stdinPath = `${IMAGE_LAYER}${name}`;
      }
    } catch (e) {
      throw this.fail(new TargetError(`${opts.label}: cannot copy stdin into the container: ${(e as Error).message}`));
    }
    const argv = execArgv(command, limitS, stdinPath);
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The in-container limit should have fired first: the engine or the
        // container stopped answering, so this target is no longer trusted.
        reject(this.fail(new TimeoutError(opts.label, opts.timeoutMs)));
      }, backstopMs(opts.timeoutMs));
    });
    const run = this.tc.exec(argv);
    run.catch(() => {});
    let r: Awaited<typeof run>;
    try {
      r = await Promise.race([run, backstop]);
    } catch (e) {
      if (e instanceof MountlabError) throw e;
      throw this.fail(new TargetError(`${opts.label}: ${(e as Error).message}`));
    } finally {
      clearTimeout(timer);
    }
    const durationMs = Date.now() - started;
    if (timedOut(r.exitCode, durationMs, limitS)) throw new TimeoutError(opts.label, opts.timeoutMs);
    return { code: r.exitCode, stdout: decodeStdout(r.stdout, opts.encoding), stderr: r.stderr, durationMs };
  }

  async writeFile(path: string, content: string | Buffer, mode = '0644'): Promise<void> {
    const dir = path.replace(/\/[^/]*$/, '') || '/';
    const r = await this.exec(['sh', '-c', 'umask 077 && mkdir -p "$1" && cat > "$2" && chmod "$3" "$2"', 'sh', dir, path, mode], {
      stdin: content,
      timeoutMs: 30_000,
      label: `write ${path}`,
    });
    if (r.code !== 0) throw new TargetError(`cannot write ${path} in the container: ${r.stderr.trim()}`);
  }

  /**
   * The container's kernel is the host's: its log is shared with every
   * other process on this machine, and an oops in it is not ours to
   * judge (nor something a container run could survive). So there is no
   * console to watch: '' always.
   */
  consoleMark(): number {
    return 0;
  }

  consoleSince(_mark: number): string {
    return '';
  }

  private fail(e: Error): Error {
    this.broken ??= e;
    return e;
  }

  /** Kills and removes the container; idempotent, and safe while an exec is still running. */
  [Symbol.asyncDispose](): Promise<void> {
    this.disposing ??= (async () => {
      try {
        await this.tc.stop({ timeout: 0, remove: true, removeVolumes: true });
      } catch {
        // The engine may already have lost it, or stop raced a failure: force-remove by id.
        await this.api.getContainer(this.tc.getId()).remove({ force: true, v: true }).catch(() => {});
      }
    })();
    return this.disposing;
  }
}
