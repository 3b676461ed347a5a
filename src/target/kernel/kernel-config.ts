/**
 * Checking a user's kernel before booting it (`--kernel PATH/bzImage`).
 *
 * A kernel without virtio-mmio, ext4 or the CRIU options does not fail
 * cleanly: it hangs at boot (no root disk, no console) or every scenario
 * errors in CRIU. So the lab reads the kernel's configuration first and
 * refuses, naming every missing option and why the lab needs it.
 *
 * Where the configuration comes from, in this order:
 *   1. `configFile` (the `--kernel-config FILE` flag);
 *   2. a file beside the image: `<image>.config`, `config-<release>`,
 *      `config`, `.config` (a build tree's bzImage, Debian's /boot layout,
 *      the output of vm/kernel/build-from-source.sh);
 *   3. embedded in the image (CONFIG_IKCONFIG): the gzip blob between the
 *      markers `IKCFG_ST` and `IKCFG_ED`, inside the compressed payload of a
 *      bzImage (gzip with node's zlib; xz, zstd, lz4, bzip2, lzma, lzo with
 *      the host's commands) or directly in an uncompressed vmlinux.
 *
 * The requirements are one table, KERNEL_REQUIREMENTS, mirrored option for
 * option by vm/kernel/mountlab.config (the fragment users merge into their
 * own configuration).
 */
import { spawn } from 'node:child_process';
import { open, readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { BadInputError, PrerequisiteError, type InputProblem } from '../../errors.js';
import { isFile } from '../../paths.js';

// --- parsing ------------------------------------------------------------------

/** One `CONFIG_X=value` line: value as written ('y', 'm', '"text"', '42'). */
export interface KernelOption {
  value: string;
  /** 1-based line in the configuration text. */
  line: number;
}

/** A parsed .config: set options, plus the lines that say `# CONFIG_X is not set`. */
export interface ParsedKernelConfig {
  /** Set options by full name (`CONFIG_VIRTIO_MMIO`). */
  options: Map<string, KernelOption>;
  /** Options the file explicitly leaves unset, with their line. */
  unset: Map<string, number>;
  /** The kernel version in the header (`# Linux/x86 6.1.192 Kernel Configuration`), if any. */
  version: string | undefined;
}

export function parseKernelConfig(text: string): ParsedKernelConfig {
  const options = new Map<string, KernelOption>();
  const unset = new Map<string, number>();
  let version: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    let m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(l);
    if (m) {
      options.set(m[1]!, { value: m[2]!, line: i + 1 });
      unset.delete(m[1]!);
      continue;
    }
    m = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(l);
    if (m) {
      if (!options.has(m[1]!)) unset.set(m[1]!, i + 1);
      continue;
    }
    m = /^# Linux\/\S+ (\d+\.\d+(?:\.\d+)?\S*) Kernel Configuration$/.exec(l);
    if (m && version === undefined) version = m[1];
  }
  return { options, unset, version };
}

// --- the image ------------------------------------------------------------------

const BZ_HDR_MAGIC = 0x202; // "HdrS"
const BZ_VERSION = 0x206; // boot protocol version, u16
const BZ_SETUP_SECTS = 0x1f1;
const BZ_KERNEL_VERSION = 0x20e; // u16 pointer to the version string, minus 0x200
const BZ_PAYLOAD_OFFSET = 0x248; // u32, from the start of the protected-mode code (2.08+)
const BZ_PAYLOAD_LENGTH = 0x24c;

function isBzImage(b: Buffer): boolean {
  return b.length > 0x260 && b.toString('latin1', BZ_HDR_MAGIC, BZ_HDR_MAGIC + 4) === 'HdrS';
}

/** Where the bzImage's protected-mode code starts (setup sectors + the boot sector). */
function protectedModeStart(b: Buffer): number {
  return ((b[BZ_SETUP_SECTS] || 4) + 1) * 512;
}

/**
 * The kernel version string of an image: the bzImage header's pointer at
 * 0x20E (x86 boot protocol), or for an uncompressed vmlinux the
 * `Linux version ...` banner. E.g. `6.1.192-mountlab (root@host) #1 SMP ...`.
 */
export function kernelVersionString(image: Buffer): string | undefined {
  if (isBzImage(image)) {
    const ptr = image.readUInt16LE(BZ_KERNEL_VERSION);
    if (ptr !== 0) {
      const start = ptr + 0x200;
      const end = image.indexOf(0, start);
      if (start < image.length && end > start) return image.toString('latin1', start, Math.min(end, start + 512));
    }
    return undefined;
  }
  const at = image.indexOf('Linux version ');
  if (at < 0) return undefined;
  const end = image.indexOf(0, at);
  const s = image.toString('latin1', at + 'Linux version '.length, end < 0 ? at + 512 : Math.min(end, at + 512));
  return /^\d+\.\d+/.test(s) ? s.trim() : undefined;
}

/**
 * The release (`uname -r`) of a kernel image, e.g. `6.1.192-mountlab`: what
 * `--modules DIR/lib/modules/<release>` must match. Undefined when the file
 * carries no version string (not a kernel, or a very old one).
 */
export async function kernelRelease(imagePath: string): Promise<string | undefined> {
  // A bzImage's version string is in its setup code (at most 64 sectors):
  // the first 64 KiB do. A vmlinux needs a search of the whole file.
  let head: Buffer;
  try {
    const fh = await open(imagePath, 'r');
    try {
      head = Buffer.alloc(64 * 1024);
      head = head.subarray(0, (await fh.read(head, 0, head.length, 0)).bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    head = await readImage(imagePath); // throws the BadInputError
  }
  const v = kernelVersionString(isBzImage(head) ? head : await readImage(imagePath));
  return v?.split(/\s/)[0] || undefined;
}

async function readImage(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new BadInputError([{ file: '--kernel', line: 1, col: 1, path: '', message: `cannot read the kernel image ${path}: ${(e as Error).message}` }]);
  }
}

/** The compressed payload formats a bzImage can carry, by magic. */
export type Compression = 'gzip' | 'xz' | 'zstd' | 'lz4' | 'bzip2' | 'lzma' | 'lzo';

const MAGICS: { kind: Compression; magic: Buffer }[] = [
  { kind: 'gzip', magic: Buffer.from([0x1f, 0x8b, 0x08]) },
  { kind: 'xz', magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) },
  { kind: 'zstd', magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]) },
  { kind: 'lz4', magic: Buffer.from([0x02, 0x21, 0x4c, 0x18]) }, // the kernel's (legacy) lz4 frame
  { kind: 'bzip2', magic: Buffer.from('BZh', 'latin1') },
  { kind: 'lzma', magic: Buffer.from([0x5d, 0x00, 0x00]) },
  { kind: 'lzo', magic: Buffer.from([0x89, 0x4c, 0x5a, 0x4f]) },
];

/** The host command that decompresses each format to stdout, and its Debian package. */
const DECOMPRESSORS: Record<Exclude<Compression, 'gzip'>, { argv: string[]; pkg: string }> = {
  xz: { argv: ['xz', '-dcq'], pkg: 'xz-utils' },
  lzma: { argv: ['xz', '--format=lzma', '-dcq'], pkg: 'xz-utils' },
  zstd: { argv: ['zstd', '-dcq'], pkg: 'zstd' },
  lz4: { argv: ['lz4', '-dcq'], pkg: 'lz4' },
  bzip2: { argv: ['bzip2', '-dcq'], pkg: 'bzip2' },
  lzo: { argv: ['lzop', '-dcq'], pkg: 'lzop' },
};

function compressionOf(b: Buffer, at = 0): Compression | undefined {
  for (const { kind, magic } of MAGICS) {
    if (b.length >= at + magic.length && b.subarray(at, at + magic.length).equals(magic)) return kind;
  }
  return undefined;
}

/** Candidate payloads: the bzImage header's exact one, else every magic found (first few of each). */
function payloads(image: Buffer): { kind: Compression; data: Buffer }[] {
  if (isBzImage(image) && image.readUInt16LE(BZ_VERSION) >= 0x208) {
    const start = protectedModeStart(image) + image.readUInt32LE(BZ_PAYLOAD_OFFSET);
    const len = image.readUInt32LE(BZ_PAYLOAD_LENGTH);
    const kind = compressionOf(image, start);
    if (kind && len > 0 && start + len <= image.length) return [{ kind, data: image.subarray(start, start + len) }];
  }
  const found: { kind: Compression; data: Buffer; at: number }[] = [];
  for (const { kind, magic } of MAGICS) {
    // lzma's and bzip2's magics are short and common: only gzip, xz, zstd,
    // lz4 and lzo are scanned for outside a bzImage header.
    if (kind === 'lzma' || kind === 'bzip2') continue;
    let at = image.indexOf(magic);
    for (let n = 0; at >= 0 && n < 4; n++, at = image.indexOf(magic, at + 1)) found.push({ kind, data: image.subarray(at), at });
  }
  return found.sort((a, b) => a.at - b.at).map(({ kind, data }) => ({ kind, data }));
}

class MissingDecompressor extends Error {
  constructor(readonly kind: Compression, readonly command: string, readonly pkg: string) {
    super(`the kernel is ${kind}-compressed and '${command}' is not installed (Debian package: ${pkg})`);
  }
}

const MAX_DECOMPRESSED = 512 * 1024 * 1024;

/** Decompresses a payload; trailing garbage is tolerated (stdout is kept even if the tool complains). */
async function decompress(kind: Compression, data: Buffer): Promise<Buffer> {
  if (kind === 'gzip') {
    try {
      return gunzipSync(data, { maxOutputLength: MAX_DECOMPRESSED, finishFlush: zlibConstants.Z_SYNC_FLUSH /* a truncated stream gives what it has */ });
    } catch {
      return Buffer.alloc(0);
    }
  }
  const { argv, pkg } = DECOMPRESSORS[kind];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new MissingDecompressor(kind, argv[0]!, pkg));
      else reject(e);
    });
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_DECOMPRESSED) child.kill('SIGKILL');
      else chunks.push(d);
    });
    child.on('close', () => resolve(Buffer.concat(chunks)));
    child.stdin.on('error', () => {}); // EPIPE when the tool stops at the end of its stream
    child.stdin.end(data);
  });
}

const IKCFG_ST = Buffer.from('IKCFG_ST', 'latin1');
const IKCFG_ED = Buffer.from('IKCFG_ED', 'latin1');

/** The configuration text embedded with CONFIG_IKCONFIG in an uncompressed kernel, if any. */
export function extractIkconfig(kernel: Buffer): string | undefined {
  let st = kernel.indexOf(IKCFG_ST);
  while (st >= 0) {
    const from = st + IKCFG_ST.length;
    const ed = kernel.indexOf(IKCFG_ED, from);
    if (ed < 0) return undefined;
    if (compressionOf(kernel, from) === 'gzip') {
      try {
        return gunzipSync(kernel.subarray(from, ed)).toString('utf8');
      } catch {
        // Not the blob (the marker strings also occur in code): keep looking.
      }
    }
    st = kernel.indexOf(IKCFG_ST, from);
  }
  return undefined;
}

// --- finding the configuration ----------------------------------------------------

export type KernelConfigSource =
  | { kind: 'file'; path: string }
  | { kind: 'embedded'; image: string; compression: Compression | 'none' };

export interface KernelConfig extends ParsedKernelConfig {
  source: KernelConfigSource;
  /** The image's release (`uname -r`), when its header says. */
  release: string | undefined;
}

export interface ReadKernelConfigOptions {
  /** `--kernel-config FILE`: used as is, nothing else is looked at. */
  configFile?: string;
}

/** `describe(source)`: "/boot/config-6.1.0-13-amd64" or "embedded in bzImage (zstd)". */
export function describeConfigSource(s: KernelConfigSource): string {
  return s.kind === 'file' ? s.path : `embedded in ${s.image} (CONFIG_IKCONFIG${s.compression === 'none' ? '' : `, ${s.compression} payload`})`;
}

/** Files beside the image that may hold its configuration, most specific first. */
async function configFilesBeside(imagePath: string, release: string | undefined): Promise<string[]> {
  const dir = dirname(imagePath);
  const names = [`${basename(imagePath)}.config`];
  if (release) names.push(`config-${release}`);
  names.push('config', '.config');
  if (!release) {
    // No release to match: a single config-* beside it is taken.
    const cs = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('config-'));
    if (cs.length === 1) names.push(cs[0]!);
  }
  const out: string[] = [];
  for (const n of names) if (await isFile(join(dir, n))) out.push(join(dir, n));
  return out;
}

/** A generic name (`config`, `.config`) whose header names another kernel version than the image's. */
function versionMismatch(parsed: ParsedKernelConfig, release: string | undefined): boolean {
  if (!release || !parsed.version) return false;
  const base = (v: string) => /^\d+\.\d+(\.\d+)?/.exec(v)?.[0];
  return base(parsed.version) !== base(release);
}

export const KERNEL_CONFIG_HINT =
  'give mountlab the kernel configuration: build the kernel with CONFIG_IKCONFIG=y (embedded), ' +
  'or put its .config beside the image (as config-<release>, config, .config or <image>.config), ' +
  'or pass --kernel-config FILE';

/**
 * Finds and parses the configuration of the kernel image at `imagePath`
 * (bzImage or vmlinux). Throws BadInputError (exit 2) when there is none,
 * saying how to provide one, and PrerequisiteError when the embedded one is
 * behind a compression this host has no command for.
 */
export async function readKernelConfig(imagePath: string, opts: ReadKernelConfigOptions = {}): Promise<KernelConfig> {
  const image = await readImage(imagePath);
  const release = kernelVersionString(image)?.split(/\s/)[0] || undefined;

  if (opts.configFile !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.configFile, 'utf8');
    } catch (e) {
      throw new BadInputError([{ file: '--kernel-config', line: 1, col: 1, path: '', message: `cannot read ${opts.configFile}: ${(e as Error).message}` }]);
    }
    const parsed = parseKernelConfig(text);
    if (parsed.options.size === 0) {
      throw new BadInputError([{ file: opts.configFile, line: 1, col: 1, path: '', message: 'not a kernel configuration: no CONFIG_...= line' }]);
    }
    return { ...parsed, source: { kind: 'file', path: opts.configFile }, release };
  }

  const skipped: string[] = [];
  for (const path of await configFilesBeside(imagePath, release)) {
    const parsed = parseKernelConfig(await readFile(path, 'utf8'));
    if (parsed.options.size === 0) {
      skipped.push(`${path} (no CONFIG_ lines)`);
      continue;
    }
    if (versionMismatch(parsed, release) && !basename(path).startsWith('config-')) {
      skipped.push(`${path} (for Linux ${parsed.version}, the image is ${release})`);
      continue;
    }
    return { ...parsed, source: { kind: 'file', path }, release };
  }

  const direct = extractIkconfig(image);
  if (direct !== undefined) return { ...parseKernelConfig(direct), source: { kind: 'embedded', image: imagePath, compression: 'none' }, release };
  let missingTool: MissingDecompressor | undefined;
  for (const { kind, data } of payloads(image)) {
    let kernel: Buffer;
    try {
      kernel = await decompress(kind, data);
    } catch (e) {
      if (e instanceof MissingDecompressor) {
        missingTool ??= e;
        continue;
      }
      throw e;
    }
    const text = extractIkconfig(kernel);
    if (text !== undefined) return { ...parseKernelConfig(text), source: { kind: 'embedded', image: imagePath, compression: kind }, release };
    // Found and decompressed the kernel, and it has no IKCONFIG: stop.
    if (kernel.length > 1024 * 1024) break;
  }

  const notes = skipped.length ? ` (ignored: ${skipped.join('; ')})` : '';
  if (missingTool) {
    throw new PrerequisiteError(`cannot look for the configuration embedded in ${imagePath}: ${missingTool.message}${notes}`, {
      hint: `install ${missingTool.pkg}, or ${KERNEL_CONFIG_HINT.replace(/^give mountlab the kernel configuration: /, '')}`,
    });
  }
  throw new BadInputError(
    [{ file: '--kernel', line: 1, col: 1, path: '', message: `no configuration found for the kernel ${imagePath}${release ? ` (${release})` : ''}: none beside it and none embedded${notes}` }],
    KERNEL_CONFIG_HINT,
  );
}

// --- requirements ----------------------------------------------------------------

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

const R = (option: string, stage: RequirementStage, reason: string, extra: Partial<KernelRequirement> = {}): KernelRequirement => ({
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
  R('BINFMT_SCRIPT', 'kernel', "the initramfs /init and /sbin/mountlab-init are shell scripts"),
  R('SERIAL_8250', 'kernel', 'the console is the serial port ttyS0 (boot progress and MOUNTLAB-READY travel on it)'),
  R('SERIAL_8250_CONSOLE', 'kernel', 'the kernel console must be on ttyS0 (console=ttyS0)'),
  R('DEVTMPFS', 'kernel', 'the initramfs mounts /dev as devtmpfs (that is where /dev/vda appears)'),
  R('PROC_FS', 'kernel', 'the initramfs mounts /proc; every capture reads /proc/PID/mountinfo'),
  R('SYSFS', 'kernel', 'the initramfs mounts /sys'),
  R('TMPFS', 'kernel', 'the initramfs mounts /run as tmpfs; scenarios mount tmpfs everywhere'),
  R('VIRTIO_MMIO', 'initramfs', "microvm's devices (disk, network) are virtio-mmio", { machine: 'microvm' }),
  R('ACPI', 'kernel', "qemu describes microvm's virtio-mmio devices in ACPI tables (the lab leaves microvm's ACPI on)", { machine: 'microvm' }),
  R('VIRTIO_MMIO_CMDLINE_DEVICES', 'kernel', "microvm's virtio-mmio devices come on the command line (virtio_mmio.device=) only when qemu runs it with acpi=off", { ...REC, machine: 'microvm' }),
  R('VIRTIO_PCI', 'initramfs', "q35's devices (disk, network) are virtio-pci", { machine: 'q35' }),
  R('VIRTIO_BLK', 'initramfs', 'the root disk /dev/vda is a virtio block device'),
  R('EXT4_FS', 'initramfs', 'the root file system is ext4 (and ext4 scenarios mount loop images)'),
  R('VIRTIO_NET', 'initramfs', 'eth0 is virtio-net: the lab reaches the guest only by ssh over it'),
  R('NET', 'kernel', 'networking: sshd, and the netlink and diag sockets CRIU uses'),
  R('INET', 'kernel', 'sshd listens on TCP/IPv4'),
  R('UNIX', 'runtime', 'unix sockets: sshd and CRIU use them'),
  R('UNIX98_PTYS', 'kernel', 'ssh sessions and devpts mounts need /dev/pts'),
  R('PVH', 'kernel', 'the PVH entry point lets qemu boot the uncompressed vmlinux (faster under TCG); a bzImage boots without it', REC),
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
  R('MEM_SOFT_DIRTY', 'kernel', "soft-dirty tracking (`criu check` reports its absence)", REC),
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
  R('TMPFS_XATTR', 'kernel', 'the scenario root is an overlay whose upper layer is on tmpfs: overlayfs needs xattrs there'),
  R('OVERLAY_FS', 'runtime', 'the scenario root is an overlay of the guest\'s /'),
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
export function checkKernelConfig(config: ParsedKernelConfig & { release?: string | undefined }, opts: CheckKernelConfigOptions): KernelConfigProblem[] {
  const problems: KernelConfigProblem[] = [];
  const version = config.version ?? config.release;
  for (const r of KERNEL_REQUIREMENTS) {
    if (r.machine && opts.machine && r.machine !== opts.machine) continue;
    if (r.since && !versionAtLeast(version, r.since)) continue;
    const o = config.options.get(r.option);
    if (o?.value === 'y') continue;
    const p: KernelConfigProblem = { option: r.option, got: o ? o.value : 'not set', reason: r.reason, level: r.level, stage: r.stage };
    const line = o?.line ?? config.unset.get(r.option);
    if (line !== undefined) p.line = line;
    if (o?.value === 'm') {
      if (r.stage !== 'kernel' && opts.hasModulesDir) continue;
      p.note = r.stage === 'kernel' ? 'needed before any module can be loaded: must be =y' : 'a module, and no --modules DIR was given';
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
  'merge vm/kernel/mountlab.config into the kernel configuration (scripts/kconfig/merge_config.sh, then make olddefconfig) ' +
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
  const problems = checkKernelConfig(config, { hasModulesDir: opts.modulesDir !== undefined, ...(opts.machine ? { machine: opts.machine } : {}) });
  const required = problems.filter((p) => p.level === 'required');
  if (required.length > 0) {
    const file = config.source.kind === 'file' ? config.source.path : `${imagePath} (embedded config)`;
    const head: InputProblem = {
      file: '--kernel',
      line: 1,
      col: 1,
      path: '',
      message: `the kernel ${imagePath}${config.release ? ` (${config.release})` : ''} lacks ${required.length} option${required.length === 1 ? '' : 's'} the lab needs (config: ${describeConfigSource(config.source)})`,
    };
    const each: InputProblem[] = required.map((p) => ({ file, line: p.line ?? 1, col: 1, path: '', message: formatKernelConfigProblem(p) }));
    throw new BadInputError([head, ...each], KERNEL_FRAGMENT_HINT);
  }
  return { release: config.release, config, warnings: problems };
}
