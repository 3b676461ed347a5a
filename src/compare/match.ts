/**
 * Pairs the namespaces and mounts of a before-topology with those of an
 * after-topology.
 *
 * Mounts are paired by canonical path in the tree first. What that misses is
 * paired by evidence, so that one change is reported once instead of as a
 * lost mount plus an added mount plus every descendant lost and added:
 * a mount whose mountpoint changed is still on the same parent with the same
 * filesystem, root and source; a mount whose parent changed still has the
 * same mountpoint and content. Children of a re-paired mount are then
 * aligned under it as usual.
 */
import { byText } from './text.js';
import { nsfsRoot, type Topology, type TopoMount, type TopoNamespace } from './topology.js';

/**
 * How a before-mount found its after-mount:
 * - path: same canonical path.
 * - mountpoint: same parent pair and same absolute mountpoint, though the
 *   step differs (the parent's own mountpoint changed); nothing to report.
 * - moved: same parent pair and content, other mountpoint.
 * - reparented: same mountpoint and content, other parent.
 * - orphaned: same mountpoint and content; its before-parent is lost, which
 *   is reported for the parent and is enough.
 */
export type MatchHow = 'path' | 'mountpoint' | 'moved' | 'reparented' | 'orphaned';

export interface Matching {
  ns: Map<TopoNamespace, TopoNamespace>;
  nsBack: Map<TopoNamespace, TopoNamespace>;
  mounts: Map<TopoMount, TopoMount>;
  back: Map<TopoMount, TopoMount>;
  /** Keyed by the before-mount. */
  how: Map<TopoMount, MatchHow>;
}

export function matchTopologies(before: Topology, after: Topology): Matching {
  const ns = matchNamespaces(before, after);
  const M: Matching = {
    ns,
    nsBack: new Map([...ns].map(([b, a]) => [a, b])),
    mounts: new Map(),
    back: new Map(),
    how: new Map(),
  };
  for (const [b, a] of ns) alignNamespace(b, a, M);
  return M;
}

/**
 * Namespaces have no stable names, so one is paired with the after-namespace
 * that holds most of the same tasks; between equally good candidates, the
 * one whose tree shares more mount paths (a task that moved to another
 * namespace should not drag its old namespace's mounts along).
 */
export function matchNamespaces(before: Topology, after: Topology): Map<TopoNamespace, TopoNamespace> {
  const keys = (n: TopoNamespace) => new Set(n.tasks.map((t) => t.key));
  const paths = (n: TopoNamespace) => new Set(n.mounts.map((m) => m.key));
  const cands: { b: TopoNamespace; a: TopoNamespace; tasks: number; mounts: number }[] = [];
  for (const b of before.namespaces) {
    const kb = keys(b);
    const pb = paths(b);
    for (const a of after.namespaces) {
      const tasks = [...keys(a)].filter((k) => kb.has(k)).length;
      if (tasks === 0) continue;
      const mounts = [...paths(a)].filter((p) => pb.has(p)).length;
      cands.push({ b, a, tasks, mounts });
    }
  }
  cands.sort((x, y) => y.tasks - x.tasks || y.mounts - x.mounts || x.b.index - y.b.index || x.a.index - y.a.index);
  const out = new Map<TopoNamespace, TopoNamespace>();
  const taken = new Set<TopoNamespace>();
  for (const c of cands) {
    if (out.has(c.b) || taken.has(c.a)) continue;
    out.set(c.b, c.a);
    taken.add(c.a);
  }
  // Two captures with one namespace each and no key in common (two plain
  // mountinfo files from different tools) still describe the same thing.
  const restB = before.namespaces.filter((n) => !out.has(n));
  const restA = after.namespaces.filter((n) => !taken.has(n));
  if (restB.length === 1 && restA.length === 1 && before.namespaces.length === 1 && after.namespaces.length === 1) {
    out.set(restB[0]!, restA[0]!);
  }
  return out;
}

/**
 * What "same content" compares, as one string, so that candidates are
 * looked up instead of searched (thousands of renamed siblings made the
 * search quadratic). nsfs roots carry an inode number that renumbers: only
 * their kind counts.
 */
function contentKey(m: TopoMount): string {
  const n = nsfsRoot(m);
  return `${m.fsType}\0${m.source}\0${n ? `ns\0${n.type}` : `root\0${m.root}`}`;
}

/**
 * Free after-mounts by a key, each list in a fixed order; take() returns
 * the first one still free. Mounts are only ever taken, never freed, so a
 * cursor per list skips each taken one once: near-linear overall.
 */
class FreeIndex {
  private lists = new Map<string, { ms: TopoMount[]; at: number }>();
  constructor(
    ms: readonly TopoMount[],
    private readonly key: (m: TopoMount) => string,
    private readonly taken: (m: TopoMount) => boolean,
  ) {
    for (const m of ms) {
      const k = key(m);
      const l = this.lists.get(k);
      if (l) l.ms.push(m);
      else this.lists.set(k, { ms: [m], at: 0 });
    }
  }
  take(like: TopoMount): TopoMount | undefined {
    const l = this.lists.get(this.key(like));
    if (!l) return undefined;
    while (l.at < l.ms.length && this.taken(l.ms[l.at]!)) l.at++;
    return l.ms[l.at];
  }
}

function alignNamespace(nb: TopoNamespace, na: TopoNamespace, M: Matching): void {
  const queue: [TopoMount[], TopoMount[]][] = [[nb.roots, na.roots]];
  const pair = (b: TopoMount, a: TopoMount, how: MatchHow) => {
    M.mounts.set(b, a);
    M.back.set(a, b);
    M.how.set(b, how);
    queue.push([b.children, a.children]);
  };
  // An index, not shift(): shifting a long array is linear each time.
  let head = 0;
  const drain = () => {
    for (; head < queue.length; head++) alignSiblings(queue[head]![0], queue[head]![1], M, pair);
  };
  drain();
  // Whatever the walk down the tree left over: mounts that changed parent,
  // and children of lost mounts that survived elsewhere.
  for (;;) {
    const rest = na.mounts.filter((a) => !M.back.has(a));
    if (rest.length === 0) break;
    const freeA = new FreeIndex(
      rest,
      (m) => `${m.mountPoint}\0${contentKey(m)}`,
      (m) => M.back.has(m),
    );
    let progress = false;
    for (const b of nb.mounts) {
      if (M.mounts.has(b)) continue;
      const a = freeA.take(b);
      if (!a) continue;
      const pb = b.parent ? M.mounts.get(b.parent) : undefined;
      let how: MatchHow;
      if (b.parent && !pb) how = 'orphaned';
      else if (pb === a.parent) how = 'mountpoint';
      else how = 'reparented';
      pair(b, a, how);
      progress = true;
      drain();
    }
    if (!progress) break;
  }
}

function alignSiblings(
  bs: TopoMount[],
  as: TopoMount[],
  M: Matching,
  pair: (b: TopoMount, a: TopoMount, how: MatchHow) => void,
): void {
  const freeA = as.filter((a) => !M.back.has(a));
  if (freeA.length === 0) return;
  const byComponent = new Map(freeA.map((a) => [a.component, a]));
  let restB: TopoMount[] = [];
  for (const b of bs) {
    if (M.mounts.has(b)) continue;
    const a = byComponent.get(b.component);
    if (a && !M.back.has(a)) pair(b, a, 'path');
    else restB.push(b);
  }
  if (restB.length === 0) return;
  // Among several that fit, the one whose canonical path sorts first.
  const byKey = freeA.filter((a) => !M.back.has(a)).sort((x, y) => byText(x.key, y.key));
  const stages: [MatchHow, (m: TopoMount) => string][] = [
    ['mountpoint', (m) => m.mountPoint],
    ['moved', contentKey],
  ];
  for (const [how, key] of stages) {
    const index = new FreeIndex(byKey, key, (m) => M.back.has(m));
    const next: TopoMount[] = [];
    for (const b of restB) {
      const a = index.take(b);
      if (a) pair(b, a, how);
      else next.push(b);
    }
    restB = next;
  }
}
