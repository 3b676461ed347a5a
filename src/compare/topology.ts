/**
 * The canonical, id-free model of a capture.
 *
 * Across a checkpoint/restore, mount ids, peer group ids, anonymous device
 * minors, pids and namespace inode numbers all renumber, and /proc lists
 * mounts in whatever order the restorer created them. None of that may
 * matter. So here a mount is named by where it sits, never by a number:
 *
 * - Namespaces are told apart by the tasks that live in them (task keys are
 *   the only stable names the lab has).
 * - A mount is its path in its namespace's mount tree: the chain of
 *   mountpoints from the tree's root, each step taken relative to the parent
 *   mount's mountpoint. A mount stacked on its parent's mountpoint (an
 *   over-mount: seed 002's sysfs over sysfs, seed 001's four mounts on /tmp)
 *   is the step "" and its stacking index is its depth in that stack, which
 *   the tree decides and line order cannot change.
 * - Superblocks, peer groups and masters are partitions and relations over
 *   those paths; their numbers are kept only to quote them in explanations.
 */
import { createHash } from 'node:crypto';
import type { Capture, TaskCapture } from '../capture/capture-file.js';
import type { MountEntry } from '../capture/mountinfo.js';
import { byText, displayPath } from './text.js';
import { byColours, refineColours, type RefineNode } from './refine.js';
import { canonicalSuperOptions } from './super-options.js';

export interface TopoTask {
  key: string;
  /** `key`, or `key~2`, `key~3`... when several tasks carry the same key. */
  name: string;
  pid: number;
  namespace: TopoNamespace;
  cwd?: string;
  root?: string;
}

export interface TopoNamespace {
  /** 1-based; the namespace of `init` first, then by smallest task key. */
  index: number;
  /** 'ns#1', 'ns#2', ... */
  label: string;
  /** The namespace inode as captured; meaningless across captures. */
  rawId: string;
  tasks: TopoTask[];
  /** The task whose mountinfo describes the namespace (tasks in one namespace normally print the same table). */
  view: TopoTask | undefined;
  roots: TopoMount[];
  /** Parents before children, siblings in canonical order. */
  mounts: TopoMount[];
}

/** A peer group (shared:N): its members may live in several namespaces. */
export interface PeerGroup {
  id: number;
  /** Sorted by label. */
  members: TopoMount[];
}

/**
 * What master:N or propagate_from:N points at: a peer group with members in
 * the capture, or one outside it (the host's, or one whose every member is
 * gone), which only its number, local to this capture, can name.
 */
export type GroupRef =
  | { kind: 'group'; id: number; group: PeerGroup }
  | {
      kind: 'external';
      id: number;
      /**
       * The mountpoints (sorted) of the mounts outside the tree that carry
       * the group (shared:N in the capture's @outside section): the group's
       * name, which survives renumbering. Undefined when the capture has no
       * such section (a plain mountinfo file, an older capture); [] when it
       * has one and no outside mount carries the group.
       */
      outside?: string[];
    };

export interface Superblock {
  /** 'major:minor' as captured. */
  device: string;
  major: number;
  minor: number;
  /** Sorted by label. */
  members: TopoMount[];
}

export interface TopoMount {
  ns: TopoNamespace;
  parent: TopoMount | undefined;
  /** In canonical order. */
  children: TopoMount[];
  /**
   * The step from the parent: the mountpoint relative to the parent's
   * mountpoint ('' when stacked on it), or for a tree root its absolute
   * mountpoint. A mountpoint that is not below its parent's (which the
   * kernel never prints, and parseCapture() refuses; a Capture built in
   * code may still hold one) is kept absolute behind a NUL. Siblings that would
   * share a step get NUL '#2', NUL '#3'... (NUL: no path can contain it) in
   * the order of their content, never of their lines.
   */
  component: string;
  /** The canonical identity within the namespace: the components from the root. */
  path: string[];
  /** JSON of `path`, for maps. */
  key: string;
  /** Human name within the namespace, e.g. '/tmp [stacked 2]'. Unique within it. */
  pathLabel: string;
  /** `pathLabel`, prefixed by the namespace label when the capture has several. Unique. */
  label: string;
  /** 1 for the lowest mount on a mountpoint, 2 for the one stacked on it... */
  stack: number;
  /** 0, or 1, 2... for siblings on the same mountpoint under the same parent. */
  sibling: number;
  entry: MountEntry;
  mountPoint: string;
  root: string;
  fsType: string;
  source: string;
  mountOptions: string[];
  superOptions: string[];
  unbindable: boolean;
  /** MNT_LOCKED, as the helper probed it (locked=/unlocked= in the @task header); undefined when not probed. */
  locked: boolean | undefined;
  superblock: Superblock;
  peerGroup: PeerGroup | undefined;
  master: GroupRef | undefined;
  propagateFrom: GroupRef | undefined;
}

export interface Topology {
  namespaces: TopoNamespace[];
  tasks: TopoTask[];
  /** Namespace by namespace, each in canonical order. */
  mounts: TopoMount[];
  /** Sorted by the label of the first member. */
  peerGroups: PeerGroup[];
  /** Sorted by the label of the first member. */
  superblocks: Superblock[];
  multiNamespace: boolean;
  /** Oddities in the input that the model had to resolve (duplicate keys, parent cycles). */
  notes: string[];
}

export function buildTopology(c: Capture): Topology {
  const notes: string[] = [];
  const namespaces = groupNamespaces(c.tasks);
  const tasks = nameTasks(namespaces, notes);
  const multi = namespaces.length > 1;
  const trees = namespaces.map((ns) => linkTree(ns, notes));
  const order = tieBreaker(trees);
  const mounts: TopoMount[] = [];
  for (const t of trees) {
    placeTree(t, multi, order);
    mounts.push(...t.ns.mounts);
  }

  const groupsById = new Map<number, PeerGroup>();
  const sbByDev = new Map<string, Superblock>();
  for (const m of mounts) {
    const s = m.superblock;
    const sb = sbByDev.get(s.device);
    if (sb) {
      sb.members.push(m);
      m.superblock = sb;
    } else {
      sbByDev.set(s.device, s);
    }
    if (m.entry.shared !== undefined) {
      let g = groupsById.get(m.entry.shared);
      if (!g) groupsById.set(m.entry.shared, (g = { id: m.entry.shared, members: [] }));
      g.members.push(m);
      m.peerGroup = g;
    }
  }
  const carriers = new Map<number, string[]>();
  for (const e of c.outside?.mounts ?? []) {
    if (e.shared === undefined) continue;
    const l = carriers.get(e.shared);
    if (l) l.push(e.mountPoint);
    else carriers.set(e.shared, [e.mountPoint]);
  }
  const ref = (id: number | undefined): GroupRef | undefined => {
    if (id === undefined) return undefined;
    const group = groupsById.get(id);
    if (group) return { kind: 'group', id, group };
    if (!c.outside) return { kind: 'external', id };
    return { kind: 'external', id, outside: [...new Set(carriers.get(id) ?? [])].sort(byText) };
  };
  for (const m of mounts) {
    m.master = ref(m.entry.master);
    m.propagateFrom = ref(m.entry.propagateFrom);
  }
  const byLabel = (a: TopoMount, b: TopoMount) => byText(a.label, b.label);
  const peerGroups = [...groupsById.values()];
  const superblocks = [...sbByDev.values()];
  for (const g of [...peerGroups, ...superblocks]) g.members.sort(byLabel);
  peerGroups.sort((a, b) => byLabel(a.members[0]!, b.members[0]!));
  superblocks.sort((a, b) => byLabel(a.members[0]!, b.members[0]!));
  return { namespaces, tasks, mounts, peerGroups, superblocks, multiNamespace: multi, notes };
}

/** `init` sorts first: it is the checkpointed tree's root task, the natural anchor. */
function keyOrder(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'init') return -1;
  if (b === 'init') return 1;
  return byText(a, b);
}

/** The capture each task came from, for building its namespace's tree. */
const viewSource = new WeakMap<TopoTask, TaskCapture>();

interface RawNs {
  rawId: string;
  captures: { t: TaskCapture; order: number }[];
}

function groupNamespaces(tasks: TaskCapture[]): TopoNamespace[] {
  const byNs = new Map<string, RawNs>();
  tasks.forEach((t, order) => {
    let g = byNs.get(t.mntNs);
    if (!g) byNs.set(t.mntNs, (g = { rawId: t.mntNs, captures: [] }));
    g.captures.push({ t, order });
  });
  const raw = [...byNs.values()];
  for (const g of raw) {
    // The view: the smallest key, then the widest table. Capture order is the
    // last resort only, for tasks that agree on both.
    g.captures.sort((x, y) => keyOrder(x.t.key, y.t.key) || y.t.mounts.length - x.t.mounts.length || x.order - y.order);
  }
  raw.sort(
    (x, y) =>
      keyOrder(x.captures[0]!.t.key, y.captures[0]!.t.key) ||
      y.captures.length - x.captures.length ||
      y.captures[0]!.t.mounts.length - x.captures[0]!.t.mounts.length ||
      x.captures[0]!.order - y.captures[0]!.order,
  );
  return raw.map((g, i) => {
    const ns: TopoNamespace = {
      index: i + 1,
      label: `ns#${i + 1}`,
      rawId: g.rawId,
      tasks: [],
      view: undefined,
      roots: [],
      mounts: [],
    };
    for (const { t } of g.captures) {
      const task: TopoTask = { key: t.key, name: t.key, pid: t.pid, namespace: ns };
      if (t.cwd !== undefined) task.cwd = t.cwd;
      if (t.root !== undefined) task.root = t.root;
      ns.tasks.push(task);
      viewSource.set(task, t);
    }
    ns.view = ns.tasks[0];
    return ns;
  });
}

function nameTasks(namespaces: TopoNamespace[], notes: string[]): TopoTask[] {
  const all = namespaces.flatMap((ns) => ns.tasks);
  const byKey = new Map<string, TopoTask[]>();
  for (const t of all) {
    const l = byKey.get(t.key);
    if (l) l.push(t);
    else byKey.set(t.key, [t]);
  }
  for (const [key, list] of byKey) {
    if (list.length < 2) continue;
    // Copies are told apart by where they live, which survives a restore
    // better than the order their parent happened to list them in.
    list.sort(
      (a, b) =>
        a.namespace.index - b.namespace.index || byText(a.cwd ?? '', b.cwd ?? '') || byText(a.root ?? '', b.root ?? ''),
    );
    list.forEach((t, i) => {
      if (i > 0) t.name = `${key}~${i + 1}`;
    });
    notes.push(
      `${list.length} tasks carry the key ${JSON.stringify(displayPath(key))}; ` +
        `they are told apart as ${list.map((t) => t.name).join(', ')} by namespace, cwd and root`,
    );
  }
  return [...all].sort((a, b) => keyOrder(a.key, b.key) || byText(a.name, b.name));
}

/** A namespace's mounts linked into a tree, before their canonical order is known. */
interface LinkedTree {
  ns: TopoNamespace;
  roots: TopoMount[];
  /** Breadth first from the roots. */
  order: TopoMount[];
  /** Each mount's step from its parent, before siblings that share one are numbered. */
  raw: Map<TopoMount, string>;
}

function linkTree(ns: TopoNamespace, notes: string[]): LinkedTree {
  const entries = ns.view ? viewSource.get(ns.view)!.mounts : [];
  const locks = ns.view ? viewSource.get(ns.view)!.locks : undefined;
  const mounts: TopoMount[] = entries.map((e) => ({
    ns,
    parent: undefined,
    children: [],
    component: '',
    path: [],
    key: '',
    pathLabel: '',
    label: '',
    stack: 1,
    sibling: 0,
    entry: e,
    mountPoint: e.mountPoint,
    root: e.root,
    fsType: e.fsType,
    source: e.source,
    mountOptions: e.mountOptions,
    superOptions: e.superOptions,
    unbindable: e.unbindable,
    locked: locks?.get(e.mountId),
    superblock: { device: `${e.major}:${e.minor}`, major: e.major, minor: e.minor, members: [] },
    peerGroup: undefined,
    master: undefined,
    propagateFrom: undefined,
  }));
  for (const m of mounts) m.superblock.members.push(m);

  const byId = new Map<number, TopoMount>();
  for (const m of mounts) {
    if (byId.has(m.entry.mountId))
      notes.push(
        `${ns.label}: mount ID ${m.entry.mountId} appears twice ` +
          `(lines ${byId.get(m.entry.mountId)!.entry.line} and ${m.entry.line})`,
      );
    else byId.set(m.entry.mountId, m);
  }
  // A root is a mount whose parent is not in the table: the namespace root's
  // parent is outside the task's view, or the mount itself.
  for (const m of mounts) {
    const p = byId.get(m.entry.parentId);
    if (p && p !== m) m.parent = p;
  }
  breakCycles(mounts, ns, notes);
  for (const m of mounts) m.parent?.children.push(m);
  const roots = mounts.filter((m) => !m.parent);

  // Breadth first from the roots: parents come before their children, which
  // is all the bottom-up and top-down passes below need.
  const order: TopoMount[] = [...roots];
  for (let i = 0; i < order.length; i++) order.push(...order[i]!.children);

  const raw = new Map<TopoMount, string>();
  for (const m of order) raw.set(m, m.parent ? relativeStep(m.parent.mountPoint, m.mountPoint) : m.mountPoint);
  return { ns, roots, order, raw };
}

/** Siblings by their step, in the order given. */
function byStep(siblings: readonly TopoMount[], raw: Map<TopoMount, string>): Map<string, TopoMount[]> {
  const out = new Map<string, TopoMount[]>();
  for (const m of siblings) {
    const s = raw.get(m)!;
    const l = out.get(s);
    if (l) l.push(m);
    else out.set(s, [m]);
  }
  return out;
}

/**
 * The order of siblings that share a step. Content first, hashed with the
 * subtree below (nesting the children's text would grow with the depth of
 * the tree); computed on demand, as such siblings are rare. Siblings alike
 * in content, which differ only in their peer groups, masters or
 * superblocks, are told apart by colour refinement over the whole capture
 * (refine.ts); the line decides only among mounts that no part of the
 * topology tells apart, where either order gives the same result.
 */
function tieBreaker(trees: readonly LinkedTree[]): (a: TopoMount, b: TopoMount) => number {
  const raw = new Map<TopoMount, string>();
  for (const t of trees) for (const [m, s] of t.raw) raw.set(m, s);
  const sigs = new Map<TopoMount, string>();
  const sig = (m: TopoMount): string => {
    let v = sigs.get(m);
    if (v === undefined) {
      const kids = m.children.map((c) => `${sig(c)}:${JSON.stringify(raw.get(c))}`).sort(byText);
      const ns = nsfsRoot(m);
      v = hash([
        m.fsType,
        m.source,
        // An nsfs root's inode renumbers; which mounts share one is left to refinement.
        ns ? `nsfs:${ns.type}` : m.root,
        [...m.mountOptions].sort(byText),
        canonicalSuperOptions(m.fsType, m.superOptions),
        m.entry.shared !== undefined,
        m.entry.master !== undefined,
        m.entry.propagateFrom !== undefined,
        m.unbindable,
        kids,
      ]);
      sigs.set(m, v);
    }
    return v;
  };
  const tied: TopoMount[][] = [];
  for (const t of trees) {
    for (const sibs of [t.roots, ...t.order.map((m) => m.children)]) {
      for (const list of byStep(sibs, raw).values()) {
        if (list.length < 2) continue;
        const bySig = new Map<string, TopoMount[]>();
        for (const m of list) {
          const l = bySig.get(sig(m));
          if (l) l.push(m);
          else bySig.set(sig(m), [m]);
        }
        for (const l of bySig.values()) if (l.length > 1) tied.push(l);
      }
    }
  }
  let colours: Map<TopoMount, string[]> | undefined;
  if (tied.length > 0) colours = refine(trees, raw, sig, tied);
  return (a, b) =>
    byText(sig(a), sig(b)) ||
    (colours ? byColours(colours.get(a)!, colours.get(b)!) : 0) ||
    a.entry.line - b.entry.line;
}

/** Colour refinement (refine.ts) over every mount of the capture, for the tied siblings. */
function refine(
  trees: readonly LinkedTree[],
  raw: Map<TopoMount, string>,
  sig: (m: TopoMount) => string,
  tied: readonly TopoMount[][],
): Map<TopoMount, string[]> {
  const node = new Map<TopoMount, RefineNode>();
  for (const t of trees) {
    const tasks = t.ns.tasks.map((x) => x.key).sort(byText);
    for (const m of t.order) {
      const e = m.entry;
      const links: RefineNode['links'] = [{ role: 'sb', set: `sb:${m.superblock.device}` }];
      if (e.shared !== undefined) links.push({ role: 'shared', set: `g:${e.shared}` });
      if (e.master !== undefined) links.push({ role: 'master', set: `g:${e.master}` });
      if (e.propagateFrom !== undefined) links.push({ role: 'from', set: `g:${e.propagateFrom}` });
      if (nsfsRoot(m)) links.push({ role: 'nsfs', set: `ns:${m.root}` });
      // Block devices are compared by number (compare.ts literalBlockDevices); anonymous ones only as a partition.
      const dev = e.major === 0 ? 'anon' : m.superblock.device;
      const initial = hash([sig(m), raw.get(m), tasks, dev]);
      node.set(m, { parent: undefined, children: [], initial, links, line: e.line });
    }
  }
  for (const [m, n] of node) {
    n.parent = m.parent && node.get(m.parent);
    n.children = m.children.map((c) => node.get(c)!);
  }
  const colours = refineColours(
    [...node.values()],
    tied.map((l) => l.map((m) => node.get(m)!)),
  );
  return new Map([...node].map(([m, n]) => [m, colours.get(n)!]));
}

function placeTree(t: LinkedTree, multi: boolean, order: (a: TopoMount, b: TopoMount) => number): void {
  const { ns, roots, raw } = t;
  const assignSteps = (siblings: TopoMount[]) => {
    for (const [step, list] of byStep(siblings, raw)) {
      if (list.length > 1) list.sort(order);
      list.forEach((m, i) => {
        m.sibling = list.length > 1 ? i + 1 : 0;
        m.component = i === 0 ? step : `${step}\0#${i + 1}`;
      });
    }
    siblings.sort((a, b) => byText(a.component, b.component));
  };
  assignSteps(roots);
  for (const m of t.order) assignSteps(m.children);

  const canonical: TopoMount[] = [...roots];
  for (let i = 0; i < canonical.length; i++) {
    const m = canonical[i]!;
    m.path = m.parent ? [...m.parent.path, m.component] : [m.component];
    m.key = JSON.stringify(m.path);
    m.stack = m.parent && m.parent.mountPoint === m.mountPoint ? m.parent.stack + 1 : 1;
    canonical.push(...m.children);
  }
  ns.roots = roots;
  ns.mounts = canonical;
  assignLabels(canonical, ns, multi);
}

function hash(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value), 'latin1').digest('hex').slice(0, 20);
}

/** The mountpoint relative to the parent's mountpoint; see TopoMount.component. */
function relativeStep(parentMp: string, mp: string): string {
  if (mp === parentMp) return '';
  const prefix = parentMp.endsWith('/') ? parentMp : `${parentMp}/`;
  if (mp.startsWith(prefix)) return mp.slice(prefix.length);
  return `\0${mp}`;
}

/** Input from a real kernel has no parent cycles; a damaged file might, and must not hang or crash us. */
function breakCycles(mounts: TopoMount[], ns: TopoNamespace, notes: string[]): void {
  const state = new Map<TopoMount, 1 | 2>(); // 1 on the current walk, 2 known to reach a root
  for (const start of mounts) {
    const walk: TopoMount[] = [];
    let m: TopoMount | undefined = start;
    while (m && !state.has(m)) {
      state.set(m, 1);
      walk.push(m);
      m = m.parent;
    }
    if (m && state.get(m) === 1) {
      const cycle = walk.slice(walk.indexOf(m));
      const cut = cycle.reduce((a, b) => (b.entry.line < a.entry.line ? b : a));
      cut.parent = undefined;
      notes.push(
        `${ns.label}: parent IDs form a cycle (lines ${cycle.map((c) => c.entry.line).join(', ')}); ` +
          `line ${cut.entry.line} is taken as a root`,
      );
    }
    for (const w of walk) state.set(w, 2);
  }
}

function assignLabels(mounts: TopoMount[], ns: TopoNamespace, multi: boolean): void {
  for (const m of mounts) {
    let l = displayPath(m.mountPoint);
    if (m.stack > 1) l += ` [stacked ${m.stack}]`;
    if (m.sibling > 0) l += ` [sibling ${m.sibling}]`;
    m.pathLabel = l;
  }
  // The same mountpoint string can name unrelated mounts, e.g. a mount on
  // /x/y hidden under a later mount on /x that has its own /x/y. The parent
  // tells them apart; the canonical order settles anything left.
  const clash = (list: TopoMount[]) => {
    const by = new Map<string, TopoMount[]>();
    for (const m of list) {
      const l = by.get(m.pathLabel);
      if (l) l.push(m);
      else by.set(m.pathLabel, [m]);
    }
    return [...by.values()].filter((l) => l.length > 1);
  };
  for (const group of clash(mounts)) {
    for (const m of group) m.pathLabel += m.parent ? ` (on ${m.parent.pathLabel})` : ' (a root)';
  }
  for (const group of clash(mounts)) {
    for (const [i, m] of group.entries()) m.pathLabel += ` #${i + 1}`;
  }
  for (const m of mounts) m.label = multi ? `${ns.label}:${m.pathLabel}` : m.pathLabel;
}

/**
 * The topology as id-free text, one line per mount and task, for people and
 * for tests: captures that differ only by renumbering give the same text.
 */
export function describeTopology(t: Topology): string {
  const ext = new Map<number, string>();
  const refText = (r: GroupRef | undefined): string => {
    if (!r) return '-';
    if (r.kind === 'group') return `peers-of(${r.group.members[0]!.label})`;
    if (!ext.has(r.id)) ext.set(r.id, `outside#${ext.size + 1}`);
    return ext.get(r.id)!;
  };
  const nsfs = new Map<string, string>();
  const rootText = (m: TopoMount): string => {
    const n = nsfsRoot(m);
    if (!n) return displayPath(m.root);
    if (!nsfs.has(m.root)) nsfs.set(m.root, `${n.type}:[#${nsfs.size + 1}]`);
    return nsfs.get(m.root)!;
  };
  const lines: string[] = [];
  for (const m of t.mounts) {
    const dev = m.superblock.major === 0 ? `sb-of(${m.superblock.members[0]!.label})` : `${m.superblock.device}`;
    lines.push(
      [
        m.label,
        `parent=${m.parent ? m.parent.label : '-'}`,
        `${displayPath(m.fsType)} ${displayPath(m.source)}`,
        `root=${rootText(m)}`,
        `opts=${m.mountOptions.join(',')}`,
        `super=${displayPath(m.superOptions.join(','))}`,
        `dev=${dev}`,
        `shared=${m.peerGroup ? `peers-of(${m.peerGroup.members[0]!.label})` : '-'}`,
        `master=${refText(m.master)}`,
        `propagate_from=${refText(m.propagateFrom)}`,
        m.unbindable ? 'unbindable' : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
  }
  for (const task of t.tasks) {
    lines.push(
      `task ${displayPath(task.name)} ${task.namespace.label} ` +
        `cwd=${displayPath(task.cwd ?? '?')} root=${displayPath(task.root ?? '?')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A bind mount of a namespace file (nsfs) has a root like "net:[4026531992]":
 * the namespace's inode number, which a restore changes. Such roots are
 * compared by which mounts name the same namespace, not by number.
 */
export function nsfsRoot(m: TopoMount): { type: string; inode: string } | undefined {
  if (m.fsType !== 'nsfs') return undefined;
  const r = /^([a-z_]+):\[(\d+)\]$/.exec(m.root);
  return r ? { type: r[1]!, inode: r[2]! } : undefined;
}
