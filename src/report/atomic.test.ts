import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { writeAtomic } from './atomic.js';

describe('writeAtomic', () => {
  after(removeScratch);

  it('takes many concurrent writes to one file: no error, the last asked for stays, no temporary left', async () => {
    const dir = scratchDir('atomic');
    const f = join(dir, 'results.json');
    await Promise.all(Array.from({ length: 50 }, (_, i) => writeAtomic(f, `write ${i}\n`)));
    assert.equal(readFileSync(f, 'utf8'), 'write 49\n');
    assert.deepEqual(readdirSync(dir), ['results.json']);
  });
});
