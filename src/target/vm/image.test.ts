import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import { pruneCache, pruneImages } from './image.js';

function image(root: string, id: string, builtAt: string | undefined): void {
  mkdirSync(join(root, id));
  if (builtAt)
    writeFileSync(
      join(root, id, 'manifest.json'),
      JSON.stringify({ suite: 'trixie', builtAt, files: { kernel: 'k', initrd: 'i', rootfs: 'r' } }),
    );
}

describe('image cache', () => {
  after(removeScratch);

  it('keeps the new image and the newest older one of its suite, and nothing half-built or locked goes', async () => {
    const root = scratchDir('images');
    image(root, 'trixie-aaaaaaaaaaaa', '2026-11-01T00:00:00Z');
    image(root, 'trixie-bbbbbbbbbbbb', '2026-11-03T00:00:00Z');
    image(root, 'trixie-cccccccccccc', '2026-11-02T00:00:00Z');
    image(root, 'trixie-dddddddddddd', '2026-11-04T00:00:00Z'); // the new one
    image(root, 'trixie-eeeeeeeeeeee', '2026-10-01T00:00:00Z');
    mkdirSync(join(root, 'trixie-eeeeeeeeeeee.lock')); // someone is rebuilding it
    image(root, 'trixie-ffffffffffff', undefined); // no manifest: not ours to judge
    image(root, 'bookworm-aaaaaaaaaaaa', '2026-01-01T00:00:00Z');
    const removed = await pruneImages('trixie', 'trixie-dddddddddddd', root);
    assert.deepEqual(removed.sort(), ['trixie-aaaaaaaaaaaa', 'trixie-cccccccccccc']);
    assert.deepEqual(readdirSync(root).sort(), [
      'bookworm-aaaaaaaaaaaa',
      'trixie-bbbbbbbbbbbb',
      'trixie-dddddddddddd',
      'trixie-eeeeeeeeeeee',
      'trixie-eeeeeeeeeeee.lock',
      'trixie-ffffffffffff',
    ]);
  });

  it('prunes kernels by their exact name: debian-6.12 does not take debian-6.12-bpo with it', async () => {
    const root = scratchDir('kernels');
    image(root, 'debian-6.12-aaaaaaaaaaaa', '2026-11-01T00:00:00Z');
    image(root, 'debian-6.12-bbbbbbbbbbbb', '2026-11-02T00:00:00Z');
    image(root, 'debian-6.12-cccccccccccc', '2026-11-03T00:00:00Z');
    image(root, 'debian-6.12-bpo-dddddddddddd', '2026-10-01T00:00:00Z');
    assert.deepEqual(await pruneCache(root, 'debian-6.12', 'debian-6.12-cccccccccccc'), ['debian-6.12-aaaaaaaaaaaa']);
    assert.deepEqual(readdirSync(root).sort(), [
      'debian-6.12-bbbbbbbbbbbb',
      'debian-6.12-bpo-dddddddddddd',
      'debian-6.12-cccccccccccc',
    ]);
  });
});
