/**
 * A small model of the kernel's mount tree, for checking import plans
 * without a VM: it runs the steps the importer emits (and a few more) the
 * way the guest would, and prints each namespace's mountinfo.
 *
 * It follows fs/namespace.c and fs/pnode.c where the planner relies on
 * them: path walks that step onto the top mount of a mountpoint, magic
 * links (/proc/self/fd/N/) that reach a covered mount, binds that inherit
 * the source's peer group and master, MOVE_MOUNT_SET_GROUP's checks (same
 * superblock, wider root, private target, non-private source), make-slave
 * choosing a peer as master, unmounting handing slaves on to a peer. It
 * does not model propagation: a mount made on, or unmounted from, a parent
 * that would propagate is an error here, because the planner promises
 * never to do either. So is anything it does not know, so a plan cannot
 * pass by being misread.
 *
 * Only tests and bench/import-roundtrip.ts use it, so the package leaves it
 * out (.testutil); production code that checks plans would make it a
 * module of its own.
 */
import type { Capture } from '../capture/capture-file.js';
import type { MountEntry } from '../capture/mountinfo.js';
import type { Scenario, Step } from '../scenario/scenario.generated.js';
import { stepName } from '../scenario/semantics.js';

export class SimError extends Error {}

/** Filesystems whose one superblock a second mount reuses. */
const SINGLE = new Set(['sysfs', 'mqueue', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'fusectl', 'configfs']);
const WRITABLE = new Set(['tmpfs', 'ramfs', 'ext2', 'ext3', 'ext4', 'overlay']);
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
  /** Paths that exist, relative to the superblock's root; a pseudo filesystem has them all. */
  dirs: Set<string> | 'all';
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

interface Task {
  name: string;
  ns: Ns;
  steps: Step[];
  pc: number;
  fds: Map<number, Loc>;
  blockedOn?: string;
}

export interface SimOptions {
  /** Mount ids start here. */
  firstMountId?: number;
}

export class MountModel {
  private nextMount: number;
  private nextGroup = 1;
  private nextSb = 20;
  private singletons = new Map<string, Sb>();
  private loops = 0;
  readonly host: Ns;

  constructor(o: SimOptions = {}) {
    this.nextMount = o.firstMountId ?? 30;
    const sb = this.newSb('overlay', 'mountlab-root', []);
    sb.dirs = new Set(['/', ...GUEST_DIRS]);
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
      dirs: WRITABLE.has(fsType) ? new Set(['/']) : 'all',
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
    let cur = this.top({ mnt: t.ns.root, dentry: t.ns.root.root });
    for (const comp of path.split('/').filter(Boolean)) {
      if (comp === '..' || comp === '.') throw new SimError(`${path}: '.' and '..' are not modelled`);
      const d = join(cur.dentry, comp);
      if (!exists(cur.mnt.sb, d))
        throw new SimError(`${path}: no such file or directory (${comp} in ${cur.mnt.sb.fsType} ${cur.mnt.sb.id})`);
      cur = this.top({ mnt: cur.mnt, dentry: d });
    }
    return cur;
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

  private makeSlave(m: Mnt): void {
    if (m.group) {
      const heir = this.leaveGroup(m);
      if (heir) this.setMaster(m, heir);
    }
    m.unbindable = false;
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
        const l = this.resolve(t, s.target);
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
      case 'bind': {
        const b = step.bind!;
        const src = this.resolve(t, b.source);
        if (src.mnt.unbindable) throw new SimError(`${label}: the source is unbindable (EINVAL)`);
        const l = this.resolve(t, b.target);
        const m = this.newMount(src.mnt.sb, src.dentry, t.ns);
        m.flags = new Set(src.mnt.flags);
        // clone_mnt(): a bind of a shared mount is its peer, of a slave a slave of the same master.
        if (src.mnt.group) {
          m.group = src.mnt.group;
          m.group.members.add(m);
        }
        if (src.mnt.master) this.setMaster(m, src.mnt.master);
        this.attach(m, l, label);
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
        if (typeof arg !== 'string') throw new SimError(`${label}: recursive propagation changes are not modelled`);
        const m = this.mountRoot(t, arg, name);
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
        if (typeof u !== 'string') throw new SimError(`${label}: lazy unmounts are not modelled`);
        const m = this.mountRoot(t, u, 'umount');
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
        t.fds.set(o.fd, this.resolve(t, o.path));
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
        if (list.some((x) => x !== 'mnt')) throw new SimError(`${label}: only mnt is modelled`);
        t.ns = this.copyNs(t.ns);
        return 'ok';
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

  private mkdirP(t: Task, path: string, label: string): void {
    let cur = this.top({ mnt: t.ns.root, dentry: t.ns.root.root });
    for (const comp of path.split('/').filter(Boolean)) {
      const d = join(cur.dentry, comp);
      const sb = cur.mnt.sb;
      if (sb.dirs === 'all')
        throw new SimError(`${label}: cannot mkdir in ${sb.fsType}, whose contents the model does not know`);
      if (!sb.dirs.has(d)) {
        if (sb.ro || cur.mnt.flags.has('ro')) throw new SimError(`${label}: read-only (EROFS) at ${comp}`);
        sb.dirs.add(d);
      }
      cur = this.top({ mnt: cur.mnt, dentry: d });
    }
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

function exists(sb: Sb, d: string): boolean {
  return sb.dirs === 'all' || sb.dirs.has(d);
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
