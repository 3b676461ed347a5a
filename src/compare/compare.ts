/**
 * Compares the topology captured before a dump with the one after restore.
 *
 * Strictly stronger than CRIU's own zdtm check, which compares a bag of
 * (root, mountpoint, options, has-shared, has-master): here the tree shape,
 * the filesystem type and source, super options, superblock sharing, peer
 * group membership (across namespaces), master and propagate_from links and
 * task namespaces are compared too, all up to renumbering (see topology.ts).
 *
 * Every difference is one sentence for a kernel developer, naming mounts by
 * their before-dump label. One change is reported once where the evidence
 * allows (see match.ts): a lost mount does not also make its descendants
 * "changed".
 */
import type { Capture } from '../capture/capture-file.js';
import {
  masterText,
  mountSummary,
  optionsText,
  propagateFromText,
  stateText,
  subject,
  type Namer,
  type Side,
} from './explain.js';
import {
  DIFFERENCE_KINDS,
  type Comparison,
  type Difference,
  type DifferenceKind,
  type FilteredSuperOption,
} from './difference.js';
import { compareFds } from './fds.js';
import { compareMaps } from './maps.js';
import { byText, changeText, displayPath, listText, plural } from './text.js';
import { matchTopologies, type Matching } from './match.js';
import { diffPartitions, type PartitionChange } from './partition.js';
import {
  DEFAULT_IGNORED_SUPER_OPTIONS,
  ignoringRule,
  sequenceOptions,
  type IgnoredSuperOption,
} from './super-options.js';
import {
  buildTopology,
  nsfsRoot,
  type GroupRef,
  type Topology,
  type TopoMount,
  type TopoNamespace,
} from './topology.js';

export { DEFAULT_IGNORED_SUPER_OPTIONS, type IgnoredSuperOption } from './super-options.js';
// The vocabulary lives in difference.ts; re-exported for the stages that compare.
export {
  DIFFERENCE_KINDS,
  type Comparison,
  type Difference,
  type DifferenceKind,
  type FilteredSuperOption,
} from './difference.js';

export interface CompareOptions {
  /** Replaces DEFAULT_IGNORED_SUPER_OPTIONS; pass [] to compare every super option. */
  ignoreSuperOptions?: readonly IgnoredSuperOption[];
  /**
   * Compare block devices (major != 0) by number, not only as a partition.
   * Default true: the lab restores on the machine it dumped on, where a
   * disk keeps its major:minor; only anonymous devices (major 0) renumber.
   */
  literalBlockDevices?: boolean;
}

/** Compares mounts, tasks and, where the captures have `@fd` lines, open files (fds.ts). */
export function compareCaptures(before: Capture, after: Capture, opts: CompareOptions = {}): Comparison {
  return compareBoth(buildTopology(before), buildTopology(after), opts, { before, after });
}

/** Compares mounts and tasks; a topology keeps no open files, so compare captures to compare those. */
export function compareTopologies(before: Topology, after: Topology, opts: CompareOptions = {}): Comparison {
  return compareBoth(before, after, opts, undefined);
}

function compareBoth(
  before: Topology,
  after: Topology,
  opts: CompareOptions,
  captures: { before: Capture; after: Capture } | undefined,
): Comparison {
  const M = matchTopologies(before, after);
  const afterLabel = (a: TopoMount): string => {
    const b = M.back.get(a);
    if (b) return b.label;
    const nb = M.nsBack.get(a.ns);
    if (!nb) return `${a.ns.label}(after):${a.pathLabel}`;
    return before.multiNamespace ? `${nb.label}:${a.pathLabel}` : a.pathLabel;
  };
  const ctx: Ctx = {
    B: before,
    A: after,
    M,
    namer: { label: (m, side) => (side === 'before' ? m.label : afterLabel(m)) },
    out: [],
    pairs: before.mounts.filter((b) => M.mounts.has(b)).map((b) => [b, M.mounts.get(b)!] as const),
    rules: opts.ignoreSuperOptions ?? DEFAULT_IGNORED_SUPER_OPTIONS,
    filtered: new Map(),
    literalBlockDevices: opts.literalBlockDevices ?? true,
  };
  compareTasks(ctx);
  compareMountSets(ctx);
  compareAttributes(ctx);
  compareSuperblocks(ctx);
  comparePeers(ctx);
  compareMasters(ctx);
  compareNsfsRoots(ctx);
  const fds = captures
    ? compareFds({ ...captures, B: before, A: after, M, namer: ctx.namer })
    : { differences: [], notes: [] };
  ctx.out.push(...fds.differences);
  const maps = captures
    ? compareMaps({ ...captures, B: before, A: after, M, namer: ctx.namer })
    : { differences: [], notes: [] };
  ctx.out.push(...maps.differences);

  const rank = new Map<string, number>(DIFFERENCE_KINDS.map((k, i) => [k, i]));
  const differences = ctx.out.sort(
    (x, y) =>
      byText(x.mount ?? '', y.mount ?? '') ||
      rank.get(x.kind)! - rank.get(y.kind)! ||
      byText(x.task ?? '', y.task ?? '') ||
      byText(x.sentence, y.sentence),
  );
  return {
    equivalent: differences.length === 0,
    differences,
    filtered: [...ctx.filtered.values()],
    notes: [
      ...before.notes.map((n) => `before: ${n}`),
      ...after.notes.map((n) => `after: ${n}`),
      ...fds.notes,
      ...maps.notes,
    ],
  };
}

interface Ctx {
  B: Topology;
  A: Topology;
  M: Matching;
  namer: Namer;
  out: Difference[];
  /** Matched mounts, in the before topology's canonical order. */
  pairs: (readonly [TopoMount, TopoMount])[];
  rules: readonly IgnoredSuperOption[];
  filtered: Map<IgnoredSuperOption, FilteredSuperOption>;
  literalBlockDevices: boolean;
}

const d = displayPath;

const sortedLabels = (ms: readonly TopoMount[]): string[] => ms.map((m) => m.label).sort(byText);

function mountDiff(ctx: Ctx, kind: DifferenceKind, mounts: string[], sentence: string): void {
  ctx.out.push({ kind, mount: mounts[0]!, mounts, sentence });
}

/**
 * Collects per-mount findings that share a cause (the same peer group lost
 * its master, the same superblock changed an option) into one sentence.
 */
class Gather {
  private groups = new Map<string, { kind: DifferenceKind; mounts: string[]; make: (labels: string[]) => string }>();
  add(key: string, kind: DifferenceKind, mount: string, make: (labels: string[]) => string): void {
    const g = this.groups.get(`${kind}\0${key}`);
    if (g) g.mounts.push(mount);
    else this.groups.set(`${kind}\0${key}`, { kind, mounts: [mount], make });
  }
  flush(ctx: Ctx): void {
    for (const g of this.groups.values()) {
      const labels = [...g.mounts].sort(byText);
      mountDiff(ctx, g.kind, labels, g.make(labels));
    }
  }
}

// ---------------------------------------------------------------- tasks

function compareTasks(ctx: Ctx): void {
  const { B, A, M } = ctx;
  const inA = new Map(A.tasks.map((t) => [t.name, t]));
  const inB = new Map(B.tasks.map((t) => [t.name, t]));
  const nsOf = (ns: TopoNamespace) => (B.multiNamespace ? `, in ${ns.label}` : '');
  for (const t of B.tasks) {
    if (!inA.has(t.name)) {
      ctx.out.push({
        kind: 'task-lost',
        task: t.name,
        tasks: [t.name],
        sentence: `task ${d(t.name)} (pid ${t.pid}${nsOf(t.namespace)}) is missing after restore`,
      });
    }
  }
  for (const t of A.tasks) {
    if (!inB.has(t.name)) {
      ctx.out.push({
        kind: 'task-added',
        task: t.name,
        tasks: [t.name],
        sentence: `after restore there is an extra task ${d(t.name)} (pid ${t.pid})`,
      });
    }
  }

  // Which tasks share a mount namespace is a partition of the tasks.
  const common = B.tasks.filter((t) => inA.has(t.name));
  const { splits, merges } = diffPartitions(
    common.map((t) => ({
      item: t.name,
      before: String(t.namespace.index),
      after: String(inA.get(t.name)!.namespace.index),
    })),
  );
  const names = (l: string[]) => listText(l.map(d));
  for (const s of splits) {
    ctx.out.push({
      kind: 'task-namespace-changed',
      task: s.members[0]!,
      tasks: s.members,
      sentence:
        `tasks ${names(s.members)} shared a mount namespace (${B.namespaces[Number(s.cls) - 1]!.label}) ` +
        `before the dump; after restore they are in ${s.parts.length} different ones: ` +
        s.parts.map((p) => names(p.members)).join('; '),
    });
  }
  for (const m of merges) {
    ctx.out.push({
      kind: 'task-namespace-changed',
      task: m.members[0]!,
      tasks: m.members,
      sentence:
        `tasks ${m.parts.map((p) => `${names(p.members)} (${B.namespaces[Number(p.cls) - 1]!.label})`).join(' and ')}` +
        ' were in different mount namespaces before the dump; after restore they share one',
    });
  }

  if (B.namespaces.length !== A.namespaces.length) {
    const count = (n: number, one: string, many: string) =>
      n === 1 ? `${one} 1 mount namespace` : `${many} ${n} mount namespaces`;
    const list = (t: Topology) => t.namespaces.map((n) => `{${names(n.tasks.map((x) => x.name))}}`).join(', ');
    ctx.out.push({
      kind: 'namespace-count-changed',
      sentence:
        `there ${count(B.namespaces.length, 'was', 'were')} before the dump (tasks ${list(B)}); ` +
        `after restore there ${count(A.namespaces.length, 'is', 'are')}` +
        (A.namespaces.length ? ` (tasks ${list(A)})` : ''),
    });
  }
  for (const n of B.namespaces) {
    if (M.ns.has(n)) continue;
    const tasks = n.tasks.map((t) => t.name);
    ctx.out.push({
      kind: 'namespace-lost',
      task: tasks[0]!,
      tasks,
      sentence:
        `the mount namespace ${n.label} of ${tasks.length === 1 ? 'task' : 'tasks'} ${names(tasks)} ` +
        `(${plural(n.mounts.length, 'mount')}) has no counterpart after restore, so its mounts were not compared`,
    });
  }
  for (const n of A.namespaces) {
    if (M.nsBack.has(n)) continue;
    const tasks = n.tasks.map((t) => t.name);
    ctx.out.push({
      kind: 'namespace-added',
      task: tasks[0]!,
      tasks,
      sentence:
        `after restore there is an extra mount namespace, of ${tasks.length === 1 ? 'task' : 'tasks'} ` +
        `${names(tasks)} (${plural(n.mounts.length, 'mount')})`,
    });
  }

  // '?' is what the guest prints when it could not read the link.
  const known = (s: string | undefined): s is string => s !== undefined && s !== '?';
  for (const tb of common) {
    const ta = inA.get(tb.name)!;
    for (const [kind, what, vb, va] of [
      ['task-cwd-changed', 'working directory', tb.cwd, ta.cwd],
      ['task-root-changed', 'root directory', tb.root, ta.root],
    ] as const) {
      if (known(vb) && known(va) && vb !== va) {
        ctx.out.push({
          kind,
          task: tb.name,
          tasks: [tb.name],
          sentence: `task ${d(tb.name)}: ${what} changed: ${changeText(vb, va)}`,
        });
      }
    }
  }
}

// ---------------------------------------------------------------- lost and added mounts

function compareMountSets(ctx: Ctx): void {
  const { B, A, M, namer } = ctx;
  // A lost mount takes its lost descendants along in one sentence.
  const report = (m: TopoMount, side: Side, matched: Map<TopoMount, TopoMount>) => {
    const below: TopoMount[] = [];
    const stack = [...m.children];
    while (stack.length) {
      const c = stack.pop()!;
      if (matched.has(c)) continue;
      below.push(c);
      stack.push(...c.children);
    }
    const labels = below.map((c) => namer.label(c, side)).sort(byText);
    const self = namer.label(m, side);
    const n = labels.length;
    if (side === 'before') {
      const tail = n ? `, and so ${n === 1 ? 'is the mount' : `are the ${n} mounts`} on it: ${listText(labels)}` : '';
      mountDiff(ctx, 'mount-lost', [self, ...labels], `${self} is missing after restore (${mountSummary(m)})${tail}`);
    } else {
      const on = m.parent ? `, on ${namer.label(m.parent, 'after')}` : '';
      const tail = n ? `, with ${n === 1 ? 'one more mount' : `${n} more mounts`} on it: ${listText(labels)}` : '';
      mountDiff(
        ctx,
        'mount-added',
        [self, ...labels],
        `after restore there is an extra mount ${self} (${mountSummary(m)})${on}${tail}`,
      );
    }
  };
  for (const b of B.mounts) {
    if (!M.ns.has(b.ns) || M.mounts.has(b)) continue;
    if (b.parent && !M.mounts.has(b.parent)) continue; // told with its lost ancestor
    report(b, 'before', M.mounts);
  }
  for (const a of A.mounts) {
    if (!M.nsBack.has(a.ns) || M.back.has(a)) continue;
    if (a.parent && !M.back.has(a.parent)) continue;
    report(a, 'after', M.back);
  }
}

// ---------------------------------------------------------------- per-mount attributes

function compareAttributes(ctx: Ctx): void {
  const { M, namer } = ctx;
  const superOpts = new Gather();
  for (const [b, a] of ctx.pairs) {
    const L = b.label;
    const how = M.how.get(b);
    if (how === 'moved') {
      mountDiff(ctx, 'mountpoint-changed', [L], `${L}: mountpoint changed: ${changeText(b.mountPoint, a.mountPoint)}`);
    } else if (how === 'reparented') {
      const was = b.parent
        ? `a child of the mount ${namer.label(b.parent, 'before')}`
        : 'a root of its mount tree (its parent not in the table)';
      const now = a.parent
        ? `a child of the mount ${namer.label(a.parent, 'after')}`
        : 'a root of its mount tree (its parent not in the table)';
      mountDiff(ctx, 'parent-changed', [L], `${L} was ${was}; after restore it is ${now}`);
    }
    const nb = nsfsRoot(b);
    const na = nsfsRoot(a);
    // Two nsfs roots differ only in kind here; which namespace they name is a partition (compareNsfsRoots).
    if (nb && na ? nb.type !== na.type : b.root !== a.root) {
      mountDiff(ctx, 'root-changed', [L], `${L}: mount root changed: ${changeText(b.root, a.root)}`);
    }
    if (b.fsType !== a.fsType)
      mountDiff(ctx, 'fstype-changed', [L], `${L}: filesystem type changed: ${changeText(b.fsType, a.fsType)}`);
    if (b.source !== a.source)
      mountDiff(ctx, 'source-changed', [L], `${L}: mount source changed: ${changeText(b.source, a.source)}`);
    const sb = b.superblock;
    const sa = a.superblock;
    if (ctx.literalBlockDevices && (sb.major !== sa.major || (sb.major !== 0 && sb.minor !== sa.minor))) {
      mountDiff(
        ctx,
        'device-changed',
        [L],
        `${L}: device changed: ${sb.device}${sb.major === 0 ? ' (anonymous)' : ''} -> ` +
          `${sa.device}${sa.major === 0 ? ' (anonymous)' : ''}`,
      );
    }
    const mo = setDiff(b.mountOptions, a.mountOptions);
    if (mo) mountDiff(ctx, 'mount-options-changed', [L], `${L}: mount options changed: ${mo}`);

    const keptB = keptSuperOptions(ctx, b, 'before', a);
    const keptA = keptSuperOptions(ctx, a, 'after', b);
    const so =
      setDiff(keptB, keptA) ?? sequenceDiff(sequenceOptions(b.fsType, keptB), sequenceOptions(a.fsType, keptA));
    // Super options belong to the superblock: every mount of it shows the
    // same change, which is one change.
    if (so)
      superOpts.add(
        `${sb.device}\0${so}`,
        'super-options-changed',
        L,
        (ls) => `${subject(ls).text}: super options changed: ${so}`,
      );

    if (b.unbindable !== a.unbindable) {
      mountDiff(
        ctx,
        'unbindable-changed',
        [L],
        b.unbindable
          ? `${L} was unbindable; after restore it is bindable`
          : `${L} was bindable; after restore it is unbindable`,
      );
    }
    // Known only where the helper probed both sides (a namespace owned by a user namespace other than the guest's).
    if (b.locked !== undefined && a.locked !== undefined && b.locked !== a.locked) {
      mountDiff(
        ctx,
        'lock-changed',
        [L],
        b.locked
          ? `${L} was locked (MNT_LOCKED: inherited into a less privileged user namespace, it could not be ` +
              'unmounted or moved apart from its parent); after restore it is not locked'
          : `${L} was not locked; after restore it is locked (MNT_LOCKED): it can no longer be unmounted or moved ` +
              'apart from its parent',
      );
    }
  }
  superOpts.flush(ctx);
}

/** "ro -> rw", "nosuid dropped", "noexec added"; undefined when equal as sets. */
function setDiff(before: readonly string[], after: readonly string[]): string | undefined {
  const sb = new Set(before);
  const sa = new Set(after);
  const gone = [...sb].filter((o) => !sa.has(o));
  const came = [...sa].filter((o) => !sb.has(o));
  if (!gone.length && !came.length) return undefined;
  if (gone.length && came.length) return `${optionsText(gone)} -> ${optionsText(came)}`;
  if (gone.length) return `${optionsText(gone)} dropped`;
  return `${optionsText(came)} added`;
}

/**
 * "layer order x,y -> y,x" when two sequences (see SEQUENCE_SUPER_OPTIONS)
 * differ in order or count; undefined when equal.
 */
function sequenceDiff(before: readonly string[], after: readonly string[]): string | undefined {
  if (before.length === after.length && before.every((o, i) => o === after[i])) return undefined;
  return `layer order ${optionsText(before)} -> ${optionsText(after)}`;
}

/** The super options that are compared; the ignored ones are recorded in ctx.filtered. */
function keptSuperOptions(ctx: Ctx, m: TopoMount, side: Side, other: TopoMount): string[] {
  const kept: string[] = [];
  for (const o of m.superOptions) {
    const rule = ignoringRule(ctx.rules, m.fsType, o);
    if (!rule) {
      kept.push(o);
      continue;
    }
    let f = ctx.filtered.get(rule);
    if (!f) ctx.filtered.set(rule, (f = { ...rule, mounts: [], differed: false }));
    const label = ctx.namer.label(m, side);
    if (!f.mounts.includes(label)) f.mounts.push(label);
    if (!other.superOptions.includes(o)) f.differed = true;
  }
  return kept;
}

// ---------------------------------------------------------------- superblocks

function compareSuperblocks(ctx: Ctx): void {
  const { splits, merges } = diffPartitions(
    ctx.pairs.map(([b, a]) => ({ item: b, before: b.superblock.device, after: a.superblock.device })),
  );
  const labels = sortedLabels;
  for (const s of splits) {
    const first = s.members[0]!;
    mountDiff(
      ctx,
      'superblock-split',
      labels(s.members),
      `${listText(labels(s.members))} were mounts of one superblock (${d(first.fsType)}, ${s.cls}); ` +
        `after restore they are on ${s.parts.length} different superblocks: ` +
        s.parts.map((p) => `${listText(labels(p.members))} (${p.cls})`).join('; '),
    );
  }
  for (const m of merges) {
    mountDiff(
      ctx,
      'superblock-merged',
      labels(m.members),
      m.parts.map((p) => `${listText(labels(p.members))} (${p.cls})`).join(' and ') +
        ` were on different superblocks; after restore they share one (${m.cls})`,
    );
  }
}

// ---------------------------------------------------------------- peer groups

function comparePeers(ctx: Ctx): void {
  const { namer } = ctx;
  const gather = new Gather();
  const both: { item: TopoMount; before: string; after: string }[] = [];
  for (const [b, a] of ctx.pairs) {
    const gb = b.peerGroup;
    const ga = a.peerGroup;
    if (gb && ga) {
      both.push({ item: b, before: String(gb.id), after: String(ga.id) });
    } else if (gb) {
      // The sentence gives the whole state on both sides, master included,
      // so compareMasters() leaves this mount alone.
      const now = stateText(a, 'after', namer);
      gather.add(`${gb.id}\0${refKey(b.master)}\0${now}`, 'shared-changed', b.label, (ls) => {
        const s = subject(ls);
        const others = gb.members.map((m) => m.label).filter((l) => !ls.includes(l));
        return `${s.text} ${s.was} ${stateText(b, 'before', namer, others)}; after restore ${s.is} ${now}`;
      });
    } else if (ga) {
      const was = stateText(b, 'before', namer);
      gather.add(`${ga.id}\0${refKey(a.master)}\0${was}`, 'shared-changed', b.label, (ls) => {
        const s = subject(ls);
        const others = ga.members.map((m) => namer.label(m, 'after')).filter((l) => !ls.includes(l));
        return `${s.text} ${s.was} ${was}; after restore ${s.is} ${stateText(a, 'after', namer, others)}`;
      });
    }
  }
  gather.flush(ctx);
  const { splits, merges } = diffPartitions(both);
  const labels = sortedLabels;
  for (const s of splits) {
    mountDiff(
      ctx,
      'peers-split',
      labels(s.members),
      `${listText(labels(s.members))} were peers (shared:${s.cls}); ` +
        `after restore they are in ${s.parts.length} different peer groups: ` +
        s.parts.map((p) => `${listText(labels(p.members))} (shared:${p.cls})`).join('; '),
    );
  }
  for (const m of merges) {
    mountDiff(
      ctx,
      'peers-merged',
      labels(m.members),
      m.parts.map((p) => `${listText(labels(p.members))} (shared:${p.cls})`).join(' and ') +
        ` were in different peer groups; after restore they are peers (shared:${m.cls})`,
    );
  }
}

// ---------------------------------------------------------------- master and propagate_from

type RefChange = 'same' | 'gained' | 'lost' | 'changed';

/**
 * Whether master:N before and after name the same peer group. A group is
 * the same when the after-group holds the counterpart of a member of the
 * before-group. A group all of whose members are gone, or none of whose
 * members existed before, cannot be told from one outside the capture, and
 * the lost or added members are reported themselves.
 */
function refChange(M: Matching, rb: GroupRef | undefined, ra: GroupRef | undefined): RefChange {
  if (!rb && !ra) return 'same';
  if (!rb) return 'gained';
  if (!ra) return 'lost';
  // Both outside: which mounts share one is a partition, compared apart.
  if (rb.kind === 'external' && ra.kind === 'external') return 'same';
  const seenB = rb.kind === 'group' ? rb.group.members.filter((m) => M.mounts.has(m)) : [];
  const seenA = ra.kind === 'group' ? ra.group.members.filter((m) => M.back.has(m)) : [];
  if (rb.kind === 'group' && ra.kind === 'group' && seenB.some((m) => M.mounts.get(m)!.peerGroup === ra.group))
    return 'same';
  return seenB.length === 0 && seenA.length === 0 ? 'same' : 'changed';
}

function refKey(r: GroupRef | undefined): string {
  return r ? `${r.kind}:${r.id}` : '-';
}

function compareMasters(ctx: Ctx): void {
  const { M, namer } = ctx;
  const gather = new Gather();
  const outside: { item: ExtRef; before: string; after: string }[] = [];
  for (const [b, a] of ctx.pairs) {
    // Peers share their master, so a peer group that lost it is one sentence.
    const unit = b.peerGroup ? `g${b.peerGroup.id}` : `m${b.label}`;
    // A mount that became shared or stopped being shared is one sentence, with its master, in comparePeers().
    const change = !b.peerGroup !== !a.peerGroup ? 'same' : refChange(M, b.master, a.master);
    if (change === 'gained') {
      const was = stateText(b, 'before', namer);
      const now = masterText(a.master!, 'after', namer);
      gather.add(`${unit}\0${refKey(a.master)}\0${was}`, 'master-gained', b.label, (ls) => {
        const s = subject(ls);
        return `${s.text} ${s.was} ${was}; after restore ${s.is} ${now}`;
      });
    } else if (change === 'lost') {
      const was = masterText(b.master!, 'before', namer);
      const now = stateText(a, 'after', namer);
      gather.add(`${unit}\0${refKey(b.master)}\0${now}`, 'master-lost', b.label, (ls) => {
        const s = subject(ls);
        return `${s.text} ${s.was} ${was}; after restore ${s.is} ${now}`;
      });
    } else if (change === 'changed') {
      const was = masterText(b.master!, 'before', namer);
      const now = masterText(a.master!, 'after', namer);
      gather.add(`${unit}\0${refKey(b.master)}\0${refKey(a.master)}`, 'master-changed', b.label, (ls) => {
        const s = subject(ls);
        return `${s.text} ${s.was} ${was}; after restore ${s.is} ${now}`;
      });
    }
    if (b.master?.kind === 'external' && a.master?.kind === 'external') {
      if (named(b.master, a.master)) {
        const was = masterText(b.master, 'before', namer);
        const now = masterText(a.master, 'after', namer);
        gather.add(`${unit}\0${refKey(b.master)}\0${refKey(a.master)}`, 'master-changed', b.label, (ls) => {
          const s = subject(ls);
          return `${s.text} ${s.was} ${was}; after restore ${s.is} ${now}`;
        });
      } else if (!b.master.outside || !a.master.outside) {
        outside.push({ item: { m: b, field: 'master' }, before: String(b.master.id), after: String(a.master.id) });
      }
    }

    if (refChange(M, b.propagateFrom, a.propagateFrom) !== 'same') {
      const was = propagateFromText(b.propagateFrom, 'before', namer);
      const now = propagateFromText(a.propagateFrom, 'after', namer);
      gather.add(
        `${unit}\0${refKey(b.propagateFrom)}\0${refKey(a.propagateFrom)}`,
        'propagate-from-changed',
        b.label,
        (ls) => `${subject(ls).text}: propagate_from changed: ${was} -> ${now}`,
      );
    }
    if (b.propagateFrom?.kind === 'external' && a.propagateFrom?.kind === 'external') {
      if (named(b.propagateFrom, a.propagateFrom)) {
        const was = propagateFromText(b.propagateFrom, 'before', namer);
        const now = propagateFromText(a.propagateFrom, 'after', namer);
        const key = `${unit}\0${refKey(b.propagateFrom)}\0${refKey(a.propagateFrom)}`;
        const say = (ls: string[]) => `${subject(ls).text}: propagate_from changed: ${was} -> ${now}`;
        gather.add(key, 'propagate-from-changed', b.label, say);
      } else if (!b.propagateFrom.outside || !a.propagateFrom.outside) {
        const [before, after] = [String(b.propagateFrom.id), String(a.propagateFrom.id)];
        outside.push({ item: { m: b, field: 'propagate_from' }, before, after });
      }
    }
  }
  gather.flush(ctx);
  externalPartition(ctx, outside);
}

/** One use of a peer group outside the capture: a mount's master or its propagate_from. */
interface ExtRef {
  m: TopoMount;
  field: 'master' | 'propagate_from';
}

/**
 * Both sides name an outside group by the outside mounts that carry it
 * (both captures have an @outside section) and the names differ. A group
 * the section lacks on both sides is left to the partition; on one side
 * only, the names differ.
 */
function named(rb: GroupRef & { kind: 'external' }, ra: GroupRef & { kind: 'external' }): boolean {
  if (!rb.outside || !ra.outside) return false;
  if (rb.outside.length === 0 && ra.outside.length === 0) return false;
  return rb.outside.join('\0') !== ra.outside.join('\0');
}

/**
 * Peer groups outside the capture that no outside mount names can only be
 * named by their numbers, which renumber; what must survive is which uses
 * share one. A master and a propagate_from are uses of the same kind: two
 * fields that named one group before must name one group after (they are
 * one partition, not one per field).
 */
function externalPartition(ctx: Ctx, items: { item: ExtRef; before: string; after: string }[]): void {
  const { splits, merges } = diffPartitions(items);
  const kind = (rs: ExtRef[]): DifferenceKind =>
    rs.some((r) => r.field === 'master') ? 'master-changed' : 'propagate-from-changed';
  const mounts = (rs: ExtRef[]) => [...new Set(rs.map((r) => r.m.label))].sort(byText);
  const fields = (rs: ExtRef[]) => new Set(rs.map((r) => r.field));
  // One field: the sentence says it once; both: each use says which.
  const uses = (rs: ExtRef[], mixed: boolean) =>
    listText(rs.map((r) => (mixed ? `${r.m.label} (${r.field})` : r.m.label)).sort(byText));
  const relation = (rs: ExtRef[]) => {
    const f = fields(rs);
    if (f.size > 1) return { mixed: true, were: 'named', are: 'name' };
    if (f.has('master')) return { mixed: false, were: 'were slaves of', are: 'are slaves of' };
    return { mixed: false, were: 'were receiving propagation from', are: 'are receiving propagation from' };
  };
  const part = (p: PartitionChange<ExtRef>['parts'][number], mixed: boolean) =>
    mixed
      ? listText(p.members.map((r) => `${r.m.label} (${r.field}:${p.cls})`).sort(byText))
      : `${uses(p.members, false)} (${[...fields(p.members)].map((f) => `${f}:${p.cls}`).join(', ')})`;
  for (const s of splits) {
    const r = relation(s.members);
    const f = [...fields(s.members)].map((x) => `${x}:${s.cls}`).join(', ');
    mountDiff(
      ctx,
      kind(s.members),
      mounts(s.members),
      `${uses(s.members, r.mixed)} ${r.were} the same peer group outside the capture (${f}); ` +
        `after restore they ${r.are} ${s.parts.length} different ones: ` +
        s.parts.map((p) => part(p, r.mixed)).join('; '),
    );
  }
  for (const m of merges) {
    const r = relation(m.members);
    const f = [...fields(m.members)].map((x) => `${x}:${m.cls}`).join(', ');
    mountDiff(
      ctx,
      kind(m.members),
      mounts(m.members),
      `${m.parts.map((p) => part(p, r.mixed)).join(' and ')} ${r.were} different peer groups outside the capture; ` +
        `after restore they ${r.are} the same one (${f})`,
    );
  }
}

// ---------------------------------------------------------------- nsfs

function compareNsfsRoots(ctx: Ctx): void {
  const items: { item: TopoMount; before: string; after: string }[] = [];
  for (const [b, a] of ctx.pairs) {
    const nb = nsfsRoot(b);
    const na = nsfsRoot(a);
    if (nb && na && nb.type === na.type) items.push({ item: b, before: b.root, after: a.root });
  }
  const { splits, merges } = diffPartitions(items);
  const labels = sortedLabels;
  for (const s of splits) {
    mountDiff(
      ctx,
      'root-changed',
      labels(s.members),
      `${listText(labels(s.members))} were bind mounts of the same namespace (${s.cls}); ` +
        `after restore they name ${s.parts.length} different ones: ` +
        s.parts.map((p) => `${listText(labels(p.members))} (${p.cls})`).join('; '),
    );
  }
  for (const m of merges) {
    mountDiff(
      ctx,
      'root-changed',
      labels(m.members),
      m.parts.map((p) => `${listText(labels(p.members))} (${p.cls})`).join(' and ') +
        ` were bind mounts of different namespaces; after restore they name the same one (${m.cls})`,
    );
  }
}
