/**
 * A small model of the kernel's mount tree. Two users:
 * - the import's property tests and bench/import-roundtrip.ts run the steps
 *   the importer emits the way the guest would, and print each namespace's
 *   mountinfo (`runScenario`, strict: anything the model does not know is a
 *   SimError, so a plan cannot pass by being misread);
 * - model-check.ts runs any scenario through it before anything boots
 *   (`check: true`): a `Refusal` is a step certain to fail, any other
 *   SimError means the model is unsure, and the check says nothing.
 *
 * It follows fs/namespace.c and fs/pnode.c where the planner relies on
 * them: path walks that step onto the top mount of a mountpoint, magic
 * links (/proc/self/fd/N/) that reach a covered mount, binds that inherit
 * the source's peer group and master, MOVE_MOUNT_SET_GROUP's checks (same
 * superblock, wider root, private target, non-private source), make-slave
 * choosing a peer as master, unmounting handing slaves on to a peer. It
 * does not model propagation: a mount made on, or unmounted from, a parent
 * that would propagate is a SimError here, because the planner promises
 * never to do either (and the check cannot follow it).
 */
import type { Capture } from '../capture/capture-file.js';
import type { MountEntry } from '../capture/mountinfo.js';
import type { Scenario, Step } from '../scenario/scenario.generated.js';
import { stepName } from '../scenario/semantics.js';
import { isNativeFsType } from './mount-options.js';

export class SimError extends Error {}

/** What the check refuses: steps whose failure the model is certain of. */
export type RefusalKind = 'missing-source' | 'not-a-mount' | 'move-into-itself' | 'rmdir-mountpoint';

/** A step the kernel certainly refuses, whatever the guest image holds. */
export class Refusal extends SimError {
  constructor(
    readonly kind: RefusalKind,
    message: string,
    readonly advice: string,
  ) {
    super(message);
  }
}

/** A name certainly absent: its directory's contents are all known. */
class Missing extends SimError {}

/** Filesystems whose one superblock a second mount reuses. */
const SINGLE = new Set(['sysfs', 'mqueue', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'fusectl', 'configfs']);
const WRITABLE = new Set(['tmpfs', 'ramfs', 'ext2', 'ext3', 'ext4', 'overlay']);
/** What the check knows the whole contents of when mounted: empty, or as mkfs leaves it. */
const KNOWN_CONTENTS: Record<string, string[]> = {
  tmpfs: ['/'],
  ramfs: ['/'],
  ext2: ['/', '/lost+found'],
  ext3: ['/', '/lost+found'],
  ext4: ['/', '/lost+found'],
};
/** tmpfs options that cannot make the mount fail for a privileged caller. */
const TMPFS_DATA = /^(size|nr_blocks|nr_inodes|mode|uid|gid)=[0-9a-zA-Z%]+$|^inode(32|64)$/;
/** Directories of the guest's root (the scenario root is an overlay of it). */
const GUEST_DIRS = [
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/tmp',
  '/mnt',
  '/etc',
  '/usr',
  '/var',
  '/home',
  '/root',
  '/srv',
  '/opt',
];
/**
 * What the guest image's root may hold (a debootstrap rootfs, the lab's
 * own names start with a dot); the check knows nothing under them. Other
 * names at the top of the scenario root exist only once a step makes them.
 */
const GUEST_TOP = new Set([
  ...GUEST_DIRS.map((d) => d.slice(1)),
  'bin',
  'boot',
  'lib',
  'lib32',
  'lib64',
  'libx32',
  'sbin',
  'media',
  'lost+found',
  'init',
  'vmlinuz',
  'vmlinuz.old',
  'initrd.img',
  'initrd.img.old',
]);
/** Top names that may be symlinks (merged /usr): what a step makes through them lands elsewhere. */
const GUEST_LINKS = new Set(['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']);
const FLAG_ORDER = [
  'ro',
  'rw',
  'nosuid',
  'nodev',
  'noexec',
  'nosymfollow',
  'noatime',
  'nodiratime',
  'relatime',
  'strictatime',
];
const ATIME = ['noatime', 'relatime', 'strictatime'];

interface Sb {
  id: number;
  fsType: string;
  source: string;
  options: string[];
  ro: boolean;
  /**
   * Directories that exist, relative to the superblock's root; a pseudo
   * filesystem has them all (in the check: the model does not know them).
   */
  dirs: Set<string> | 'all';
  /** Other names that exist (files, fifos): a bind source or target, never a directory to walk. */
  files: Set<string>;
  /** The scenario root in the check: what the guest image holds is unknown (see GUEST_TOP). */
  guestRoot?: boolean;
  major: number;
}

interface Group {
  id: number;
  members: Set<Mnt>;
}

interface Mnt {
  id: number;
  sb: Sb;
  root: string;
  parent: Mnt | undefined;
  /** The mountpoint: a path in the parent's superblock. */
  at: string;
  children: Mnt[];
  flags: Set<string>;
  group: Group | undefined;
  /** The mount this one is a slave of (always a shared one). */
  master: Mnt | undefined;
  slaves: Set<Mnt>;
  unbindable: boolean;
  ns: Ns;
  attached: boolean;
}

interface Ns {
  id: number;
  root: Mnt;
}

interface Loc {
  mnt: Mnt;
  dentry: string;
}

export interface Task {
  name: string;
  ns: Ns;
  steps: Step[];
  pc: number;
  fds: Map<number, Loc>;
  /** After chroot: where path walks start; else the namespace's root. */
  root?: Loc;
  blockedOn?: string;
}

export interface SimOptions {
  /** Mount ids start here. */
  firstMountId?: number;
  /**
   * For model-check.ts: the scenario root holds the guest image (unknown),
   * filesystems other than tmpfs, ramfs and fresh images have unknown
   * contents, and steps the import never emits are followed where they can be.
   */
  check?: boolean;
}

export class MountModel {
  private nextMount: number;
  private nextGroup = 1;
  private nextSb = 20;
  private singletons = new Map<string, Sb>();
  private loops = 0;
  readonly host: Ns;
  private readonly check: boolean;

  constructor(o: SimOptions = {}) {
    this.nextMount = o.firstMountId ?? 30;
    this.check = o.check ?? false;
    const sb = this.newSb('overlay', 'mountlab-root', []);
    sb.dirs = new Set(['/', ...GUEST_DIRS]);
    if (this.check) {
      sb.dirs = new Set(['/']);
      sb.guestRoot = true;
    }
    const root = this.newMount(sb, '/', undefined);
    this.host = { id: 1, root };
    root.ns = this.host;
    root.attached = true;
  }

  private newSb(fsType: string, source: string, options: string[]): Sb {
    const sb: Sb = {
      id: this.nextSb++,
      fsType,
      source,
      options: options.filter((o) => o !== 'rw' && o !== 'ro'),
      ro: options.includes('ro'),
      dirs: this.check
        ? KNOWN_CONTENTS[fsType]
          ? new Set(KNOWN_CONTENTS[fsType])
          : 'all'
        : WRITABLE.has(fsType)
          ? new Set(['/'])
          : 'all',
      files: new Set(),
      major: 0,
    };
    return sb;
  }

  private newMount(sb: Sb, root: string, ns: Ns | undefined): Mnt {
    return {
      id: this.nextMount++,
      sb,
      root,
      parent: undefined,
      at: '/',
      children: [],
      flags: new Set(['rw', 'relatime']),
      group: undefined,
      master: undefined,
      slaves: new Set(),
      unbindable: false,
      ns: ns!,
      attached: false,
    };
  }

  // ---------------------------------------------------------------- paths

  resolve(t: Task, path: string): Loc {
    const magic = /^\/proc\/self\/fd\/(\d+)\/?$/.exec(path);
    if (magic) {
      const l = t.fds.get(Number(magic[1]));
      if (!l) throw new SimError(`${path}: no fd ${magic[1]}`);
      return l;
    }
    if (path.startsWith('/proc/self/')) throw new SimError(`${path}: the model knows only /proc/self/fd/N/`);
    let cur = this.top(this.rootOf(t));
    const comps = path.split('/').filter(Boolean);
    comps.forEach((comp, i) => {
      if (comp === '..' || comp === '.') throw new SimError(`${path}: '.' and '..' are not modelled`);
      if (cur.mnt.sb.files.has(cur.dentry)) throw new SimError(`${path}: not a directory at ${comp}`);
      const d = join(cur.dentry, comp);
      const there = this.exists(cur.mnt.sb, d);
      if (there === 'unknown') throw new SimError(`${path}: the model does not know whether ${comp} exists`);
      if (!there) {
        const where = `${comp} in ${cur.mnt.sb.fsType} ${cur.mnt.sb.id}`;
        if (this.check) throw new Missing(`${path}: no such file or directory (${where})`);
        throw new SimError(`${path}: no such file or directory (${where})`);
      }
      if (i < comps.length - 1 && cur.mnt.sb.files.has(d) && !this.covered(cur.mnt, d))
        throw new SimError(`${path}: not a directory at ${comp}`);
      cur = this.top({ mnt: cur.mnt, dentry: d });
    });
    return cur;
  }

  private rootOf(t: Task): Loc {
    return t.root ?? { mnt: t.ns.root, dentry: t.ns.root.root };
  }

  private covered(m: Mnt, d: string): boolean {
    return m.children.some((k) => k.at === d);
  }

  /** Whether a name exists in a superblock: yes, no, or unknown (the check's guest image and pseudo filesystems). */
  private exists(sb: Sb, d: string): boolean | 'unknown' {
    if (sb.dirs === 'all') return this.check ? 'unknown' : true;
    if (sb.dirs.has(d) || sb.files.has(d)) return true;
    if (sb.guestRoot && GUEST_TOP.has(topName(d))) return 'unknown';
    if (sb.guestRoot && topName(d).startsWith('.')) return 'unknown';
    return false;
  }

  /** Steps onto whatever is mounted on the location, and what is stacked on that. */
  private top(l: Loc): Loc {
    let cur = l;
    for (;;) {
      const c = cur.mnt.children.find((k) => k.at === cur.dentry);
      if (!c) return cur;
      cur = { mnt: c, dentry: c.root };
    }
  }

  private mountRoot(t: Task, path: string, what: string): Mnt {
    const l = this.resolve(t, path);
    if (l.dentry !== l.mnt.root) throw new SimError(`${what} ${path}: not a mountpoint (EINVAL)`);
    return l.mnt;
  }

  /** As mountRoot, but a path certainly not a mount is a Refusal (umount(8) also takes a source's name). */
  private mountRootOrRefuse(t: Task, path: string, what: string): Mnt {
    const l = this.resolve(t, path);
    if (l.dentry === l.mnt.root) return l.mnt;
    if (!this.check || this.nsMounts(t.ns).some((m) => m.sb.source === path))
      throw new SimError(`${what} ${path}: not a mountpoint (EINVAL)`);
    throw new Refusal(
      'not-a-mount',
      `${path} is not a mount here (${what} fails with EINVAL)`,
      `mount or bind something on ${path} first, or ${what} the mount it lies on`,
    );
  }

  /** Every mount of a namespace, its root first. */
  private nsMounts(ns: Ns): Mnt[] {
    const out: Mnt[] = [];
    const walk = (m: Mnt) => {
      out.push(m);
      for (const c of m.children) walk(c);
    };
    walk(ns.root);
    return out;
  }

  /** A bind's source, where a missing one is a Refusal. */
  private bindSource(t: Task, path: string, what: string): Loc {
    try {
      return this.resolve(t, path);
    } catch (e) {
      if (!(e instanceof Missing)) throw e;
      throw new Refusal(
        'missing-source',
        `the ${what} source ${path} does not exist at this step (${e.message})`,
        `create ${path} first (mkdir, write or a mount) in a step before this one`,
      );
    }
  }

  /** clone_mnt() of a bind's source, and with `recursive` copy_tree() of what is mounted below it. */
  private cloneTree(src: Loc, ns: Ns, recursive: boolean, label: string): Mnt {
    if (src.mnt.unbindable) throw new SimError(`${label}: the source is unbindable (EINVAL)`);
    const cloneOne = (m: Mnt, root: string): Mnt => {
      const c = this.newMount(m.sb, root, ns);
      c.flags = new Set(m.flags);
      // A bind of a shared mount is its peer, of a slave a slave of the same master.
      if (m.group) {
        c.group = m.group;
        c.group.members.add(c);
      }
      if (m.master) this.setMaster(c, m.master);
      return c;
    };
    const top = cloneOne(src.mnt, src.dentry);
    const walk = (orig: Mnt, copy: Mnt) => {
      for (const k of orig.children) {
        if (k.unbindable || !within(k.at, copy.root)) continue;
        const c = cloneOne(k, k.root);
        c.at = k.at;
        c.parent = copy;
        c.attached = true;
        copy.children.push(c);
        walk(k, c);
      }
    };
    if (recursive) walk(src.mnt, top);
    return top;
  }

  private isFile(l: Loc): boolean {
    return l.mnt.sb.files.has(l.dentry);
  }

  // ---------------------------------------------------------------- propagation state

  private groupSlaves(g: Group | undefined, m: Mnt): Set<Mnt> {
    const out = new Set<Mnt>(m.slaves);
    if (g) for (const p of g.members) for (const s of p.slaves) out.add(s);
    return out;
  }

  /** A new or removed child of `p` would be propagated to its peers and slaves. */
  private propagates(p: Mnt): number {
    if (!p.group) return 0;
    return p.group.members.size - 1 + this.groupSlaves(p.group, p).size;
  }

  private attach(m: Mnt, l: Loc, what: string): void {
    const n = this.propagates(l.mnt);
    if (n) throw new SimError(`${what}: the parent mount is shared with ${n} other mount(s): this would propagate`);
    m.parent = l.mnt;
    m.at = l.dentry;
    m.ns = l.mnt.ns;
    m.attached = true;
    l.mnt.children.push(m);
  }

  /** do_make_slave(): leave the group; slaves go to a peer (same root first), else to our master. */
  private leaveGroup(m: Mnt): Mnt | undefined {
    let heir: Mnt | undefined;
    if (m.group) {
      const peers = [...m.group.members].filter((p) => p !== m);
      heir = peers.find((p) => p.root === m.root) ?? peers[0];
      m.group.members.delete(m);
      m.group = undefined;
    }
    const to = heir ?? m.master;
    for (const s of m.slaves) {
      s.master = to;
      if (to) to.slaves.add(s);
    }
    m.slaves.clear();
    return heir;
  }

  private setMaster(m: Mnt, master: Mnt | undefined): void {
    m.master?.slaves.delete(m);
    m.master = master;
    master?.slaves.add(m);
  }

  private makeShared(m: Mnt): void {
    if (m.group) return;
    m.group = { id: this.nextGroup++, members: new Set([m]) };
    m.unbindable = false;
  }

  /**
   * change_mnt_propagation(MS_SLAVE) leaves MNT_UNBINDABLE as it is (only
   * shared, private and unbindable set or clear it): an unbindable mount
   * made a slave stays unbindable, and a bind of it fails with EINVAL.
   */
  private makeSlave(m: Mnt): void {
    if (m.group) {
      const heir = this.leaveGroup(m);
      if (heir) this.setMaster(m, heir);
    }
  }

  private makePrivate(m: Mnt): void {
    this.leaveGroup(m);
    this.setMaster(m, undefined);
  }

  // ---------------------------------------------------------------- steps

  run(t: Task, step: Step, spawn: (name: string, steps: Step[]) => void): 'ok' | 'blocked' {
    const name = stepName(step);
    const label = `${String(name)} ${JSON.stringify(step[name])}`;
    switch (name) {
      case 'mkdir':
        for (const p of ([] as string[]).concat(step.mkdir!)) this.mkdirP(t, p, label);
        return 'ok';
      case 'mount': {
        const s = step.mount!;
        if (this.check) this.judgeMount(s, label);
        const l = this.resolve(t, s.target);
        if (this.check && this.isFile(l)) throw new SimError(`${label}: a filesystem on a file (ENOTDIR)`);
        const opts = (s.options ?? '').split(',').filter(Boolean);
        let sb: Sb;
        if (s.image) {
          sb = this.newSb(s.fstype, `/dev/loop${this.loops++}`, opts);
          sb.major = 7;
        } else if (SINGLE.has(s.fstype) && this.singletons.has(s.fstype)) {
          sb = this.singletons.get(s.fstype)!;
        } else {
          sb = this.newSb(
            s.fstype,
            s.source ?? s.fstype,
            opts.filter((o) => !FLAG_ORDER.includes(o) || o === 'ro' || o === 'rw'),
          );
          if (SINGLE.has(s.fstype)) this.singletons.set(s.fstype, sb);
        }
        const m = this.newMount(sb, '/', t.ns);
        for (const o of opts) if (FLAG_ORDER.includes(o) && o !== 'rw' && o !== 'ro') setFlag(m.flags, o);
        this.attach(m, l, label);
        return 'ok';
      }
      case 'bind':
      case 'rbind':
      case 'open-tree': {
        const b = name === 'open-tree' ? step['open-tree']! : step[name]!;
        const recursive = name === 'rbind' || (name === 'open-tree' && (step['open-tree']!.recursive ?? false));
        if (!this.check && name !== 'bind') throw new SimError(`${label}: not modelled`);
        const src = this.bindSource(t, b.source, name);
        const l = this.resolve(t, b.target);
        if (this.isFile(src) !== this.isFile(l)) throw new SimError(`${label}: a file and a directory`);
        this.attach(this.cloneTree(src, t.ns, recursive, label), l, label);
        return 'ok';
      }
      case 'move': {
        if (!this.check) throw new SimError(`${label}: not modelled`);
        const mv = step.move!;
        const from = this.mountRoot(t, mv.from, 'move');
        const to = this.resolve(t, mv.to);
        // do_move_mount(): ELOOP when the target lies on the moved mount or below it.
        for (let p: Mnt | undefined = to.mnt; p; p = p.parent) {
          if (p === from)
            throw new Refusal(
              'move-into-itself',
              `${mv.to} lies on the mount being moved, ${mv.from} (move fails with ELOOP)`,
              'move the mount to a place outside it, or bind it there instead',
            );
        }
        if (!from.parent || from.ns !== t.ns) throw new SimError(`${label}: not a movable mount (EINVAL)`);
        if (this.propagates(from.parent) || from.parent.group)
          throw new SimError(`${label}: the parent is shared: EINVAL or propagation`);
        if (this.isFile(to) !== (from.sb.files.has(from.root) ? true : false))
          throw new SimError(`${label}: a file and a directory`);
        from.parent.children = from.parent.children.filter((c) => c !== from);
        this.attach(from, to, label);
        return 'ok';
      }
      case 'remount': {
        const r = step.remount!;
        const m = this.mountRoot(t, r.path, 'remount');
        const opts = r.options.split(',').filter(Boolean);
        if (r.super) {
          for (const o of opts) {
            if (o === 'ro' || o === 'rw') m.sb.ro = o === 'ro';
            else throw new SimError(`${label}: the model remounts superblocks ro or rw only`);
          }
          return 'ok';
        }
        for (const o of opts)
          if (!FLAG_ORDER.includes(o)) throw new SimError(`${label}: unknown per-mount option ${o}`);
        // util-linux >= 2.39 sets what is listed and keeps the rest; older ones replace all. A plan may only add.
        for (const f of m.flags) {
          if (f === 'rw' || f === 'ro' || ATIME.includes(f)) continue;
          if (!opts.includes(f))
            throw new SimError(`${label}: would need to clear ${f}, which util-linux versions do differently`);
        }
        for (const o of opts) setFlag(m.flags, o);
        return 'ok';
      }
      case 'make-shared':
      case 'make-slave':
      case 'make-private':
      case 'make-unbindable': {
        const arg = step[name]!;
        if (typeof arg !== 'string') {
          if (this.check && name === 'make-slave') this.mountRootOrRefuse(t, arg.path, name);
          throw new SimError(`${label}: recursive propagation changes are not modelled`);
        }
        const m = name === 'make-slave' ? this.mountRootOrRefuse(t, arg, name) : this.mountRoot(t, arg, name);
        if (name === 'make-shared') this.makeShared(m);
        else if (name === 'make-slave') this.makeSlave(m);
        else if (name === 'make-private') this.makePrivate(m);
        else {
          this.makePrivate(m);
          m.unbindable = true;
        }
        return 'ok';
      }
      case 'set-group': {
        const g = step['set-group']!;
        const from = this.mountRoot(t, g.from, 'set-group from');
        const to = this.mountRoot(t, g.to, 'set-group to');
        // fs/namespace.c:do_set_group()
        if (from.sb !== to.sb) throw new SimError(`${label}: different superblocks (EINVAL)`);
        if (!within(to.root, from.root))
          throw new SimError(`${label}: the source's root ${from.root} does not contain ${to.root} (EINVAL)`);
        if (to.group || to.master) throw new SimError(`${label}: the target is not private (EINVAL)`);
        if (!from.group && !from.master) throw new SimError(`${label}: the source is private (EINVAL)`);
        if (from.master) this.setMaster(to, from.master);
        if (from.group) {
          to.group = from.group;
          to.group.members.add(to);
        }
        to.unbindable = false;
        return 'ok';
      }
      case 'umount': {
        const u = step.umount!;
        if (typeof u !== 'string') {
          if (this.check) this.mountRootOrRefuse(t, u.path, 'umount');
          throw new SimError(`${label}: lazy unmounts are not modelled`);
        }
        const m = this.check ? this.mountRootOrRefuse(t, u, 'umount') : this.mountRoot(t, u, 'umount');
        if (m.children.length) throw new SimError(`${label}: the mount has mounts on it (EBUSY)`);
        if (!m.parent) throw new SimError(`${label}: the root cannot be unmounted`);
        const n = this.propagates(m.parent);
        if (n)
          throw new SimError(`${label}: the parent is shared with ${n} other mount(s): the unmount would propagate`);
        this.makePrivate(m);
        m.parent.children = m.parent.children.filter((c) => c !== m);
        m.attached = false;
        return 'ok';
      }
      case 'open': {
        const o = step.open!;
        if (this.check && (o.flags ?? []).some((f) => f !== 'rdonly' && f !== 'directory' && f !== 'path'))
          throw new SimError(`${label}: only opening what exists is modelled`);
        const l = this.resolve(t, o.path);
        if ((o.flags ?? []).includes('directory') && this.isFile(l))
          throw new SimError(`${label}: O_DIRECTORY on a file (ENOTDIR)`);
        t.fds.set(o.fd, l);
        return 'ok';
      }
      case 'close':
        if (!t.fds.delete(step.close!)) throw new SimError(`${label}: fd not open`);
        return 'ok';
      case 'spawn':
        spawn(step.spawn!.name, step.spawn!.steps);
        return 'ok';
      case 'unshare': {
        const list = step.unshare!;
        if (list.some((x) => x !== 'mnt' && (!this.check || x === 'user')))
          throw new SimError(`${label}: only mnt is modelled`);
        if (!list.includes('mnt')) return 'ok';
        const old = t.ns;
        t.ns = this.copyNs(old);
        // copy_mnt_ns() moves the task's root to its copy (fds keep the old mounts); the model does not.
        if (t.root) throw new SimError(`${label}: a root carried into the copy is not modelled`);
        return 'ok';
      }
      case 'rmdir':
        if (!this.check) throw new SimError(`${label}: not modelled`);
        for (const p of ([] as string[]).concat(step.rmdir!)) this.rmdir(t, p, label);
        return 'ok';
      case 'write':
      case 'mkfifo': {
        if (!this.check) throw new SimError(`${label}: not modelled`);
        const paths = name === 'write' ? [step.write!.path] : ([] as string[]).concat(step.mkfifo!);
        for (const p of paths) this.createFile(t, p, label, name === 'write');
        return 'ok';
      }
      case 'mknod':
        if (!this.check) throw new SimError(`${label}: not modelled`);
        this.createFile(t, step.mknod!.path, label, false);
        return 'ok';
      case 'socket': {
        if (!this.check) throw new SimError(`${label}: not modelled`);
        // A bound socket is a name on its filesystem, like a fifo; the socket's fd is on sockfs, no mount.
        const b = step.socket!.bind;
        if (b !== undefined) this.createFile(t, b, label, false);
        return 'ok';
      }
      case 'truncate': {
        if (!this.check) throw new SimError(`${label}: not modelled`);
        const p = step.truncate!.path;
        if (p !== undefined) this.createFile(t, p, label, true);
        return 'ok';
      }
      case 'mmap':
      case 'access':
        // Neither changes a mount or a name (an automount that access triggers is beyond the model).
        if (!this.check) throw new SimError(`${label}: not modelled`);
        if (name === 'access') throw new SimError(`${label}: may trigger an automount`);
        return 'ok';
      case 'chdir':
        if (!this.check) throw new SimError(`${label}: not modelled`);
        if (this.isFile(this.resolve(t, step.chdir!))) throw new SimError(`${label}: not a directory`);
        return 'ok';
      case 'pivot-root': {
        if (!this.check) throw new SimError(`${label}: not modelled`);
        this.mountRootOrRefuse(t, step['pivot-root']!['new-root'], 'pivot-root');
        // The task script must find itself in the new root (/usr, /proc): beyond the model.
        throw new SimError(`${label}: the model does not follow a task into a new root`);
      }
      case 'signal':
        this.signals.add(step.signal!);
        return 'ok';
      case 'wait':
        return this.signals.has(step.wait!) ? 'ok' : 'blocked';
      default:
        throw new SimError(`${label}: not modelled`);
    }
  }

  readonly signals = new Set<string>();

  /** The check follows a mount only when it is sure the mount succeeds and knows what it is. */
  private judgeMount(s: NonNullable<Step['mount']>, label: string): void {
    const known = s.image ? ['ext2', 'ext3', 'ext4'].includes(s.fstype) : isNativeFsType(s.fstype);
    if (!known) throw new SimError(`${label}: the model does not know ${s.fstype}`);
    for (const o of (s.options ?? '').split(',').filter(Boolean)) {
      if (FLAG_ORDER.includes(o)) continue;
      if (s.fstype === 'tmpfs' && TMPFS_DATA.test(o)) continue;
      throw new SimError(`${label}: the model cannot judge the option ${o}`);
    }
  }

  private mkdirP(t: Task, path: string, label: string): void {
    let cur = this.top(this.rootOf(t));
    for (const comp of path.split('/').filter(Boolean)) {
      const d = join(cur.dentry, comp);
      const sb = cur.mnt.sb;
      if (sb.dirs === 'all')
        throw new SimError(`${label}: cannot mkdir in ${sb.fsType}, whose contents the model does not know`);
      if (comp === '.' || comp === '..') throw new SimError(`${label}: '.' and '..' are not modelled`);
      if (sb.files.has(d) || sb.files.has(cur.dentry)) throw new SimError(`${label}: a file in the way`);
      if (sb.guestRoot && GUEST_LINKS.has(topName(d)))
        throw new SimError(`${label}: /${topName(d)} may be a symlink in the guest image`);
      if (!sb.dirs.has(d)) {
        if (sb.ro || cur.mnt.flags.has('ro')) throw new SimError(`${label}: read-only (EROFS) at ${comp}`);
        sb.dirs.add(d);
      }
      cur = this.top({ mnt: cur.mnt, dentry: d });
    }
  }

  /** rmdir(2): EBUSY on a mountpoint of the task's namespace (is_local_mountpoint), whatever is mounted there. */
  private rmdir(t: Task, path: string, label: string): void {
    const comps = path.split('/').filter(Boolean);
    const last = comps.pop();
    if (last === undefined || last === '.' || last === '..') throw new SimError(`${label}: not modelled`);
    const dir = this.resolve(t, `/${comps.join('/')}`);
    const d = join(dir.dentry, last);
    const on = this.nsMounts(t.ns).find((m) => m.parent && m.parent.sb === dir.mnt.sb && m.at === d);
    if (on)
      throw new Refusal(
        'rmdir-mountpoint',
        `${path} is a mountpoint (of a ${on.sb.fsType} mount) in this namespace (rmdir fails with EBUSY)`,
        `umount what is mounted on ${path} first`,
      );
    const sb = dir.mnt.sb;
    const there = this.exists(sb, d);
    if (there !== true || sb.dirs === 'all' || !sb.dirs.has(d)) throw new SimError(`${label}: ${path} not known`);
    for (const x of [...sb.dirs, ...sb.files])
      if (within(x, d) && x !== d) throw new SimError(`${label}: ${path} is not empty`);
    if (sb.ro || dir.mnt.flags.has('ro')) throw new SimError(`${label}: read-only`);
    sb.dirs.delete(d);
  }

  private createFile(t: Task, path: string, label: string, mayExist: boolean): void {
    const comps = path.split('/').filter(Boolean);
    const last = comps.pop();
    if (last === undefined || last === '.' || last === '..') throw new SimError(`${label}: not modelled`);
    const dir = this.resolve(t, `/${comps.join('/')}`);
    const sb = dir.mnt.sb;
    const d = join(dir.dentry, last);
    if (sb.dirs === 'all' || this.isFile(dir)) throw new SimError(`${label}: not modelled here`);
    if (sb.guestRoot && GUEST_LINKS.has(topName(d))) throw new SimError(`${label}: may be a symlink`);
    const there = this.exists(sb, d);
    if (there === 'unknown' || sb.dirs.has(d) || (there && !mayExist)) throw new SimError(`${label}: in the way`);
    if (this.covered(dir.mnt, d)) throw new SimError(`${label}: a mount on it`);
    if (sb.ro || dir.mnt.flags.has('ro')) throw new SimError(`${label}: read-only`);
    sb.files.add(d);
  }

  /** unshare(CLONE_NEWNS): copies of every mount, peers of the shared ones, slaves of the same masters. */
  copyNs(ns: Ns): Ns {
    const copy: Ns = { id: ++this.nsCount, root: undefined as unknown as Mnt };
    const clone = (m: Mnt, parent: Mnt | undefined): Mnt => {
      const c = this.newMount(m.sb, m.root, copy);
      c.flags = new Set(m.flags);
      c.unbindable = m.unbindable;
      c.at = m.at;
      c.parent = parent;
      c.attached = true;
      if (m.group) {
        c.group = m.group;
        m.group.members.add(c);
      }
      if (m.master) this.setMaster(c, m.master);
      for (const k of m.children) c.children.push(clone(k, c));
      return c;
    };
    copy.root = clone(ns.root, undefined);
    return copy;
  }

  private nsCount = 1;

  /**
   * A mount the lab makes before the steps (the tree's /proc; the outside
   * steps' /proc, /sys and /dev): its mountpoint exists in the guest image,
   * its contents are unknown to the check.
   */
  provide(ns: Ns, dir: string, fsType: string): void {
    const root = ns.root;
    if (root.sb.dirs !== 'all') root.sb.dirs.add(dir);
    const l = this.top({ mnt: root, dentry: dir });
    const sb =
      SINGLE.has(fsType) && this.singletons.has(fsType) ? this.singletons.get(fsType)! : this.newSb(fsType, fsType, []);
    if (SINGLE.has(fsType)) this.singletons.set(fsType, sb);
    sb.dirs = 'all';
    this.attach(this.newMount(sb, '/', ns), l, `the lab's ${dir}`);
  }

  /** Takes away what provide() made, as labctl's umount -l does; false when the steps changed it. */
  withdraw(ns: Ns, dir: string): boolean {
    const m = ns.root.children.find((c) => c.at === dir);
    if (!m || m.children.length || m.group || m.slaves.size) return false;
    ns.root.children = ns.root.children.filter((c) => c !== m);
    m.attached = false;
    return true;
  }

  // ---------------------------------------------------------------- output

  mountinfo(ns: Ns): MountEntry[] {
    const out: MountEntry[] = [];
    const walk = (m: Mnt, mp: string) => {
      const e: MountEntry = {
        line: 0,
        mountId: m.id,
        parentId: m.parent ? m.parent.id : 1,
        major: m.sb.major,
        minor: m.sb.id,
        // Scenario paths are text; mountinfo is bytes, read as latin1 (capture/mountinfo.ts).
        root: bytes(m.root),
        mountPoint: bytes(mp),
        mountOptions: FLAG_ORDER.filter((f) => m.flags.has(f) && f !== 'strictatime'),
        unbindable: m.unbindable,
        fsType: m.sb.fsType,
        source: bytes(m.sb.source),
        // The guest's tmpfs always prints inode64 (see verify.ts); the model does too, so the rule is exercised.
        superOptions: [
          m.sb.ro ? 'ro' : 'rw',
          ...m.sb.options,
          ...(m.sb.fsType === 'tmpfs' && !m.sb.options.some((o) => /^inode(32|64)$/.test(o)) ? ['inode64'] : []),
        ],
      };
      if (m.group) e.shared = m.group.id;
      if (m.master) e.master = m.master.group!.id;
      out.push(e);
      for (const c of [...m.children].sort((a, b) => a.id - b.id)) {
        if (!within(c.at, m.root)) throw new SimError(`mount ${c.id} sits outside its parent's root`);
        walk(c, joinPath(mp, relativePath(m.root, c.at)));
      }
    };
    walk(ns.root, '/');
    return out.sort((a, b) => a.mountId - b.mountId);
  }

  // ---------------------------------------------------------------- a whole scenario

  /**
   * Runs a scenario the way labctl and the tree script do: outside steps in
   * the guest's namespace (chrooted into the scenario root), then the tree
   * in a copy of it with /proc mounted, tasks interleaved at their waits.
   */
  static runScenario(s: Scenario, o: SimOptions = {}): { capture: Capture; model: MountModel } {
    const k = new MountModel(o);
    const hostTask: Task = { name: 'outside', ns: k.host, steps: s.outside ?? [], pc: 0, fds: new Map() };
    for (const step of hostTask.steps) {
      if (
        k.run(hostTask, step, () => {
          throw new SimError('spawn outside');
        }) !== 'ok'
      )
        throw new SimError('wait outside the tree');
    }
    const treeNs = k.copyNs(k.host);
    const tasks: Task[] = [{ name: 'init', ns: treeNs, steps: s.steps, pc: 0, fds: new Map() }];
    const init = tasks[0]!;
    k.run(init, { mount: { fstype: 'proc', source: 'proc', target: '/proc' } }, () => {});
    // Adversarial order: the earliest task runs as far as it can; only when it
    // waits does the task that will signal it run, and only until it has. A
    // plan that forgets a wait meets the worst interleaving, not a lucky one.
    const waitsFor = (t: Task): string | undefined => {
      const step = t.steps[t.pc];
      return step?.wait !== undefined && !k.signals.has(step.wait) ? step.wait : undefined;
    };
    for (;;) {
      let t = tasks.find((x) => x.pc < x.steps.length);
      if (!t) break;
      const chain: Task[] = [];
      for (let w = waitsFor(t); w !== undefined; w = waitsFor(t)) {
        chain.push(t);
        const signaller: Task | undefined = tasks.find((x) => x.steps.slice(x.pc).some((st) => st.signal === w));
        if (!signaller || chain.includes(signaller))
          throw new SimError(`deadlock: ${chain.map((x) => `${x.name} waits for ${waitsFor(x)}`).join(', ')}`);
        t = signaller;
      }
      const step = t.steps[t.pc]!;
      try {
        k.run(t, step, (name, steps) => tasks.push({ name, ns: t!.ns, steps, pc: 0, fds: new Map() }));
      } catch (e) {
        if (e instanceof SimError) throw new SimError(`task ${t.name}, step ${t.pc + 1}: ${e.message}`);
        throw e;
      }
      t.pc++;
    }
    for (const t of tasks)
      if (t.fds.size) throw new SimError(`task ${t.name} ends holding fds ${[...t.fds.keys()].join(', ')}`);
    return {
      model: k,
      capture: {
        tasks: tasks.map((t, i) => ({
          key: t.name,
          pid: 100 + i,
          mntNs: String(t.ns.id),
          mounts: k.mountinfo(t.ns),
          fds: [],
        })),
      },
    };
  }
}

function bytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

function setFlag(flags: Set<string>, o: string): void {
  if (o === 'ro' || o === 'rw') {
    flags.delete('ro');
    flags.delete('rw');
  }
  if (ATIME.includes(o)) for (const a of ATIME) flags.delete(a);
  flags.add(o);
}

function topName(d: string): string {
  return d.split('/')[1] ?? '';
}

function join(dir: string, comp: string): string {
  return dir === '/' ? `/${comp}` : `${dir}/${comp}`;
}

function within(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(`${dir}/`);
}

function relativePath(root: string, p: string): string {
  if (p === root) return '';
  return root === '/' ? p.slice(1) : p.slice(root.length + 1);
}

function joinPath(mp: string, rel: string): string {
  if (!rel) return mp;
  return mp === '/' ? `/${rel}` : `${mp}/${rel}`;
}
