import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { parseDuration } from './duration.js';

describe('duration flags', () => {
  it('reads minutes and durations alike', () => {
    assert.deepEqual(
      ['30m', '90s', '2h', '1h30m', '5', '1.5', ' 20 '].map((v) => parseDuration('--budget', v)),
      [1_800_000, 90_000, 7_200_000, 5_400_000, 300_000, 90_000, 1_200_000],
    );
  });

  it('refuses what is no duration, or none, at the flag it came from', () => {
    for (const v of ['', 'm', '0m', '0s', '0', 'soon', '5 min', '-3', '20 min'])
      assert.throws(
        () => parseDuration('--budget', v),
        (e: unknown) => e instanceof BadInputError && /^--budget:1:1: /.test(e.message) && /90s/.test(e.hint ?? ''),
        v,
      );
  });

  it('takes 0 as none where the flag allows it', () => {
    assert.equal(parseDuration('--reduce-budget', '0', { zero: true }), 0);
    assert.throws(() => parseDuration('--reduce-budget', '0m'), /--reduce-budget/);
  });
});
