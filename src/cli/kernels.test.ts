import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { assetPath } from '../paths.js';
import { join } from 'node:path';
import { BadInputError } from '../errors.js';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { parseCrius } from './criu-versions.js';
import { parseKernels } from './kernels.js';

const message = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof BadInputError, String(e));
    return e.message;
  }
  return assert.fail('accepted');
};

describe('kernel and criu lists', () => {
  after(removeScratch);

  it('maps kernel names to Debian suites, in the order given', () => {
    assert.deepEqual(parseKernels('debian-6.1,debian-6.12'), [
      { kind: 'debian', name: 'debian-6.1', suite: 'bookworm' },
      { kind: 'debian', name: 'debian-6.12', suite: 'trixie' },
    ]);
  });

  it('takes the path of a bzImage, with its modules directory', () => {
    const d = scratchDir('kernels');
    writeFileSync(join(d, 'bzImage'), 'x');
    mkdirSync(join(d, 'mods'));
    assert.deepEqual(parseKernels(`debian-6.12,${d}/bzImage`, join(d, 'mods')), [
      { kind: 'debian', name: 'debian-6.12', suite: 'trixie' },
      { kind: 'file', name: 'user-kernel', bzImage: join(d, 'bzImage'), modules: join(d, 'mods') },
    ]);
  });

  it('refuses unknown names, missing files, duplicates and --modules without one own kernel', () => {
    assert.match(message(() => parseKernels('debian-7')), /--kernel:1:1: unknown kernel 'debian-7'/);
    assert.match(message(() => parseKernels('/no/such/bzImage')), /no kernel image at \/no\/such\/bzImage/);
    assert.match(message(() => parseKernels('debian-6.1,debian-6.1')), /listed twice/);
    assert.match(message(() => parseKernels('debian-6.1', '/tmp')), /--modules goes with exactly one --kernel PATH/);
  });

  it('refuses a bzImage that lacks what the lab needs before writing or booting anything', async () => {
    const d = scratchDir('userkernel');
    writeFileSync(join(d, 'bzImage'), Buffer.alloc(4096));
    writeFileSync(join(d, 'config'), 'CONFIG_VIRTIO_BLK=m\n# CONFIG_CHECKPOINT_RESTORE is not set\n');
    const { main } = await import('./main.js');
    const write = process.stderr.write.bind(process.stderr);
    let err = '';
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['node', 'mountlab', 'run', '--out', join(d, 'reports'), '--kernel', join(d, 'bzImage'), assetPath('scenarios', 'seed-000')]);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 2);
    assert.match(err, /lacks \d+ options the lab needs/);
    assert.match(err, /config:2:1: CONFIG_CHECKPOINT_RESTORE/);
    assert.match(err, /CONFIG_VIRTIO_BLK =m \(a module, and no --modules DIR was given\)/);
    assert.ok(!existsSync(join(d, 'reports')), 'a refused run must leave no report directory');
  });

  it('takes criu builds by name or by version', () => {
    assert.deepEqual(parseCrius('3.17.1,trixie'), ['bookworm', 'trixie']);
    assert.match(message(() => parseCrius('5.0')), /unknown criu '5.0'/);
    assert.match(message(() => parseCrius('4.1.1,trixie')), /listed twice/);
  });
});
