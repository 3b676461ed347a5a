/**
 * What a kernel needs to serve as the lab's guest, and the check of a
 * user's kernel (`--kernel PATH/bzImage`) before booting it. A kernel
 * without virtio-mmio, ext4 or the CRIU options does not fail cleanly: it
 * hangs at boot (no root disk, no console) or every scenario errors in
 * CRIU. So the lab reads the kernel's configuration first and refuses,
 * naming every missing option and why the lab needs it.
 *
 * The requirements are one table, KERNEL_REQUIREMENTS, mirrored option for
 * option by vm/kernel/mountlab.config (the fragment users merge into their
 * own configuration).
 */
import { BadInputError, type InputProblem } from '../../errors.js';
import {
  describeConfigSource,
  readKernelConfig,
  type KernelConfig,
  type ParsedKernelConfig,
  type ReadKernelConfigOptions,
} from './kernel-config.js';

/**
 * When the option is needed, which decides whether `=m` can do:
 * - `kernel`: before any module can be loaded (console, initramfs, devtmpfs):
 *   must be `=y`;
 * - `initramfs`: to mount the root disk / reach the network; `=m` is enough
 *   when modules are given (`--modules DIR`): the lab's initramfs loads them;
 * - `runtime`: after the root is mounted; `=m` is enough when modules are
 *   given (the guest's kmod loads them on demand).
 */
export type RequirementStage = 'kernel' | 'initramfs' | 'runtime';

export interface KernelRequirement {
  /** Full option name, `CONFIG_...`. */
  option: string;
  /** Why the lab needs it, one sentence for the error message. */
  reason: string;
  stage: RequirementStage;
  /**
   * `required`: the kernel is refused without it. `recommended`: a warning
   * (CRIU features outside the mount-namespace scenarios, faster boot paths).
   */
  level: 'required' | 'recommended';
  /** Only for this qemu machine type (microvm: virtio-mmio; q35: virtio-pci). */
  machine?: 'microvm' | 'q35';
  /** The option exists from this kernel version on (before it, nothing to check). */
  since?: string;
}

const R = (
  option: string,
  stage: RequirementStage,
  reason: string,
  extra: Partial<KernelRequirement> = {},
): KernelRequirement => ({
  option: `CONFIG_${option}`,
  reason,
  stage,
  level: 'required',
  ...extra,
});
const REC = { level: 'recommended' } as const;

/**
 * What a kernel needs to boot as the lab's guest and run the scenarios.
 * vm/kernel/mountlab.config sets every one of these to `=y`.
 */
export const KERNEL_REQUIREMENTS: readonly KernelRequirement[] = [
  // Booting: console, initramfs, disk, network.
  R('BLK_DEV_INITRD', 'kernel', 'the lab boots through its own initramfs (-initrd)'),
  R('RD_GZIP', 'kernel', "the lab's initramfs is gzip-compressed"),
  R('BINFMT_ELF', 'kernel', 'every program of the guest is an ELF binary'),
  R('BINFMT_SCRIPT', 'kernel', 'the initramfs /init and /sbin/mountlab-init are shell scripts'),
  R('SERIAL_8250', 'kernel', 'the console is the serial port ttyS0 (boot progress and MOUNTLAB-READY travel on it)'),
  R('SERIAL_8250_CONSOLE', 'kernel', 'the kernel console must be on ttyS0 (console=ttyS0)'),
  R('DEVTMPFS', 'kernel', 'the initramfs mounts /dev as devtmpfs (that is where /dev/vda appears)'),
  R('PROC_FS', 'kernel', 'the initramfs mounts /proc; every capture reads /proc/PID/mountinfo'),
  R('SYSFS', 'kernel', 'the initramfs mounts /sys'),
  R('TMPFS', 'kernel', 'the initramfs mounts /run as tmpfs; scenarios mount tmpfs everywhere'),
  R('VIRTIO_MMIO', 'initramfs', "microvm's devices (disk, network) are virtio-mmio", { machine: 'microvm' }),
  R(
    'ACPI',
    'kernel',
    "qemu describes microvm's virtio-mmio devices in ACPI tables (the lab leaves microvm's ACPI on)",
    { machine: 'microvm' },
  ),
  R(
    'VIRTIO_MMIO_CMDLINE_DEVICES',
    'kernel',
    "microvm's virtio-mmio devices come on the command line (virtio_mmio.device=) only when qemu runs it with acpi=off",
    { ...REC, machine: 'microvm' },
  ),
  R('VIRTIO_PCI', 'initramfs', "q35's devices (disk, network) are virtio-pci", { machine: 'q35' }),
  R('VIRTIO_BLK', 'initramfs', 'the root disk /dev/vda is a virtio block device'),
  R('EXT4_FS', 'initramfs', 'the root file system is ext4 (and ext4 scenarios mount loop images)'),
  R('VIRTIO_NET', 'initramfs', 'eth0 is virtio-net: the lab reaches the guest only by ssh over it'),
  R('NET', 'kernel', 'networking: sshd, and the netlink and diag sockets CRIU uses'),
  R('INET', 'kernel', 'sshd listens on TCP/IPv4'),
  R('UNIX', 'runtime', 'unix sockets: sshd and CRIU use them'),
  R('UNIX98_PTYS', 'kernel', 'ssh sessions and devpts mounts need /dev/pts'),
  R(
    'PVH',
    'kernel',
    'the PVH entry point lets qemu boot the uncompressed vmlinux (faster under TCG); a bzImage boots without it',
    REC,
  ),
  // Namespaces.
  R('NAMESPACES', 'kernel', 'each scenario runs in fresh namespaces'),
  R('UTS_NS', 'kernel', 'CRIU dumps the uts namespace; scenarios unshare it'),
  R('IPC_NS', 'kernel', 'CRIU dumps the ipc namespace; scenarios unshare it'),
  R('PID_NS', 'kernel', 'the scenario tree is the init of its own pid namespace'),
  R('NET_NS', 'kernel', 'CRIU requires network namespaces (criu.org/Linux_kernel)'),
  R('USER_NS', 'kernel', 'user-namespace scenarios; CRIU dumps user namespaces'),
  R('TIME_NS', 'kernel', 'CRIU checkpoints time namespaces', { ...REC, since: '5.6' }),
  // CRIU (criu.org/Linux_kernel and what `criu check` probes).
  R('CHECKPOINT_RESTORE', 'kernel', "CRIU's kernel side: prctl(PR_SET_MM), /proc/PID/map_files, clone3 set_tid"),
  R('KCMP', 'kernel', 'CRIU compares files, memory and fs of tasks with kcmp()', { since: '5.12' }),
  R('FHANDLE', 'kernel', 'CRIU needs open_by_handle_at (notify marks, mnt ids)'),
  R('EVENTFD', 'kernel', 'CRIU requires eventfd (criu.org/Linux_kernel)'),
  R('EPOLL', 'kernel', 'CRIU requires epoll (criu.org/Linux_kernel)'),
  R('INOTIFY_USER', 'kernel', 'inotify watches are dumped and restored'),
  R('FANOTIFY', 'kernel', 'fanotify marks are dumped and restored', REC),
  R('PROC_PAGE_MONITOR', 'kernel', 'CRIU reads /proc/PID/pagemap to dump memory'),
  R('MEM_SOFT_DIRTY', 'kernel', 'soft-dirty tracking (`criu check` reports its absence)', REC),
  R('USERFAULTFD', 'kernel', "CRIU's lazy pages", REC),
  R('UNIX_DIAG', 'runtime', 'CRIU finds the unix sockets of a tree through sock_diag'),
  R('INET_DIAG', 'runtime', 'CRIU finds the inet sockets of a tree through sock_diag'),
  R('INET_UDP_DIAG', 'runtime', 'UDP sockets through sock_diag (criu.org/Linux_kernel)', REC),
  R('PACKET_DIAG', 'runtime', 'CRIU requires packet socket diag (criu.org/Linux_kernel)'),
  R('NETLINK_DIAG', 'runtime', 'CRIU requires netlink socket diag (criu.org/Linux_kernel)'),
  R('NETFILTER_XT_MARK', 'runtime', "CRIU's network lock uses iptables' MARK (criu.org/Linux_kernel)", REC),
  R('TUN', 'runtime', '`criu check` probes tun devices', REC),
  R('CGROUPS', 'kernel', 'cgroup2 scenarios; CRIU dumps cgroup membership'),
  R('MEMCG', 'kernel', 'the memory controller (criu.org lists it for its tests)', REC),
  // File systems the scenarios mount.
  R(
    'TMPFS_XATTR',
    'kernel',
    'the scenario root is an overlay whose upper layer is on tmpfs: overlayfs needs xattrs there',
  ),
  R('OVERLAY_FS', 'runtime', "the scenario root is an overlay of the guest's /"),
  R('POSIX_MQUEUE', 'kernel', 'mqueue mounts'),
  R('SYSVIPC', 'kernel', 'ipc namespaces and their System V objects'),
  R('BLK_DEV_LOOP', 'runtime', 'ext2/3/4 scenarios mount a loop image'),
  R('FUSE_FS', 'runtime', 'fusectl mounts (LXC-like scenario)'),
  R('DEBUG_FS', 'kernel', 'debugfs mounts (LXC-like scenario)'),
  R('SECURITYFS', 'kernel', 'securityfs mounts (LXC-like scenario)'),
  R('PSTORE', 'runtime', 'pstore mounts (LXC-like scenario)'),
  R('AUTOFS_FS', 'runtime', 'autofs mounts (CRIU handles them)', REC),
];

export interface KernelConfigProblem {
  option: string;
  /** What the configuration says: 'y' is never here; 'm', another value, or 'not set'. */
  got: string;
  reason: string;
  level: 'required' | 'recommended';
  stage: RequirementStage;
  /** Line of the option (or its `# ... is not set`) in the configuration, when there is one. */
  line?: number;
  /** Why `=m` does not do, when got is 'm'. */
  note?: string;
}

export interface CheckKernelConfigOptions {
  /** `--modules DIR` was given: `=m` is enough for initramfs and runtime options. */
  hasModulesDir: boolean;
  /** Check only this machine's options; all machines when undefined. */
  machine?: 'microvm' | 'q35';
}

function versionAtLeast(v: string | undefined, min: string): boolean {
  if (!v) return true; // unknown: assume new enough, i.e. check
  const a = v.split(/[^\d]+/).map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i]!;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * Every requirement the configuration does not meet, required ones first,
 * in table order. Empty: the kernel has everything.
 */
export function checkKernelConfig(
  config: ParsedKernelConfig & { release?: string | undefined },
  opts: CheckKernelConfigOptions,
): KernelConfigProblem[] {
  const problems: KernelConfigProblem[] = [];
  const version = config.version ?? config.release;
  for (const r of KERNEL_REQUIREMENTS) {
    if (r.machine && opts.machine && r.machine !== opts.machine) continue;
    if (r.since && !versionAtLeast(version, r.since)) continue;
    const o = config.options.get(r.option);
    if (o?.value === 'y') continue;
    const p: KernelConfigProblem = {
      option: r.option,
      got: o ? o.value : 'not set',
      reason: r.reason,
      level: r.level,
      stage: r.stage,
    };
    const line = o?.line ?? config.unset.get(r.option);
    if (line !== undefined) p.line = line;
    if (o?.value === 'm') {
      if (r.stage !== 'kernel' && opts.hasModulesDir) continue;
      p.note =
        r.stage === 'kernel'
          ? 'needed before any module can be loaded: must be =y'
          : 'a module, and no --modules DIR was given';
    }
    problems.push(p);
  }
  return problems.sort((a, b) => (a.level === b.level ? 0 : a.level === 'required' ? -1 : 1));
}

/** One line per problem: `CONFIG_VIRTIO_MMIO is not set: microvm's devices ...`. */
export function formatKernelConfigProblem(p: KernelConfigProblem): string {
  const got = p.got === 'not set' ? 'is not set' : `=${p.got}${p.note ? ` (${p.note})` : ''}`;
  return `${p.option} ${got}: ${p.reason}`;
}

export const KERNEL_FRAGMENT_HINT =
  'merge vm/kernel/mountlab.config into the kernel configuration ' +
  '(scripts/kconfig/merge_config.sh, then make olddefconfig) ' +
  'and rebuild, or build one with vm/kernel/build-from-source.sh';

export interface CheckedKernel {
  release: string | undefined;
  config: KernelConfig;
  /** Recommended options that are missing: worth a warning, not a refusal. */
  warnings: KernelConfigProblem[];
}

/**
 * What `--kernel PATH` does before booting: reads the image's configuration
 * and refuses the kernel (BadInputError, exit 2) when a required option is
 * missing, with one line per option, positioned in the configuration file
 * when it came from one. Returns the release, the configuration and the
 * recommended options that are missing.
 */
export async function checkUserKernel(
  imagePath: string,
  opts: ReadKernelConfigOptions & { modulesDir?: string; machine?: 'microvm' | 'q35' } = {},
): Promise<CheckedKernel> {
  const config = await readKernelConfig(imagePath, opts);
  const problems = checkKernelConfig(config, {
    hasModulesDir: opts.modulesDir !== undefined,
    ...(opts.machine ? { machine: opts.machine } : {}),
  });
  const required = problems.filter((p) => p.level === 'required');
  if (required.length > 0) {
    const file = config.source.kind === 'file' ? config.source.path : `${imagePath} (embedded config)`;
    const head: InputProblem = {
      file: '--kernel',
      line: 1,
      col: 1,
      path: '',
      message:
        `the kernel ${imagePath}${config.release ? ` (${config.release})` : ''} ` +
        `lacks ${required.length} option${required.length === 1 ? '' : 's'} the lab needs ` +
        `(config: ${describeConfigSource(config.source)})`,
    };
    const each: InputProblem[] = required.map((p) => ({
      file,
      line: p.line ?? 1,
      col: 1,
      path: '',
      message: formatKernelConfigProblem(p),
    }));
    throw new BadInputError([head, ...each], KERNEL_FRAGMENT_HINT);
  }
  return { release: config.release, config, warnings: problems };
}
