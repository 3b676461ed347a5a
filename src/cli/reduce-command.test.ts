import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { parseBudget, parseSignatureFlag, progressLine } from './reduce-command.js';

describe('reduce flags', () => {
  it('reads a budget in minutes or as a duration; refuses anything else at --budget', () => {
    assert.equal(parseBudget('20'), 20 * 60_000);
    assert.equal(parseBudget('20m'), 20 * 60_000);
    assert.equal(parseBudget('90s'), 90_000);
    assert.equal(parseBudget('1h30m'), 90 * 60_000);
    for (const bad of ['', 'm', '20 min', '-5m', '0s'])
      assert.throws(
        () => parseBudget(bad),
        (e: unknown) => e instanceof BadInputError && /^--budget:1:1: /.test(e.message),
        bad,
      );
  });

  it('takes a signature with or without its outcome; refuses a pass or prose', () => {
    assert.deepEqual(parseSignatureFlag('xfail: criu dump: Error (criu/mount.c:753): mnt: 92:./a no root'), {
      outcome: 'xfail',
      signature: { kind: 'criu', phase: 'dump', text: 'Error (criu/mount.c:753): mnt: N:./a no root' },
    });
    assert.equal(parseSignatureFlag('difference: master-changed /w').outcome, undefined);
    for (const bad of ['pass: restored', 'it broke'])
      assert.throws(
        () => parseSignatureFlag(bad),
        (e: unknown) => e instanceof BadInputError && /^--signature:1:1: /.test(e.message),
      );
  });

  it('shows tries, the current size and the time left', () => {
    assert.equal(
      progressLine({ phase: 'mounts', tries: 12, refused: 3, steps: 40, mounts: 9, leftMs: 1_083_000 }),
      'reduce: mounts: try 12 (3 refused on the host), now 40 steps, 9 mounts; 18m03s left',
    );
  });
});
