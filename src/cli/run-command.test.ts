import { strict as assert } from 'node:assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../paths.js';
import { removeScratch, scratchDir } from '../../test/scratch.js';

describe('mountlab run --kernel PATH', () => {
  after(removeScratch);

  it('refuses a bzImage that lacks what the lab needs before writing or booting anything', async () => {
    const d = scratchDir('userkernel');
    writeFileSync(join(d, 'bzImage'), Buffer.alloc(4096));
    writeFileSync(join(d, 'config'), 'CONFIG_VIRTIO_BLK=m\n# CONFIG_CHECKPOINT_RESTORE is not set\n');
    const { main } = await import('./main.js');
    const write = process.stderr.write.bind(process.stderr);
    let err = '';
    process.stderr.write = ((s: string) => {
      err += s;
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main([
        'node',
        'mountlab',
        'run',
        '--out',
        join(d, 'reports'),
        '--kernel',
        join(d, 'bzImage'),
        assetPath('scenarios', 'seed-000'),
      ]);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 2);
    assert.match(err, /lacks \d+ options the lab needs/);
    assert.match(err, /config:2:1: CONFIG_CHECKPOINT_RESTORE/);
    assert.match(err, /CONFIG_VIRTIO_BLK =m \(a module, and no --modules DIR was given\)/);
    assert.ok(!existsSync(join(d, 'reports')), 'a refused run must leave no report directory');
  });
});
