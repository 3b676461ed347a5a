/**
 * Comparing two partitions of the same things up to renaming of the classes.
 * Peer groups, superblocks, external masters and task namespaces are all
 * such partitions: their numbers renumber across a restore, so what must
 * survive is only which things are together.
 */

export interface PartitionPart<E> {
  /** The class on the other side, as named there (a number, for quoting). */
  cls: string;
  members: E[];
}

/** One class whose members are spread over several classes on the other side. */
export interface PartitionChange<E> {
  cls: string;
  members: E[];
  parts: PartitionPart<E>[];
}

export interface PartitionDiff<E> {
  /** A before-class split across several after-classes. */
  splits: PartitionChange<E>[];
  /** An after-class that gathers members of several before-classes. */
  merges: PartitionChange<E>[];
}

/**
 * `items` are the things present on both sides with their class on each;
 * give them in a stable order (the result keeps it). A regrouping that both
 * splits and merges shows up in both lists, which is what happened.
 */
export function diffPartitions<E>(items: readonly { item: E; before: string; after: string }[]): PartitionDiff<E> {
  const side = (key: 'before' | 'after', other: 'before' | 'after'): PartitionChange<E>[] => {
    const classes = new Map<string, { members: E[]; parts: Map<string, E[]> }>();
    for (const it of items) {
      let c = classes.get(it[key]);
      if (!c) classes.set(it[key], (c = { members: [], parts: new Map() }));
      c.members.push(it.item);
      const l = c.parts.get(it[other]);
      if (l) l.push(it.item);
      else c.parts.set(it[other], [it.item]);
    }
    const out: PartitionChange<E>[] = [];
    for (const [cls, c] of classes) {
      if (c.parts.size < 2) continue;
      out.push({ cls, members: c.members, parts: [...c.parts].map(([pc, members]) => ({ cls: pc, members })) });
    }
    return out;
  };
  return { splits: side('before', 'after'), merges: side('after', 'before') };
}
