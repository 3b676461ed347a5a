/**
 * mount(8)-style option strings ("ro,nosuid,size=1m") read the way the
 * guest's mount(8) reads them: util-linux 2.41 (Debian trixie), whose
 * libmount uses the new mount API on every guest kernel of the matrix
 * (>= 5.14). The executor builds with direct syscalls what `mount -o ...`
 * built, so every decision here follows libmount's code (libmount/src/
 * optmap.c, optlist.c, hook_mount.c, context.c, context_mount.c at v2.41):
 *
 * - Parsing (lib/strutils.c ul_optstr_next): items split at commas, empty
 *   items skipped, the name ends at the first '='. Quotes and backslashes
 *   (libmount's "\," escape) are not handled here: such a string goes to
 *   mount(8) itself (see `nativeReason`).
 * - Lookup (optmap.c): libmount's Linux map, then its userspace map; any
 *   other name is the filesystem's own option.
 * - Merging (optlist.c mnt_optlist_merge_opts, run for every mount): the
 *   last instance of an option wins; an earlier equal option (same name and
 *   value) or an earlier inverse (same flag, one of them inverted, e.g. ro
 *   then rw) is dropped. `size=1m,size=2m` keeps both, in order: the kernel
 *   takes the last.
 * - Per-mount flags (optlist.c mnt_optlist_get_attrs): MOUNT_ATTR_* set and
 *   clear masks, as mount_setattr(2) takes them. The atime options are one
 *   choice: the last of relatime/noatime/strictatime wins; an inverted one
 *   (atime, norelatime, nostrictatime) only says "an atime option was
 *   given", which means relatime when no positive one follows.
 * - A new filesystem (hook_mount.c hook_create_mount) gets ro/rw and the
 *   superblock flags (sync, dirsync, mand, lazytime) through fsconfig, the
 *   per-mount flags through mount_setattr on the detached mount, then is
 *   attached. The executor does the same (vm/helper/plan-run.c new_mount),
 *   from mount(2)-style flags and data: MS_RDONLY is "ro" in both calls,
 *   the data string is split at commas into one fsconfig per option. Not
 *   one mount(2): it refuses a filesystem stacked on the root of a mount
 *   of its own superblock (sysfs on /sys), which mount(8) builds.
 *   silent/loud and iversion/noiversion are in the Linux map but
 *   hook_mount.c passes them to no syscall, so they are dropped here too.
 * - A bind with per-mount flags (`-o bind,ro`) is one open_tree(CLONE) +
 *   mount_setattr + move_mount in libmount: the flags are set before the
 *   clone is attached, so the copies propagation makes are ro too (the
 *   classic two mount(2) calls left them rw). See the `bind` op of
 *   program.ts.
 * - Propagation options (shared, rslave, ...) are applied after the mount
 *   is attached, in order (hook_set_propagation).
 * - remount: see the executor (vm/helper/mount-options.c). mount(8)
 *   prepends the options of the target's /etc/fstab entry, else of its
 *   mountinfo line, which only the guest knows; the program carries the
 *   user's options and the helper merges them there, with the same tables.
 *
 * Older guests: bookworm images have util-linux 2.38, whose libmount
 * calls mount(2) only. There a remount is one MS_REMOUNT[|MS_BIND] with
 * the merged flags; since mount(8) prepends the mount's own options from
 * mountinfo there too, it changes what 2.41 changes (every corpus
 * scenario that builds on a 2.38 host captured equal both ways; the
 * others failed at the same step both ways). The one difference
 * left is `-o bind,FLAGS`: 2.38 binds, then remounts the bind, so the
 * copies propagation made keep the source's flags.
 *
 * Anything these rules do not cover (options that act in userspace: user,
 * owner, loop=, offset=, X-mount.*, helper=, verity.*; a Linux option with
 * a value such as ro=vfs or nosuid=recursive; remount or move inside a
 * mount's options) makes the step exec mount(8) with an argv vector, as
 * today: `nativeReason` says why.
 */

/** mount(2) flags (linux/mount.h). */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  I_VERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

/** mount_setattr(2) attributes (linux/mount.h). RELATIME is 0: it is the absence of the other two. */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

export type PropagationType = 'shared' | 'slave' | 'private' | 'unbindable';

/** How libmount's maps classify one option name. */
export type OptionKind =
  /** A per-mount flag mount_setattr knows: ro, nosuid, noatime, ... */
  | 'vfs'
  /** A superblock flag the new API passes through fsconfig: sync, dirsync, mand, lazytime (and inverses). */
  | 'superblock'
  | 'propagation'
  /** bind, rbind, remount, move: which operation mount(8) performs. */
  | 'operation'
  /** In a map but passed to no syscall by libmount 2.41: defaults, auto, nofail, x-*, silent, iversion, ... */
  | 'ignored'
  /** Acts in userspace (loop devices, permissions, helpers, hooks): left to mount(8) itself. */
  | 'userspace-action'
  /** Not in libmount's maps: the filesystem's own option, passed to the kernel as is. */
  | 'filesystem';

interface MapEntry {
  /** libmount's pattern: a name, `name=` (takes a value), `name[=]` (may take one), or a prefix. */
  pattern: string;
  kind: OptionKind;
  /** Which map: options of different maps are never equal or inverse. */
  map: 'linux' | 'userspace';
  /** The flag the entry is about (MS_* for the Linux map; a private number per flag in the userspace map). */
  id: number;
  invert?: boolean;
  prefix?: boolean;
  /** vfs: the MOUNT_ATTR_* bit; propagation: the type. */
  attr?: number;
  propagation?: PropagationType;
}

const L = (pattern: string, kind: OptionKind, id: number, extra: Partial<MapEntry> = {}): MapEntry => ({
  pattern,
  kind,
  map: 'linux',
  id,
  ...extra,
});
const U = (pattern: string, kind: OptionKind, id: number, extra: Partial<MapEntry> = {}): MapEntry => ({
  pattern,
  kind,
  map: 'userspace',
  id,
  ...extra,
});

/**
 * libmount's linux_flags_map (optmap.c), in its order, without sub/nosub
 * (MS_NOSUB is defined by no libc, so the guest's libmount lacks them: they
 * are filesystem options there too).
 */
const LINUX_MAP: MapEntry[] = [
  L('ro', 'vfs', MS.RDONLY, { attr: MOUNT_ATTR.RDONLY }),
  L('rw', 'vfs', MS.RDONLY, { attr: MOUNT_ATTR.RDONLY, invert: true }),
  L('exec', 'vfs', MS.NOEXEC, { attr: MOUNT_ATTR.NOEXEC, invert: true }),
  L('noexec', 'vfs', MS.NOEXEC, { attr: MOUNT_ATTR.NOEXEC }),
  L('suid', 'vfs', MS.NOSUID, { attr: MOUNT_ATTR.NOSUID, invert: true }),
  L('nosuid', 'vfs', MS.NOSUID, { attr: MOUNT_ATTR.NOSUID }),
  L('dev', 'vfs', MS.NODEV, { attr: MOUNT_ATTR.NODEV, invert: true }),
  L('nodev', 'vfs', MS.NODEV, { attr: MOUNT_ATTR.NODEV }),
  L('sync', 'superblock', MS.SYNCHRONOUS),
  L('async', 'superblock', MS.SYNCHRONOUS, { invert: true }),
  L('dirsync', 'superblock', MS.DIRSYNC),
  L('remount', 'operation', MS.REMOUNT),
  L('bind', 'operation', MS.BIND),
  L('rbind', 'operation', MS.BIND | MS.REC),
  L('silent', 'ignored', MS.SILENT),
  L('loud', 'ignored', MS.SILENT, { invert: true }),
  L('mand', 'superblock', MS.MANDLOCK),
  L('nomand', 'superblock', MS.MANDLOCK, { invert: true }),
  L('atime', 'vfs', MS.NOATIME, { attr: MOUNT_ATTR.NOATIME, invert: true }),
  L('noatime', 'vfs', MS.NOATIME, { attr: MOUNT_ATTR.NOATIME }),
  L('iversion', 'ignored', MS.I_VERSION),
  L('noiversion', 'ignored', MS.I_VERSION, { invert: true }),
  L('diratime', 'vfs', MS.NODIRATIME, { attr: MOUNT_ATTR.NODIRATIME, invert: true }),
  L('nodiratime', 'vfs', MS.NODIRATIME, { attr: MOUNT_ATTR.NODIRATIME }),
  L('relatime', 'vfs', MS.RELATIME, { attr: MOUNT_ATTR.RELATIME }),
  L('norelatime', 'vfs', MS.RELATIME, { attr: MOUNT_ATTR.RELATIME, invert: true }),
  L('strictatime', 'vfs', MS.STRICTATIME, { attr: MOUNT_ATTR.STRICTATIME }),
  L('nostrictatime', 'vfs', MS.STRICTATIME, { attr: MOUNT_ATTR.STRICTATIME, invert: true }),
  L('lazytime', 'superblock', MS.LAZYTIME),
  L('nolazytime', 'superblock', MS.LAZYTIME, { invert: true }),
  L('unbindable', 'propagation', MS.UNBINDABLE, { propagation: 'unbindable' }),
  L('runbindable', 'propagation', MS.UNBINDABLE | MS.REC, { propagation: 'unbindable' }),
  L('private', 'propagation', MS.PRIVATE, { propagation: 'private' }),
  L('rprivate', 'propagation', MS.PRIVATE | MS.REC, { propagation: 'private' }),
  L('slave', 'propagation', MS.SLAVE, { propagation: 'slave' }),
  L('rslave', 'propagation', MS.SLAVE | MS.REC, { propagation: 'slave' }),
  L('shared', 'propagation', MS.SHARED, { propagation: 'shared' }),
  L('rshared', 'propagation', MS.SHARED | MS.REC, { propagation: 'shared' }),
  L('symfollow', 'vfs', MS.NOSYMFOLLOW, { attr: MOUNT_ATTR.NOSYMFOLLOW, invert: true }),
  L('nosymfollow', 'vfs', MS.NOSYMFOLLOW, { attr: MOUNT_ATTR.NOSYMFOLLOW }),
  L('move', 'operation', MS.MOVE),
];

/**
 * libmount's userspace_opts_map (optmap.c). The ids are private numbers
 * (one per MNT_MS_* flag), used only to pair an option with its inverse.
 * As root, user/users add nosuid,nodev,noexec and owner/group nosuid,nodev
 * (context_mount.c evaluate_permissions): userspace actions too.
 */
const USERSPACE_MAP: MapEntry[] = [
  U('defaults', 'ignored', 0),
  U('auto', 'ignored', 1, { invert: true }),
  U('noauto', 'ignored', 1),
  U('user[=]', 'userspace-action', 2),
  U('nouser', 'ignored', 2, { invert: true }),
  U('users', 'userspace-action', 3),
  U('nousers', 'ignored', 3, { invert: true }),
  U('owner', 'userspace-action', 4),
  U('noowner', 'ignored', 4, { invert: true }),
  U('group', 'userspace-action', 5),
  U('nogroup', 'ignored', 5, { invert: true }),
  U('_netdev', 'ignored', 6),
  U('comment=', 'ignored', 7),
  // x-mount.* and X-mount.* drive libmount's hooks (mkdir, subdir, owner, idmap, noloop).
  U('x-', 'ignored', 8, { prefix: true }),
  U('X-', 'ignored', 9, { prefix: true }),
  U('loop[=]', 'userspace-action', 10),
  U('offset=', 'userspace-action', 11),
  U('sizelimit=', 'userspace-action', 12),
  U('encryption=', 'userspace-action', 13),
  U('nofail', 'ignored', 14),
  U('uhelper=', 'ignored', 15),
  U('helper=', 'userspace-action', 16),
  ...[
    'verity.hashdevice=',
    'verity.roothash=',
    'verity.hashoffset=',
    'verity.roothashfile=',
    'verity.fecdevice=',
    'verity.fecoffset=',
    'verity.fecroots=',
    'verity.roothashsig=',
    'verity.oncorruption=',
  ].map((p, i) => U(p, 'userspace-action', 17 + i)),
];

/** One item of an option string, classified. */
export interface MountOption {
  name: string;
  /** undefined: no '='; '' for `name=`. */
  value?: string;
  kind: OptionKind;
  entry?: MapEntry;
}

/** Looks a name up as mnt_optmap_get_entry does: the Linux map first, then the userspace map. */
export function lookupOption(name: string): MapEntry | undefined {
  for (const map of [LINUX_MAP, USERSPACE_MAP]) {
    for (const e of map) {
      if (e.prefix) {
        if (name.startsWith(e.pattern)) return e;
        continue;
      }
      if (!e.pattern.startsWith(name)) continue;
      const rest = e.pattern.slice(name.length);
      if (rest === '' || rest.startsWith('=') || rest.startsWith('[')) return e;
    }
  }
  return undefined;
}

/** The kind libmount gives an option name (the C helper's table must agree; see its classify-options). */
export function optionKind(name: string): OptionKind {
  const e = lookupOption(name);
  if (!e) return 'filesystem';
  // X-mount.* / x-mount.* run libmount hooks (mkdir, subdir, owner, idmap, noloop).
  if (e.prefix && /^[xX]-mount\./.test(name)) return 'userspace-action';
  return e.kind;
}

/** Splits an option string into items; undefined when it needs libmount's quoting or escaping rules. */
export function splitOptions(options: string): { name: string; value?: string }[] | undefined {
  if (/["\\]/.test(options)) return undefined;
  const out: { name: string; value?: string }[] = [];
  for (const item of options.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq === 0) return undefined; // ul_optstr_next: EINVAL; mount(8) says so itself
    out.push(eq < 0 ? { name: item } : { name: item.slice(0, eq), value: item.slice(eq + 1) });
  }
  return out;
}

export function parseOptions(options: string): MountOption[] | undefined {
  const items = splitOptions(options);
  if (!items) return undefined;
  return items.map((i) => {
    const entry = lookupOption(i.name);
    return { ...i, kind: optionKind(i.name), ...(entry ? { entry } : {}) };
  });
}

function conflicts(later: MountOption, earlier: MountOption): boolean {
  const a = later.entry;
  const b = earlier.entry;
  if ((a?.map ?? 'none') !== (b?.map ?? 'none')) return false;
  if (a && b && a !== b && a.id === b.id && (a.invert || b.invert)) return true;
  if (a && b && a !== b) return false;
  return later.name === earlier.name && later.value === earlier.value;
}

/** mnt_optlist_merge_opts: keep the last instance of each option, drop earlier equal or inverse ones. */
export function mergeOptions(opts: MountOption[]): MountOption[] {
  const removed = new Set<number>();
  for (let i = opts.length - 1; i >= 0; i--) {
    if (removed.has(i)) continue;
    for (let j = 0; j < i; j++) if (!removed.has(j) && conflicts(opts[i]!, opts[j]!)) removed.add(j);
  }
  return opts.filter((_o, i) => !removed.has(i));
}

/** Set and clear masks for mount_setattr, as mnt_optlist_get_attrs computes them (no remount reset). */
export function attrsOf(opts: MountOption[]): { set: number; clr: number } {
  let set = 0;
  let clr = 0;
  let atime: number | undefined;
  for (const o of opts) {
    if (o.kind !== 'vfs' || !o.entry) continue;
    const x = o.entry.attr!;
    const isAtime = o.entry.id === MS.RELATIME || o.entry.id === MS.NOATIME || o.entry.id === MS.STRICTATIME;
    if (isAtime) {
      clr |= MOUNT_ATTR.ATIME_MASK;
      if (!o.entry.invert) atime = x;
    } else if (o.entry.invert) clr |= x;
    else set |= x;
  }
  if (atime !== undefined) set |= atime;
  return { set, clr };
}

/** What a `mount` step's options ask for, resolved; see nativeReason for when it is not. */
export interface ResolvedMountOptions {
  /** bind or rbind in the options: the step binds its source instead of making a filesystem. */
  bind?: 'bind' | 'rbind';
  /** mount(2) flags for a new filesystem: per-mount flags, atime choice, superblock flags. */
  flags: number;
  /** The filesystem's own options, comma-joined in order: mount(2)'s data string. */
  data: string;
  /** For a bind: mount_setattr masks applied to the clone before it is attached. */
  attrSet: number;
  attrClr: number;
  /** Applied after the mount is attached, in order. */
  propagation: { type: PropagationType; recursive: boolean }[];
  /** Options that have no effect in libmount 2.41 (defaults, nofail, silent, ...), for the rendering. */
  ignored: string[];
}

/** mount(2) copies at most a page of data; fsconfig takes values of at most 255 bytes. */
const MAX_DATA = 4095;
const MAX_VALUE = 255;

/**
 * Why the options of a `mount` step cannot be executed natively (the step
 * then runs mount(8) with an argv vector), or undefined when they can.
 */
export function nativeReason(options: string): string | undefined {
  const opts = parseOptions(options);
  if (!opts) return 'the options use quotes, backslashes or an empty name';
  for (const o of opts) {
    if (o.kind === 'userspace-action') return `'${o.name}' acts in mount(8) itself`;
    if (o.entry?.map === 'linux' && o.value !== undefined)
      return `'${o.name}=${o.value}' is a flag with a value (e.g. ro=vfs)`;
    if (o.kind === 'operation' && o.entry!.id !== MS.BIND && o.entry!.id !== (MS.BIND | MS.REC))
      return `'${o.name}' in a mount's options`;
    if (o.value !== undefined && Buffer.byteLength(o.value) > MAX_VALUE)
      return `the value of '${o.name}' is longer than fsconfig takes`;
  }
  const r = resolveOptionsUnchecked(opts);
  if (Buffer.byteLength(r.data) > MAX_DATA) return 'the filesystem options are longer than a page';
  return undefined;
}

/** Resolves a `mount` step's options; throws when nativeReason has a reason. */
export function resolveMountOptions(options: string): ResolvedMountOptions {
  const why = nativeReason(options);
  if (why) throw new Error(`options ${JSON.stringify(options)} need mount(8): ${why}`);
  return resolveOptionsUnchecked(parseOptions(options)!);
}

function resolveOptionsUnchecked(parsed: MountOption[]): ResolvedMountOptions {
  const opts = mergeOptions(parsed);
  let flags = 0;
  let atime = 0;
  const data: string[] = [];
  const propagation: ResolvedMountOptions['propagation'] = [];
  const ignored: string[] = [];
  let bind: ResolvedMountOptions['bind'];
  for (const o of opts) {
    const e = o.entry;
    switch (o.kind) {
      case 'vfs':
      case 'superblock':
        if (e!.id === MS.RELATIME || e!.id === MS.NOATIME || e!.id === MS.STRICTATIME) {
          if (!e!.invert) atime = e!.id;
        } else if (!e!.invert) flags |= e!.id;
        break;
      case 'propagation':
        propagation.push({ type: e!.propagation!, recursive: (e!.id & MS.REC) !== 0 });
        break;
      case 'operation':
        // Merging keeps both bind and rbind; libmount recurses when rbind is there.
        if (e!.id === (MS.BIND | MS.REC)) bind = 'rbind';
        else if (e!.id === MS.BIND) bind = bind ?? 'bind';
        break;
      case 'ignored':
        ignored.push(o.value === undefined ? o.name : `${o.name}=${o.value}`);
        break;
      case 'filesystem':
        data.push(o.value === undefined ? o.name : `${o.name}=${o.value}`);
        break;
      case 'userspace-action':
        throw new Error(`unreachable: ${o.name}`);
    }
  }
  // MS_RELATIME is the kernel's default; name it only when asked for.
  flags |= atime;
  const { set, clr } = attrsOf(opts);
  return { ...(bind ? { bind } : {}), flags, data: data.join(','), attrSet: set, attrClr: clr, propagation, ignored };
}

/**
 * libmount's pseudo filesystems (utils.c mnt_fstype_is_pseudofs): their
 * source is not a path, so mount(8) neither canonicalizes it nor sets up a
 * loop device for it, and no /sbin/mount.TYPE helper exists for them in
 * the guest. fuse* are left out: mount(8) runs mount.fuse for them.
 */
const PSEUDO_FS = new Set([
  'anon_inodefs',
  'apparmorfs',
  'autofs',
  'bdev',
  'binder',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'cpuset',
  'debugfs',
  'devfs',
  'devpts',
  'devtmpfs',
  'dlmfs',
  'dmabuf',
  'drm',
  'efivarfs',
  'fusectl',
  'hugetlbfs',
  'ipathfs',
  'mqueue',
  'nfsd',
  'nsfs',
  'overlay',
  'pidfs',
  'pipefs',
  'proc',
  'pstore',
  'ramfs',
  'resctrl',
  'rootfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'smackfs',
  'sockfs',
  'spufs',
  'sysfs',
  'tmpfs',
  'tracefs',
  'vboxsf',
  'virtiofs',
]);

/** Whether a new filesystem of this type is mounted natively; other types go to mount(8). */
export function isNativeFsType(fstype: string): boolean {
  return PSEUDO_FS.has(fstype);
}

/** Names of the MOUNT_ATTR_* flag bits in `attrs` (the atime field aside), for people. */
export function attrNames(attrs: number): string[] {
  const bits: [string, number][] = [
    ['ro', MOUNT_ATTR.RDONLY],
    ['nosuid', MOUNT_ATTR.NOSUID],
    ['nodev', MOUNT_ATTR.NODEV],
    ['noexec', MOUNT_ATTR.NOEXEC],
    ['nodiratime', MOUNT_ATTR.NODIRATIME],
    ['nosymfollow', MOUNT_ATTR.NOSYMFOLLOW],
  ];
  return bits.filter(([, v]) => attrs & v).map(([k]) => k);
}

/** The atime choice a set mask makes when its clear mask names the atime field. */
export function atimeName(attrSet: number): 'relatime' | 'noatime' | 'strictatime' {
  const a = attrSet & MOUNT_ATTR.ATIME_MASK;
  return a === MOUNT_ATTR.NOATIME ? 'noatime' : a === MOUNT_ATTR.STRICTATIME ? 'strictatime' : 'relatime';
}
