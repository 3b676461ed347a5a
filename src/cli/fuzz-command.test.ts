import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { parseCell, parseSeed } from './fuzz-command.js';

describe('mountlab fuzz flags', () => {
  it('reads seeds as 32-bit whole numbers', () => {
    assert.equal(parseSeed('4294967295'), 4294967295);
    for (const v of ['-1', '1.5', 'x', '4294967296']) assert.throws(() => parseSeed(v), /--seed/);
  });

  it('reads --cell as kernel= and criu=, each once, and collects repeats', () => {
    assert.deepEqual(parseCell('criu=/src/criu', parseCell('kernel=debian-6.1,criu=trixie')), [
      { kernel: 'debian-6.1', criu: 'trixie' },
      { criu: '/src/criu' },
    ]);
    for (const v of ['trixie', 'criu=a,criu=b', 'arch=x86'])
      assert.throws(
        () => parseCell(v),
        (e) => e instanceof BadInputError && /--cell/.test(e.message),
      );
  });
});
