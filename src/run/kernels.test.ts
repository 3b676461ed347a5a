import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
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
    assert.match(
      message(() => parseKernels('debian-7')),
      /--kernel:1:1: unknown kernel 'debian-7'/,
    );
    assert.match(
      message(() => parseKernels('/no/such/bzImage')),
      /no kernel image at \/no\/such\/bzImage/,
    );
    assert.match(
      message(() => parseKernels('debian-6.1,debian-6.1')),
      /listed twice/,
    );
    assert.match(
      message(() => parseKernels('debian-6.1', '/tmp')),
      /--modules goes with exactly one --kernel PATH/,
    );
  });

  it('takes criu builds by name or by version', () => {
    assert.deepEqual(parseCrius('3.17.1,trixie'), ['bookworm', 'trixie']);
    assert.match(
      message(() => parseCrius('5.0')),
      /unknown criu '5.0'/,
    );
    assert.match(
      message(() => parseCrius('4.1.1,trixie')),
      /listed twice/,
    );
  });
});
