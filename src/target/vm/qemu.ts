import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsoleLog } from './console.js';
import type { VmImage } from './image.js';

export type Accel = 'kvm' | 'tcg';
export type MachineType = 'q35' | 'microvm';

export interface QemuSpec {
  image: VmImage;
  accel: Accel;
  machine: MachineType;
  memoryMiB: number;
  sshPort: number;
  /** microvm only: the host's TSC rate; without it the guest can hang calibrating. */
  tscKhz?: number;
  /** Extra kernel arguments, e.g. the per-run authorized key. */
  append: string[];
  runDir: string;
  name: string;
  /**
   * Which boot of this cell in the run: VMs of one cell may run at once
   * (-j) or one after another, and each needs its own console log and
   * temporary directory. The first keeps the plain names.
   */
  instance?: number;
  /**
   * A QMP socket (unix path) for this VM; off by default. Only the
   * saved-state bench (bench/saved-state.ts) uses it, to stop and migrate
   * a guest to a file.
   */
  qmpSocket?: string;
}

function instanceSuffix(spec: QemuSpec): string {
  return spec.instance && spec.instance > 1 ? `-${spec.instance}` : '';
}

/** The host's TSC rate in kHz, from /proc/cpuinfo; undefined if unknown. */
export function hostTscKhz(cpuinfo = readCpuinfo()): number | undefined {
  const mhz = cpuinfo.match(/^cpu MHz\s*:\s*([\d.]+)/m);
  return mhz ? Math.round(Number(mhz[1]) * 1000) : undefined;
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** qemu's argv for a guest; kept pure so tests can pin it. */
export function qemuArgs(spec: QemuSpec): string[] {
  const micro = spec.machine === 'microvm';
  const cmdline = [
    'console=ttyS0',
    'root=/dev/vda',
    'rw',
    ...(spec.image.modules ? ['mountlab.modules=/dev/vdb'] : []),
    // virtio disks are named in the order they are attached (below).
    ...(spec.image.criuDisk ? [`mountlab.criu=/dev/vd${spec.image.modules ? 'c' : 'b'}`] : []),
    // A panic must end the VM (with -no-reboot) instead of hanging CI.
    'panic=-1',
    'net.ifnames=0',
    'quiet',
    'loglevel=4',
    // microvm has no PIT/HPET to calibrate against; give the rate outright.
    ...(micro && spec.tscKhz ? ['tsc=reliable', `tsc_early_khz=${spec.tscKhz}`] : []),
    ...spec.append,
  ].filter(Boolean);
  const accel = spec.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,tb-size=64', '-cpu', 'max'];
  return [
    '-name',
    spec.name,
    '-nodefaults',
    '-no-user-config',
    '-no-reboot',
    '-display',
    'none',
    '-machine',
    micro ? 'microvm,rtc=on' : 'q35',
    ...accel,
    '-m',
    String(spec.memoryMiB),
    '-smp',
    '1',
    // microvm boots the uncompressed kernel through its PVH entry point,
    // skipping decompression (slow under TCG); q35 takes the bzImage.
    '-kernel',
    micro && spec.image.vmlinux ? spec.image.vmlinux : spec.image.kernel,
    '-initrd',
    spec.image.initrd,
    '-append',
    cmdline.join(' '),
    '-drive',
    `file=${spec.image.rootfs},format=raw,if=none,id=disk0,snapshot=on`,
    '-device',
    micro ? 'virtio-blk-device,drive=disk0' : 'virtio-blk-pci,drive=disk0',
    // The kernel's modules, read-only, shared by every VM of that kernel.
    ...(spec.image.modules
      ? [
          '-drive',
          `file=${spec.image.modules},format=raw,if=none,id=disk1,readonly=on`,
          '-device',
          micro ? 'virtio-blk-device,drive=disk1' : 'virtio-blk-pci,drive=disk1',
        ]
      : []),
    ...(spec.image.criuDisk
      ? [
          '-drive',
          `file=${spec.image.criuDisk},format=raw,if=none,id=disk2,readonly=on`,
          '-device',
          micro ? 'virtio-blk-device,drive=disk2' : 'virtio-blk-pci,drive=disk2',
        ]
      : []),
    // restrict=on: the guest reaches nothing but the forwarded port's host side.
    '-netdev',
    `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${spec.sshPort}-:22`,
    '-device',
    micro ? 'virtio-net-device,netdev=net0' : 'virtio-net-pci,netdev=net0',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    ...(spec.qmpSocket ? ['-qmp', `unix:${spec.qmpSocket},server=on,wait=off`] : []),
  ];
}

/**
 * A running qemu. It is started under `setpriv --pdeathsig SIGKILL`, so the
 * kernel kills it if this process dies for any reason, SIGKILL included.
 */
export class QemuProcess implements AsyncDisposable {
  readonly console: ConsoleLog;
  private readonly child: ChildProcess;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;
  private stderr = '';

  private constructor(
    spec: QemuSpec,
    private readonly tmpDir: string,
  ) {
    this.console = new ConsoleLog(join(spec.runDir, `console${instanceSuffix(spec)}.log`));
    const args = ['--pdeathsig', 'SIGKILL', '--', 'qemu-system-x86_64', ...qemuArgs(spec)];
    // snapshot=on puts its temporary overlay in TMPDIR; keep it in the run's own dir.
    this.child = spawn('setpriv', args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmpDir } });
    this.child.stdout!.on('data', (d: Buffer) => this.console.append(d));
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
    });
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
      this.child.on('error', (e) => {
        this.stderr += `\n${e.message}`;
        this.exited = { code: -1, signal: null };
        resolve();
      });
    });
  }

  static async start(spec: QemuSpec): Promise<QemuProcess> {
    const tmp = join(spec.runDir, `qemu-tmp${instanceSuffix(spec)}`);
    await mkdir(tmp, { recursive: true });
    return new QemuProcess(spec, tmp);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exited !== undefined;
  }

  get errorOutput(): string {
    return this.stderr.trim();
  }

  /** Resolves when qemu exits; never rejects. */
  get exit(): Promise<void> {
    return this.exitPromise;
  }

  describeExit(): string {
    if (!this.exited) return 'running';
    return this.exited.signal ? `killed by ${this.exited.signal}` : `exited with code ${this.exited.code}`;
  }

  private disposing: Promise<void> | undefined;

  /**
   * Stops qemu and removes its temporary files. Idempotent: a VM that failed
   * half-way is disposed both by its StartedVm and by the start() that made
   * it, and both must wait for the same shutdown.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.disposing ??= (async () => {
      if (!this.exited) {
        this.child.kill('SIGTERM');
        const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
        await this.exitPromise;
        clearTimeout(timer);
      }
      await this.console.close();
      await rm(this.tmpDir, { recursive: true, force: true });
    })();
    return this.disposing;
  }
}
