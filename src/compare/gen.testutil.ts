/**
 * Random mount topologies for the property tests: a model with stable
 * identities (uids, group ids, superblock indexes), rendered into capture
 * text under a chosen numbering, so a test can renumber, shuffle and mutate
 * without losing track of which mount is which.
 *
 * Not a test file itself (mocha's spec is *.test.js); only tests import it.
 */
import { formatCapture, type Capture } from '../capture/capture-file.js';
import type { MountEntry } from '../capture/mountinfo.js';

/** A source of choices: fast-check's gen() for structure (it shrinks), a seeded PRNG for numbering. */
export interface Rand {
  int(lo: number, hi: number): number;
}

export function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[r.int(0, xs.length - 1)]!;
}
export function chance(r: Rand, percent: number): boolean {
  return r.int(0, 99) < percent;
}

/** mulberry32: small, fast, good enough to shuffle lines. */
export function prng(seed: number): Rand {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

export function shuffle<T>(r: Rand, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface GMount {
  uid: number;
  ns: number;
  parent: number | undefined;
  mountPoint: string;
  root: string;
  source: string;
  fsType: string;
  mountOptions: string[];
  superOptions: string[];
  sb: number;
  shared?: number;
  master?: number;
  propagateFrom?: number;
  unbindable: boolean;
}

export interface GSuper {
  major: number;
  minor: number;
  fsType: string;
  source: string;
  superOptions: string[];
}

export interface GTask {
  key: string;
  ns: number;
  cwd: string;
  root: string;
}

export interface GModel {
  mounts: GMount[];
  supers: GSuper[];
  tasks: GTask[];
  nsCount: number;
  /** Peer group ids are 0..groups-1; some never get a member and act as groups outside the capture. */
  groups: number;
  nextUid: number;
  /** Render an @outside section naming every group no mount carries (addOutside). */
  outside?: boolean;
}

const FS: readonly { fsType: string; major: number; sources: string[]; opts: string[][] }[] = [
  {
    fsType: 'tmpfs',
    major: 0,
    sources: ['tmpfs', 'none', 'w', 'src dir', 'back\\slash'],
    opts: [
      ['rw', 'inode64'],
      ['rw', 'size=1024k', 'mode=755', 'inode64'],
    ],
  },
  { fsType: 'proc', major: 0, sources: ['proc'], opts: [['rw'], ['rw', 'hidepid=2']] },
  { fsType: 'sysfs', major: 0, sources: ['sysfs'], opts: [['rw']] },
  { fsType: 'devpts', major: 0, sources: ['devpts'], opts: [['rw', 'gid=5', 'mode=620', 'ptmxmode=000']] },
  { fsType: 'ramfs', major: 0, sources: ['ramfs', ''], opts: [['rw']] },
  { fsType: 'ext4', major: 254, sources: ['/dev/vda', '/dev/vdb'], opts: [['rw'], ['rw', 'errors=remount-ro']] },
  { fsType: 'nsfs', major: 0, sources: ['nsfs'], opts: [['rw']] },
];

// Names that exercise the escapes (space, tab, newline, backslash) and
// non-UTF-8 bytes (latin1 strings carry bytes; see capture/mountinfo.ts).
const NAMES = [
  'a',
  'b',
  'w',
  'sub',
  'data',
  'my dir',
  'tab\there',
  'nl\nname',
  'back\\slash',
  Buffer.from('café', 'utf8').toString('latin1'),
  'bad\xff\xfe',
  'proc',
  'x',
];
const BIND_ROOTS = ['/', '/sub', '/d i r', '/x\\y'];
const NS_ROOTS = ['net:[4026531992]', 'net:[4026532400]', 'uts:[4026531838]', 'mnt:[4026532411]'];

function isBelow(parentMp: string, mp: string): boolean {
  return mp === parentMp || mp.startsWith(parentMp === '/' ? '/' : `${parentMp}/`);
}

function join(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

export function genModel(r: Rand): GModel {
  const m: GModel = { mounts: [], supers: [], tasks: [], nsCount: r.int(1, 3), groups: 0, nextUid: 1 };
  m.groups = r.int(0, 5);
  const outside = r.int(0, 2);
  // master of each group: an earlier group or none, so masters form a DAG.
  const groupMaster: (number | undefined)[] = [];
  for (let g = 0; g < m.groups; g++) groupMaster.push(g > 0 && chance(r, 40) ? r.int(0, g - 1) : undefined);
  const anyGroup = m.groups + outside;
  const newSuper = (): number => {
    const fs = pick(r, FS);
    m.supers.push({
      fsType: fs.fsType,
      major: fs.major,
      minor: fs.major === 0 ? 40 + m.supers.length : m.supers.length,
      source: pick(r, fs.sources),
      superOptions: [...pick(r, fs.opts)],
    });
    return m.supers.length - 1;
  };
  const rootFor = (sb: number, bind: boolean) =>
    m.supers[sb]!.fsType === 'nsfs' ? pick(r, NS_ROOTS) : bind ? pick(r, BIND_ROOTS) : '/';
  const mountOptions = () => {
    const o = [pick(r, ['rw', 'ro'])];
    for (const f of ['nosuid', 'nodev', 'noexec']) if (chance(r, 30)) o.push(f);
    o.push(pick(r, ['relatime', 'noatime', 'strictatime']));
    return o;
  };
  const make = (ns: number, parent: GMount | undefined, mountPoint: string): GMount => {
    const bind = m.supers.length > 0 && chance(r, 35);
    const sb = bind ? r.int(0, m.supers.length - 1) : newSuper();
    const s = m.supers[sb]!;
    const mount: GMount = {
      uid: m.nextUid++,
      ns,
      parent: parent?.uid,
      mountPoint,
      root: rootFor(sb, bind),
      source: s.source,
      fsType: s.fsType,
      mountOptions: mountOptions(),
      superOptions: [...s.superOptions],
      sb,
      unbindable: false,
    };
    const p = r.int(0, 99);
    if (anyGroup > 0 && m.groups > 0 && p < 35) {
      mount.shared = r.int(0, m.groups - 1);
      const gm = groupMaster[mount.shared];
      if (gm !== undefined) mount.master = gm;
    } else if (anyGroup > 0 && p < 55) {
      mount.master = r.int(0, anyGroup - 1);
      if (chance(r, 20)) {
        // The kernel prints propagate_from only when it differs from master.
        const from = r.int(0, anyGroup - 1);
        if (from !== mount.master) mount.propagateFrom = from;
      }
    } else if (chance(r, 12)) {
      mount.unbindable = true;
    }
    m.mounts.push(mount);
    return mount;
  };

  for (let ns = 0; ns < m.nsCount; ns++) {
    const mine: GMount[] = [make(ns, undefined, '/')];
    const n = r.int(0, 8);
    for (let i = 0; i < n; i++) {
      const parent = pick(r, mine);
      const kids = m.mounts.filter((x) => x.parent === parent.uid);
      let mp: string;
      if (chance(r, 15) && !kids.some((k) => k.mountPoint === parent.mountPoint)) {
        mp = parent.mountPoint; // stacked on its parent
      } else {
        mp = join(parent.mountPoint, pick(r, NAMES) + (chance(r, 50) ? '' : String(r.int(1, 9))));
        if (kids.some((k) => k.mountPoint === mp)) mp = `${mp}-${m.nextUid}`;
      }
      mine.push(make(ns, parent, mp));
    }
  }
  let keyNo = 1;
  for (let ns = 0; ns < m.nsCount; ns++) {
    const count = r.int(1, 2);
    for (let i = 0; i < count; i++) {
      const key = ns === 0 && i === 0 ? 'init' : chance(r, 10) ? `task ${keyNo++}` : `t${keyNo++}`;
      const mps = m.mounts.filter((x) => x.ns === ns).map((x) => x.mountPoint);
      m.tasks.push({ key, ns, cwd: pick(r, mps), root: '/' });
    }
  }
  return m;
}

export function cloneModel(m: GModel): GModel {
  return {
    ...m,
    mounts: m.mounts.map((x) => ({ ...x, mountOptions: [...x.mountOptions], superOptions: [...x.superOptions] })),
    supers: m.supers.map((s) => ({ ...s, superOptions: [...s.superOptions] })),
    tasks: m.tasks.map((t) => ({ ...t })),
  };
}

/** The numbers a capture shows; renumbering is choosing other ones. */
export interface Numbering {
  mountId(uid: number): number;
  groupId(gid: number): number;
  minor(sb: number): number;
  nsInode(ns: number): string;
  pid(task: number): number;
  nsfsRoot(root: string): string;
}

export function identityNumbering(): Numbering {
  return {
    mountId: (u) => 100 + u,
    groupId: (g) => 1 + g,
    minor: (sb) => 40 + sb,
    nsInode: (ns) => String(4026532000 + ns),
    pid: (t) => 1000 + t,
    nsfsRoot: (root) => root,
  };
}

/** Random bijections for every number that a restore may change. */
export function randomNumbering(r: Rand, m: GModel): Numbering {
  const perm = (n: number, base: number, gap: number) =>
    shuffle(
      r,
      Array.from({ length: n }, (_, i) => base + i * gap),
    );
  const uids = perm(m.nextUid + 1, r.int(2, 5000), r.int(1, 3));
  const gids = perm(m.groups + 8, r.int(1, 900), r.int(1, 4));
  const minors = perm(m.supers.length + 1, r.int(20, 300), 1);
  const inodes = perm(m.nsCount + 2, 4026532000 + r.int(0, 5000), r.int(1, 9));
  const pids = perm(m.tasks.length + 2, r.int(2, 30000), 1);
  const nsfsMap = new Map<string, string>();
  const nsfsInodes = perm(NS_ROOTS.length + 8, 4026540000 + r.int(0, 999), 3);
  return {
    mountId: (u) => uids[u]!,
    groupId: (g) => gids[g]!,
    minor: (sb) => minors[sb]!,
    nsInode: (ns) => String(inodes[ns]!),
    pid: (t) => pids[t]!,
    nsfsRoot: (root) => {
      if (!nsfsMap.has(root)) nsfsMap.set(root, root.replace(/\[\d+\]/, `[${nsfsInodes[nsfsMap.size]}]`));
      return nsfsMap.get(root)!;
    },
  };
}

/** The capture the model describes under `num`; `shuffleWith` reorders tasks and each task's lines. */
export function renderCapture(m: GModel, num: Numbering, shuffleWith?: Rand): Capture {
  const entry = (x: GMount): MountEntry => {
    const s = m.supers[x.sb]!;
    const e: MountEntry = {
      line: 0,
      mountId: num.mountId(x.uid),
      // A root's parent is outside the table: a number no mount has.
      parentId: x.parent === undefined ? num.mountId(m.nextUid) : num.mountId(x.parent),
      major: s.major,
      minor: s.major === 0 ? num.minor(x.sb) : s.minor,
      root: x.fsType === 'nsfs' && /^[a-z]+:\[\d+\]$/.test(x.root) ? num.nsfsRoot(x.root) : x.root,
      mountPoint: x.mountPoint,
      mountOptions: x.mountOptions,
      unbindable: x.unbindable,
      fsType: x.fsType,
      source: x.source,
      superOptions: x.superOptions,
    };
    if (x.shared !== undefined) e.shared = num.groupId(x.shared);
    if (x.master !== undefined) e.master = num.groupId(x.master);
    if (x.propagateFrom !== undefined) e.propagateFrom = num.groupId(x.propagateFrom);
    return e;
  };
  let tasks = m.tasks.map((t, i) => {
    let mounts = m.mounts.filter((x) => x.ns === t.ns).map(entry);
    if (shuffleWith) mounts = shuffle(shuffleWith, mounts);
    return { key: t.key, pid: num.pid(i), mntNs: num.nsInode(t.ns), cwd: t.cwd, root: t.root, mounts, fds: [] };
  });
  if (shuffleWith) tasks = shuffle(shuffleWith, tasks);
  if (!m.outside) return { tasks };
  // One carrier per outside group, each a mount of the guest's own namespace.
  const carried = new Set(m.mounts.flatMap((x) => (x.shared === undefined ? [] : [x.shared])));
  const used = [
    ...new Set(
      m.mounts
        .flatMap((x) => [x.master, x.propagateFrom])
        .filter((g): g is number => g !== undefined && !carried.has(g)),
    ),
  ];
  const outside = used
    .sort((a, b) => a - b)
    .map(
      (g, i): MountEntry => ({
        line: 0,
        mountId: 90_000 + i,
        parentId: 89_999,
        major: 0,
        minor: 9000 + g,
        root: '/',
        mountPoint: `/host/g${g}`,
        mountOptions: ['rw'],
        unbindable: false,
        fsType: 'tmpfs',
        source: 'host',
        superOptions: ['rw'],
        shared: num.groupId(g),
      }),
    );
  return {
    tasks,
    outside: { pid: 1, mntNs: '4026531840', mounts: shuffleWith ? shuffle(shuffleWith, outside) : outside },
  };
}

export function renderText(m: GModel, num: Numbering, shuffleWith?: Rand): string {
  return formatCapture(renderCapture(m, num, shuffleWith));
}

// ---------------------------------------------------------------- mutations

export type Target = { mount: number } | { task: string };

export interface Mutation {
  kind: string;
  target: Target;
  apply(m: GModel): void;
}

const descendants = (m: GModel, uid: number): Set<number> => {
  const out = new Set<number>();
  const stack = [uid];
  while (stack.length) {
    const u = stack.pop()!;
    for (const c of m.mounts) {
      if (c.parent === u && !out.has(c.uid)) {
        out.add(c.uid);
        stack.push(c.uid);
      }
    }
  }
  return out;
};

/**
 * Every single change that must make the comparison fail, applicable to
 * this model. Changes that a restore may legitimately make (renaming a
 * group outside the capture that only one mount uses) are not offered.
 */
export function mutations(m: GModel): Mutation[] {
  const out: Mutation[] = [];
  const find = (mm: GModel, uid: number) => mm.mounts.find((x) => x.uid === uid)!;
  const members = (gid: number) => m.mounts.filter((x) => x.shared === gid);
  const visible = (gid: number) => members(gid).length > 0;
  const allGids = [
    ...new Set(
      m.mounts.flatMap((x) => [x.shared, x.master, x.propagateFrom]).filter((g): g is number => g !== undefined),
    ),
  ];
  const fresh = m.groups + 7; // a group id no mount uses (randomNumbering leaves room)
  for (const x of m.mounts) {
    const uid = x.uid;
    const mount = (kind: string, apply: (mm: GModel, me: GMount) => void) =>
      out.push({ kind, target: { mount: uid }, apply: (mm) => apply(mm, find(mm, uid)) });
    out.push({
      kind: 'drop-mount',
      target: { mount: uid },
      apply: (mm) => (mm.mounts = mm.mounts.filter((y) => y.uid !== uid)),
    });
    if (x.parent !== undefined) {
      const below = descendants(m, uid);
      for (const q of m.mounts) {
        if (q.ns !== x.ns || q.uid === x.parent || q.uid === uid || below.has(q.uid)) continue;
        // The kernel prints a mountpoint as a path through its parent.
        if (!isBelow(q.mountPoint, x.mountPoint)) continue;
        if (m.mounts.some((k) => k.parent === q.uid && k.mountPoint === x.mountPoint)) continue;
        mount(`reparent-to-${q.uid}`, (_mm, me) => (me.parent = q.uid));
      }
    }
    mount(
      'root',
      (_mm, me) =>
        (me.root =
          me.fsType === 'nsfs'
            ? me.root.replace(/^[a-z]+/, (t) => (t === 'net' ? 'uts' : 'net'))
            : `${me.root === '/' ? '' : me.root}/changed`),
    );
    mount('mountpoint', (mm, me) => {
      const parentMp = me.parent === undefined ? '/' : (find(mm, me.parent)?.mountPoint ?? '/');
      const old = me.mountPoint;
      const now = join(parentMp, `zz-moved-${uid}`);
      // A mount restored elsewhere takes its subtree along.
      const prefix = old === '/' ? '/' : `${old}/`;
      for (const d of descendants(mm, uid)) {
        const c = find(mm, d);
        if (c.mountPoint === old) c.mountPoint = now;
        else if (c.mountPoint.startsWith(prefix)) c.mountPoint = join(now, c.mountPoint.slice(prefix.length));
      }
      me.mountPoint = now;
    });
    mount('fstype', (_mm, me) => (me.fsType = me.fsType === 'tmpfs' ? 'ramfs' : 'tmpfs'));
    mount('source', (_mm, me) => (me.source = `${me.source}X`));
    mount('mount-option', (_mm, me) => {
      const o = me.mountOptions.includes('nosuid')
        ? me.mountOptions.filter((y) => y !== 'nosuid')
        : [...me.mountOptions, 'nosuid'];
      me.mountOptions = o;
    });
    mount(
      'rw-ro',
      (_mm, me) => (me.mountOptions = me.mountOptions.map((y) => (y === 'rw' ? 'ro' : y === 'ro' ? 'rw' : y))),
    );
    mount('super-option', (_mm, me) => me.superOptions.push('mutated=1'));
    mount('unbindable', (_mm, me) => (me.unbindable = !me.unbindable));
    if (x.master === undefined) {
      for (const g of allGids) if (g !== x.shared) mount(`master-add-${g}`, (_mm, me) => (me.master = g));
      mount('master-add-fresh', (_mm, me) => (me.master = fresh));
    } else {
      // A mount that is no slave has no propagate_from either.
      mount('master-remove', (_mm, me) => {
        delete me.master;
        delete me.propagateFrom;
      });
      const X = x.master;
      const othersOnX = m.mounts.some((y) => y.uid !== uid && y.master === X);
      for (const g of allGids) {
        if (g === X || g === x.shared || g === x.propagateFrom) continue;
        const usedByOthers = m.mounts.some((y) => y.uid !== uid && y.master === g);
        if (visible(g) || usedByOthers) mount(`master-change-${g}`, (_mm, me) => (me.master = g));
      }
      if (visible(X) || othersOnX) mount('master-change-fresh', (_mm, me) => (me.master = fresh));
    }
    const sbMounts = m.mounts.filter((y) => y.sb === x.sb);
    if (sbMounts.length > 1) {
      mount('sb-split', (mm, me) => {
        const s = mm.supers[me.sb]!;
        mm.supers.push({
          ...s,
          superOptions: [...s.superOptions],
          minor: s.major === 0 ? s.minor : 900 + mm.supers.length,
        });
        me.sb = mm.supers.length - 1;
      });
    }
    for (let s = 0; s < m.supers.length; s++) {
      if (s !== x.sb && m.mounts.some((y) => y.sb === s)) mount(`sb-merge-${s}`, (_mm, me) => (me.sb = s));
    }
    if (x.shared !== undefined && members(x.shared).length > 1) {
      mount('peers-split', (_mm, me) => (me.shared = fresh));
    }
  }
  // Merging the group of one mount into another group: every reference follows.
  const visibleGids = allGids.filter(visible);
  for (const A of visibleGids) {
    for (const B of visibleGids) {
      if (A === B) continue;
      out.push({
        kind: `peers-merge-${B}-into-${A}`,
        target: { mount: members(B)[0]!.uid },
        apply: (mm) => {
          for (const y of mm.mounts) {
            if (y.shared === B) y.shared = A;
            if (y.master === B) y.master = A;
            if (y.propagateFrom === B) y.propagateFrom = A;
            // A slave of the group it joins is its peer now, not its slave.
            if (y.master !== undefined && y.master === y.shared) {
              delete y.master;
              delete y.propagateFrom;
            }
            if (y.propagateFrom !== undefined && y.propagateFrom === y.master) delete y.propagateFrom;
          }
        },
      });
    }
  }
  m.tasks.forEach((t, ti) => {
    out.push({ kind: 'task-drop', target: { task: t.key }, apply: (mm) => mm.tasks.splice(ti, 1) });
    for (let ns = 0; ns < m.nsCount; ns++) {
      if (ns !== t.ns && m.tasks.some((u) => u.ns === ns))
        out.push({ kind: `task-move-${ns}`, target: { task: t.key }, apply: (mm) => (mm.tasks[ti]!.ns = ns) });
    }
    if (m.tasks.filter((u) => u.ns === t.ns).length > 1) {
      // unshare(CLONE_NEWNS): a copy of the namespace, shared copies joining their groups.
      out.push({
        kind: 'task-unshare',
        target: { task: t.key },
        apply: (mm) => {
          const ns = mm.nsCount++;
          const map = new Map<number, number>();
          for (const y of mm.mounts.filter((z) => z.ns === t.ns)) map.set(y.uid, mm.nextUid++);
          for (const y of mm.mounts.filter((z) => z.ns === t.ns)) {
            mm.mounts.push({
              ...y,
              uid: map.get(y.uid)!,
              ns,
              parent: y.parent === undefined ? undefined : map.get(y.parent),
              mountOptions: [...y.mountOptions],
              superOptions: [...y.superOptions],
            });
          }
          mm.tasks[ti]!.ns = ns;
        },
      });
    }
  });
  return out;
}

// ---------------------------------------------------------------- issue 16: ties, outside masters, overlay layers

/**
 * Adds 1-3 mounts, each beside a childless mount on the same mountpoint
 * under the same parent with the same content, differing only in its peer
 * group, its master or its superblock: what older kernels list side by
 * side, and a chrooted view lists as two roots. Line order must not decide
 * which is which.
 */
export function addTies(r: Rand, m: GModel): void {
  const n = r.int(1, 3);
  for (let i = 0; i < n; i++) {
    const leaves = m.mounts.filter((x) => !m.mounts.some((c) => c.parent === x.uid));
    const x = pick(r, leaves);
    const tie: GMount = {
      ...x,
      uid: m.nextUid++,
      mountOptions: [...x.mountOptions],
      superOptions: [...x.superOptions],
    };
    delete tie.shared;
    delete tie.master;
    delete tie.propagateFrom;
    const how = r.int(0, 2);
    if (how === 0 || m.groups === 0) {
      // Another superblock of the same kind: a fresh one, or one another mount has.
      const s = m.supers[x.sb]!;
      m.supers.push({
        ...s,
        superOptions: [...s.superOptions],
        minor: s.major === 0 ? s.minor : 900 + m.supers.length,
      });
      tie.sb = m.supers.length - 1;
      if (x.shared !== undefined) tie.shared = x.shared;
    } else if (how === 1) {
      tie.shared = r.int(0, m.groups - 1);
      if (x.shared === undefined) x.shared = (tie.shared + 1) % (m.groups + 1);
    } else {
      tie.master = r.int(0, m.groups + 1);
      x.master ??= tie.master + 1;
      if (x.master === x.shared || x.master === x.propagateFrom) delete x.master;
    }
    // What the kernel never prints (a slave of its own group, propagate_from equal to master) is undone.
    for (const y of [x, tie]) {
      if (y.master !== undefined && y.master === y.shared) {
        delete y.master;
        delete y.propagateFrom;
      }
      if (y.propagateFrom !== undefined && (y.master === undefined || y.propagateFrom === y.master))
        delete y.propagateFrom;
    }
    m.mounts.push(tie);
  }
  m.groups += 2;
}

/**
 * Gives the model's outside groups (masters no mount of the model carries)
 * carriers in the guest's own namespace, rendered as the capture's @outside
 * section: /host/g<gid>. Makes sure one mount at least has such a master.
 */
export function addOutside(r: Rand, m: GModel): void {
  const carried = new Set(m.mounts.flatMap((x) => (x.shared === undefined ? [] : [x.shared])));
  if (!m.mounts.some((x) => x.master !== undefined && !carried.has(x.master))) {
    const x = pick(
      r,
      m.mounts.filter((y) => y.master === undefined),
    );
    x.master = m.groups + 3;
    if (x.master === x.shared) delete x.master;
  }
  m.outside = true;
}

/** An overlay mount with 2-4 lower layers given as lowerdir+= (their order is the filesystem's), on a new mount. */
export function addOverlay(r: Rand, m: GModel): GMount {
  const layers = Array.from({ length: r.int(2, 4) }, (_, i) => `lowerdir+=/layers/l${i}`);
  m.supers.push({
    fsType: 'overlay',
    major: 0,
    minor: 40 + m.supers.length,
    source: 'overlay',
    superOptions: ['rw', ...layers, 'upperdir=/u', 'workdir=/w'],
  });
  const parent = pick(
    r,
    m.mounts.filter((x) => x.ns === 0),
  );
  const o: GMount = {
    uid: m.nextUid++,
    ns: 0,
    parent: parent.uid,
    mountPoint: join(parent.mountPoint, `ovl${m.nextUid}`),
    root: '/',
    source: 'overlay',
    fsType: 'overlay',
    mountOptions: ['rw', 'relatime'],
    superOptions: [...m.supers[m.supers.length - 1]!.superOptions],
    sb: m.supers.length - 1,
    unbindable: false,
  };
  m.mounts.push(o);
  return o;
}
