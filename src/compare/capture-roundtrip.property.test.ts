import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { type Capture, formatCapture, parseCapture } from '../capture/capture-file.js';
import { genModel, prng, randomNumbering, renderCapture } from './gen.testutil.js';

// Here rather than beside capture-file.ts: the random captures come from the
// comparator's topology generator, and capture/ never imports compare/.

/** A capture without line numbers, which formatting does not preserve. */
const lineless = (c: Capture) => ({
  tasks: c.tasks.map((t) => ({ ...t, mounts: t.mounts.map(({ line: _l, ...rest }) => rest) })),
});

describe('capture files (random)', () => {
  it('round-trips random captures through formatCapture and parseCapture', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const r = prng(seed);
        const model = genModel(r);
        const c = renderCapture(model, randomNumbering(r, model), r);
        assert.deepEqual(lineless(parseCapture(formatCapture(c))), lineless(c));
      }),
      { numRuns: 1000 },
    );
  });
});
