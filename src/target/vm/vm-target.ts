import { freshKeyPair } from '../ssh-keys.js';
import { TargetError, MountlabError } from '../../errors.js';
import type { ExecOptions, ExecResult } from '../exec.js';
import type { StartedTarget, Target } from '../target.js';
import type { TargetFacts } from '../../results/result.js';
import { chooseAccel, type AccelChoice } from './accel.js';
import type { VmImage } from './image.js';
import { freeLoopbackPort } from './port.js';
import { QemuProcess, hostTscKhz, type MachineType } from './qemu.js';
import { SshSession } from './ssh.js';
import { type ServedHelper, servedHelper } from '../helper-server.js';
import { HELPER } from '../../plan/steps.js';
import { installLabctl, targetFacts, type GuestFacts } from '../guest-facts.js';
import type { CriuOrigin } from '../../results/result.js';

export interface VmOptions {
  image: VmImage;
  accel: AccelChoice;
  machine: MachineType;
  memoryMiB: number;
  /** Directory for console.log and qemu's temporary files. */
  runDir: string;
  bootTimeoutMs?: number;
  /** A user's criu in this guest (image.criuDisk): recorded with the facts. */
  criuBuild?: CriuOrigin;
  log: (msg: string) => void;
}

const READY = /MOUNTLAB-READY/;
const BOOT_FAILED = [/MOUNTLAB-INIT-FAILED[^\n]*/, /Kernel panic[^\n]*/, /end Kernel panic[^\n]*/];

/** A configured VM. Nothing runs until start(). */
export class VmTarget implements Target {
  readonly kind = 'vm' as const;
  private starts = 0;
  constructor(private readonly opts: VmOptions) {}

  get describe(): string {
    return `vm (${this.opts.image.id}, kernel ${this.opts.image.manifest.kernelRelease})`;
  }

  async start(signal: AbortSignal): Promise<StartedVm> {
    const o = this.opts;
    const instance = ++this.starts;
    const decision = await chooseAccel(o.accel, o.image, o.log);
    if (decision.accel === 'tcg' && o.accel === 'auto') o.log(`using TCG: ${decision.reason}`);
    // A fresh key per VM: the image holds no authorized key at all.
    const keys = freshKeyPair('mountlab-run');
    const authkey = Buffer.from(`${keys.public.trim()}\n`).toString('base64');
    const tscKhz = hostTscKhz();
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freeLoopbackPort();
      const started = Date.now();
      const qemu = await QemuProcess.start({
        image: o.image,
        accel: decision.accel,
        machine: o.machine,
        memoryMiB: o.memoryMiB,
        sshPort: port,
        append: [`mountlab.authkey=${authkey}`],
        ...(tscKhz ? { tscKhz } : {}),
        runDir: o.runDir,
        name: `mountlab-${process.pid}`,
        instance,
      });
      try {
        await waitForBoot(qemu, o.bootTimeoutMs ?? (decision.accel === 'kvm' ? 30_000 : 120_000), signal);
        const consoleReadyMs = Date.now() - started;
        const ssh = await SshSession.connect({
          host: '127.0.0.1',
          port,
          privateKey: keys.private,
          hostKey: o.image.manifest.hostKey,
          readyTimeoutMs: 20_000,
        });
        const sshMs = Date.now() - started;
        let guest: GuestFacts;
        try {
          guest = await installLabctl(ssh, o.image);
        } catch (e) {
          await ssh[Symbol.asyncDispose]();
          throw e;
        }
        const facts = targetFacts('vm', guest, {
          readyMs: Date.now() - started,
          accel: decision.accel,
          bootMs: sshMs,
          image: o.image.id,
          ...(o.criuBuild ? { criuBuild: o.criuBuild } : {}),
        });
        const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
        o.log(
          `${instance > 1 ? `#${instance}: ` : ''}console ready ${seconds(consoleReadyMs)}, ` +
            `ssh ${seconds(sshMs)}, facts ${seconds(facts.readyMs)}`,
        );
        return new StartedVm(qemu, ssh, facts);
      } catch (e) {
        await qemu[Symbol.asyncDispose]();
        lastErr = e;
        // qemu binds the forwarded port itself; if another process took it
        // between our probe and qemu's bind, try again with a new port.
        if (/host forwarding rule|Could not set up host forwarding/i.test(qemu.errorOutput)) continue;
        throw e;
      }
    }
    throw lastErr instanceof Error ? lastErr : new TargetError(String(lastErr));
  }
}

async function waitForBoot(qemu: QemuProcess, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => ctl.abort(new TargetError(`the guest did not boot within ${timeoutMs / 1000} s`, qemu.console.tail())),
    timeoutMs,
  );
  qemu.exit.then(() =>
    ctl.abort(
      new TargetError(
        `qemu ${qemu.describeExit()} during boot${qemu.errorOutput ? `: ${qemu.errorOutput}` : ''}`,
        qemu.console.tail(),
      ),
    ),
  );
  try {
    const m = await qemu.console.waitFor([READY, ...BOOT_FAILED], 0, ctl.signal);
    if (!READY.test(m[0])) throw new TargetError(`the guest failed to boot: ${m[0].trim()}`, qemu.console.tail());
  } catch (e) {
    if (e instanceof MountlabError) throw e;
    if (signal.aborted) throw e;
    throw new TargetError(String(e), qemu.console.tail());
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** A booted VM with an open ssh connection, its facts read. Disposing it powers it off. */
export class StartedVm implements StartedTarget {
  private readonly helper: ServedHelper;

  constructor(
    private readonly qemu: QemuProcess,
    private readonly ssh: SshSession,
    readonly facts: Readonly<TargetFacts>,
  ) {
    this.helper = servedHelper(ssh, HELPER);
  }

  get alive(): boolean {
    return !this.qemu.hasExited && !this.ssh.isBroken;
  }

  exec(argv: readonly string[] | string, opts: ExecOptions): Promise<ExecResult> {
    return this.ssh.exec(argv, opts);
  }

  execHelper(args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    return this.helper.exec(args, opts);
  }

  writeFile(path: string, content: string | Buffer, mode?: string): Promise<void> {
    return this.ssh.writeFile(path, content, mode);
  }

  consoleMark(): number {
    return this.qemu.console.length;
  }

  consoleSince(mark: number): string {
    return this.qemu.console.since(mark);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.helper.close();
    await this.ssh[Symbol.asyncDispose]();
    await this.qemu[Symbol.asyncDispose]();
  }
}
