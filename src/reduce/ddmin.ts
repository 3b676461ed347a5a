/**
 * Delta debugging (Zeller and Hildebrandt's ddmin): the smallest subset of
 * a list that still makes a test fail, as long as removing any one element
 * more makes it pass (1-minimal). Generic and pure: reduce.ts gives it
 * steps, mounts or tasks and an oracle that runs them in a guest.
 *
 * Candidates are tested in batches (one per guest, -j) but the choice is
 * always the first candidate in the round's order that reproduces, so the
 * result is the same whatever the batch size; only the number of tries
 * differs (a batch runs to its end).
 */

import { prng } from '../prng.js';

/** What the oracle says of a candidate: it fails the same way, it does not, or it is no scenario at all. */

export type Verdict = 'reproduces' | 'passes' | 'invalid';

export interface DdminOptions<T> {
  /** Tests candidates (each a sub-list of the input, in its order); one verdict per candidate, in order. */
  test: (candidates: T[][]) => Promise<Verdict[]>;
  /** Candidates tested at once; 1 when absent. */
  batch?: number;
  /** Permutes the order candidates of a round are tried in; 0 (the default) keeps the natural order. */
  seed?: number;
  /** Asked before each batch: true ends the search with what it has (the budget ran out). */
  stop?: () => boolean;
  /** Called whenever a smaller list reproduced. */
  onSmaller?: (kept: T[]) => void;
}

export interface DdminResult<T> {
  kept: T[];
  /** Candidates handed to the oracle (each distinct candidate once: answers are remembered). */
  tested: number;
  /** False when stop() ended it before the list was 1-minimal. */
  complete: boolean;
}

function shuffled<T>(xs: T[], random: (() => number) | undefined): T[] {
  const out = [...xs];
  if (!random) return out;
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** n chunks of near-equal size, in order. */
export function split<T>(xs: T[], n: number): T[][] {
  const chunks: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((xs.length - start) / (n - i));
    chunks.push(xs.slice(start, end));
    start = end;
  }
  return chunks.filter((c) => c.length > 0);
}

/**
 * Shrinks `items`, which must reproduce (the caller checked), to a
 * 1-minimal sub-list that still reproduces.
 */
export async function ddmin<T>(items: T[], o: DdminOptions<T>): Promise<DdminResult<T>> {
  const random = o.seed ? prng(o.seed) : undefined;
  const batch = Math.max(1, o.batch ?? 1);
  const answers = new Map<string, Verdict>();
  let tested = 0;
  const keyOf = (idx: number[]) => idx.join(',');
  /** The first candidate, in order, that reproduces; answers remembered. */
  const firstReproducing = async (cands: number[][]): Promise<number[] | undefined | 'stopped'> => {
    for (let k = 0; k < cands.length; k++) {
      const c = cands[k]!;
      if (!answers.has(keyOf(c))) {
        if (o.stop?.()) return 'stopped';
        // This candidate and the next unknown ones, as one batch.
        const group: number[][] = [];
        for (let j = k; j < cands.length && group.length < batch; j++) {
          const d = cands[j]!;
          if (!answers.has(keyOf(d)) && !group.some((g) => keyOf(g) === keyOf(d))) group.push(d);
        }
        const verdicts = await o.test(group.map((g) => g.map((i) => items[i]!)));
        tested += group.length;
        group.forEach((g, i) => {
          answers.set(keyOf(g), verdicts[i] ?? 'invalid');
        });
      }
      if (answers.get(keyOf(c)) === 'reproduces') return c;
    }
    return undefined;
  };

  let current = items.map((_, i) => i);
  let n = 2;
  while (current.length >= 2) {
    const chunks = split(current, Math.min(n, current.length));
    const subsets = shuffled(chunks, random);
    const complements =
      chunks.length > 2
        ? shuffled(
            chunks.map((c) => current.filter((i) => !c.includes(i))),
            random,
          )
        : [];
    const found = await firstReproducing([...subsets, ...complements]);
    if (found === 'stopped') return { kept: current.map((i) => items[i]!), tested, complete: false };
    if (found) {
      const wasSubset = subsets.includes(found);
      current = found;
      n = wasSubset ? 2 : Math.max(n - 1, 2);
      o.onSmaller?.(current.map((i) => items[i]!));
      continue;
    }
    if (chunks.length >= current.length) break;
    n = Math.min(current.length, 2 * chunks.length);
  }
  return { kept: current.map((i) => items[i]!), tested, complete: true };
}
