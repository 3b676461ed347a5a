import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { parseSignatureFlag, progressLine } from './reduce-command.js';

describe('reduce flags', () => {
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
