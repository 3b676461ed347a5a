import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { checkResume, Draws, indexOfDraw, newState } from './campaign-state.js';

describe('fuzz campaign state', () => {
  it('partitions the indexes of a seed among shards: every index once', () => {
    const seen: number[] = [];
    for (let k = 1; k <= 3; k++) for (let j = 0; j < 10; j++) seen.push(indexOfDraw(j, { index: k, count: 3 }));
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      Array.from({ length: 30 }, (_, i) => i),
    );
    assert.equal(indexOfDraw(5, undefined), 5);
  });

  it('hands out draws not done, and a resumed state skips what finished out of order', () => {
    const state = newState({ seed: 1, generator: 1, cells: ['a'] });
    const d = new Draws(state);
    const taken = [d.take(), d.take(), d.take()];
    assert.deepEqual(taken, [0, 1, 2]);
    // Parallel guests: 0 and 2 finish, 1 is interrupted.
    d.finish(0);
    d.finish(2);
    assert.deepEqual([state.drawsDone, state.doneAbove], [1, [2]]);
    const again = new Draws(JSON.parse(JSON.stringify(state)));
    assert.deepEqual([again.take(), again.take()], [1, 3]);
  });

  it('refuses to resume with another generator, seed, shard or cells, saying what to do', () => {
    const state = newState({ seed: 7, generator: 1, shard: { index: 1, count: 2 }, cells: ['a', 'b'] });
    const ok = { generator: 1, cells: ['a', 'b'] };
    checkResume('dir', state, ok);
    for (const flags of [
      { ...ok, generator: 2 },
      { ...ok, seed: 8 },
      { ...ok, shard: { index: 2, count: 2 } },
      { ...ok, cells: ['a'] },
    ])
      assert.throws(
        () => checkResume('dir', state, flags),
        (e) => e instanceof BadInputError && e.hint !== undefined,
      );
  });
});
