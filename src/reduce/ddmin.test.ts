import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { ddmin, split, type Verdict } from './ddmin.js';

/** An oracle that reproduces when every element of `needed` is there, and records what it was asked. */
function needs(needed: number[], asked: number[][] = []) {
  return async (cands: number[][]): Promise<Verdict[]> =>
    cands.map((c) => {
      asked.push(c);
      return needed.every((x) => c.includes(x)) ? 'reproduces' : 'passes';
    });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('ddmin', () => {
  it('splits into near-equal chunks in order, never an empty one', () => {
    assert.deepEqual(split(range(5), 2), [
      [0, 1],
      [2, 3, 4],
    ]);
    assert.deepEqual(split(range(3), 3), [[0], [1], [2]]);
    assert.deepEqual(split(range(2), 4), [[0], [1]]);
  });

  it('finds one culprit among twenty in few tries', async () => {
    const r = await ddmin(range(20), { test: needs([13]) });
    assert.deepEqual(r.kept, [13]);
    assert.ok(r.complete);
    // Halving: about 2 log2(20); a linear search would take 20.
    assert.ok(r.tested <= 12, `tested ${r.tested}`);
  });

  it('keeps two elements that fail only together', async () => {
    const r = await ddmin(range(20), { test: needs([3, 17]) });
    assert.deepEqual(r.kept, [3, 17]);
  });

  it('returns exactly the needed set for any monotone failure (1-minimal), whatever the seed and batch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 40 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: Math.min(n, 5) }),
              fc.nat(1000),
              fc.integer({ min: 1, max: 4 }),
            ),
          ),
        async ([n, needed, seed, batch]) => {
          const r = await ddmin(range(n), { test: needs(needed), seed, batch });
          assert.deepEqual(
            r.kept,
            [...needed].sort((a, b) => a - b),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is deterministic for a seed: the same candidates in the same order; another seed may differ', async () => {
    const run = async (seed: number) => {
      const asked: number[][] = [];
      await ddmin(range(16), { test: needs([2, 9], asked), seed });
      return asked.map((c) => c.join(','));
    };
    assert.deepEqual(await run(7), await run(7));
    assert.notDeepEqual(await run(7), await run(8));
  });

  it('gives the same answer with batches, asking each distinct candidate once', async () => {
    const asked: number[][] = [];
    const one = await ddmin(range(24), { test: needs([5, 6, 20]) });
    const four = await ddmin(range(24), { test: needs([5, 6, 20], asked), batch: 4 });
    assert.deepEqual(four.kept, one.kept);
    const keys = asked.map((c) => c.join(','));
    assert.equal(new Set(keys).size, keys.length);
  });

  it('treats an invalid candidate as one that does not reproduce', async () => {
    // Candidates without 0 are not scenarios (say, a bind whose mkdir went); 7 is the bug.
    const test = async (cands: number[][]): Promise<Verdict[]> =>
      cands.map((c) => (!c.includes(0) ? 'invalid' : c.includes(7) ? 'reproduces' : 'passes'));
    const r = await ddmin(range(12), { test });
    assert.deepEqual(r.kept, [0, 7]);
  });

  it('stops when told, with the smallest list that reproduced so far', async () => {
    let calls = 0;
    const r = await ddmin(range(32), { test: needs([1, 30]), stop: () => ++calls > 8 });
    assert.equal(r.complete, false);
    assert.ok(r.kept.includes(1) && r.kept.includes(30));
    assert.ok(r.kept.length < 32);
  });
});
