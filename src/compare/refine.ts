/**
 * Telling apart mounts that the tree alone cannot: siblings with the same
 * step and the same content that differ only in which peer group, master or
 * superblock they belong to (side by side on one mountpoint on older
 * kernels, two roots on one mountpoint in a chrooted view). Their order
 * decides their canonical paths, so it must come from the topology, never
 * from the order of the lines, or a capture and the same capture with two
 * lines swapped pair the wrong mounts and differ.
 *
 * Colour refinement (1-dimensional Weisfeiler-Leman): every mount starts
 * with a colour of what it is on its own; each round a mount's colour takes
 * in its parent's, its children's, and those of every mount that shares its
 * peer group, its master, its propagate_from or its superblock, all as
 * multisets of colours, so no group number, mount id or device minor (all
 * of which renumber) ever enters. Rounds go on until no class splits. Tied
 * siblings whose colours still agree are then separated one at a time
 * (individualisation): one of the smallest tied class is marked and the
 * refinement runs again, so that mounts linked to it (its peers elsewhere)
 * follow the choice instead of being chosen independently. Which member is
 * marked is arbitrary, but they all have the same colour, so for the
 * topologies a mount table can describe any choice gives the same result
 * up to renaming.
 */
import { createHash } from 'node:crypto';

/** What refinement needs to know about one mount; nothing here may be a number that renumbers. */
export interface RefineNode {
  parent: RefineNode | undefined;
  children: readonly RefineNode[];
  /** The colour before any round: the mount's content, its step from its parent, its namespace's tasks. */
  initial: string;
  /** Keys of the sets of mounts that must agree: 'shared', 'master', 'from', 'sb', 'nsfs'; omitted when none. */
  links: { role: string; set: string }[];
  /** Tie-break of last resort among mounts still alike (the line), used only to choose whom to mark. */
  line: number;
}

/** Rounds per refinement: classes stop splitting long before this on any real capture. */
const MAX_ROUNDS = 64;
/**
 * One mark costs a full refinement, so after this many the rest of the
 * tied classes are each split once, all at the same time: cheaper, and
 * still exact unless two such classes are linked to each other.
 */
const MAX_MARKS = 32;

function h(parts: readonly string[]): string {
  return createHash('sha1').update(parts.join('\x01'), 'latin1').digest('base64').slice(0, 16);
}

/**
 * Colours for `nodes`, as one sequence per node (a colour per round):
 * compare two sequences element by element, so the nearest evidence
 * decides. `tied` lists the groups of siblings to separate.
 */
export function refineColours(
  nodes: readonly RefineNode[],
  tied: readonly (readonly RefineNode[])[],
): Map<RefineNode, string[]> {
  let colour = new Map<RefineNode, string>(nodes.map((n) => [n, n.initial]));
  const history = new Map<RefineNode, string[]>(nodes.map((n) => [n, []]));
  const members = new Map<string, RefineNode[]>();
  for (const n of nodes) {
    for (const l of n.links) {
      const k = `${l.role}\0${l.set}`;
      const ms = members.get(k);
      if (ms) ms.push(n);
      else members.set(k, [n]);
    }
  }
  // A set seen from each of its roles: the slaves of group 5 see it by its peers, its other slaves and its
  // propagate_from users.
  const setsOf = new Map<string, string[]>();
  for (const k of members.keys()) {
    const set = k.slice(k.indexOf('\0') + 1);
    const l = setsOf.get(set);
    if (l) l.push(k);
    else setsOf.set(set, [k]);
  }
  const classes = (c: Map<RefineNode, string>) => new Set(c.values()).size;

  const round = (): void => {
    // Hashed once per set, not per member: a superblock may have 100,000 mounts.
    const agg = new Map<string, string>();
    for (const [k, ms] of members) agg.set(k, h(ms.map((m) => colour.get(m)!).sort()));
    const setColour = new Map<string, string>();
    for (const [set, keys] of setsOf)
      setColour.set(set, h(keys.map((k) => `${k.slice(0, k.indexOf('\0'))}=${agg.get(k)}`).sort()));
    const next = new Map<RefineNode, string>();
    for (const n of nodes) {
      const parts = [
        colour.get(n)!,
        n.parent ? colour.get(n.parent)! : '-',
        n.children
          .map((c) => colour.get(c)!)
          .sort()
          .join(','),
      ];
      for (const l of n.links) parts.push(`${l.role}:${setColour.get(l.set)}`);
      next.set(n, h(parts));
    }
    colour = next;
    for (const n of nodes) history.get(n)!.push(colour.get(n)!);
  };
  const refine = (): void => {
    for (let r = 0; r < MAX_ROUNDS; r++) {
      const before = classes(colour);
      round();
      if (classes(colour) === before) break;
    }
  };
  const tiedClasses = (): RefineNode[][] => {
    const out: RefineNode[][] = [];
    for (const sibs of tied) {
      const by = new Map<string, RefineNode[]>();
      for (const n of sibs) {
        const c = colour.get(n)!;
        const l = by.get(c);
        if (l) l.push(n);
        else by.set(c, [n]);
      }
      for (const l of by.values()) if (l.length > 1) out.push(l);
    }
    const key = (l: RefineNode[]) => colour.get(l[0]!)!;
    return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  };
  const mark = (cls: RefineNode[]): void => {
    const chosen = cls.reduce((a, b) => (b.line < a.line ? b : a));
    colour.set(chosen, h([colour.get(chosen)!, 'marked']));
  };

  // A class is self-contained when nothing in its members' subtrees shares a
  // group, master or superblock with a mount outside them: whichever member
  // is marked, no other class can tell, so all such classes are marked at
  // once (a thousand tied pairs cost one refinement, not a thousand).
  const selfContained = (cls: RefineNode[]): boolean => {
    const inside = new Set<RefineNode>();
    for (const stack = [...cls]; stack.length; ) {
      const n = stack.pop()!;
      inside.add(n);
      stack.push(...n.children);
    }
    for (const n of inside) {
      for (const l of n.links) {
        for (const k of setsOf.get(l.set)!) if (!members.get(k)!.every((m) => inside.has(m))) return false;
      }
    }
    return true;
  };

  refine();
  for (let marks = 0; ; ) {
    const open = tiedClasses();
    if (open.length === 0) break;
    const free = open.filter(selfContained);
    if (free.length > 0) for (const cls of free) mark(cls);
    else if (marks++ < MAX_MARKS) mark(open[0]!);
    else for (const cls of open) mark(cls);
    refine();
  }
  return history;
}

/** Element-wise order of two colour sequences of the same refinement. */
export function byColours(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}
