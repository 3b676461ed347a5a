import { strict as assert } from 'node:assert';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BadInputError, PrerequisiteError } from '../../errors.js';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import { ensureKernel } from '../vm/kernel-artifact.js';
import { readKernelConfig } from './kernel-config.js';
import { compressWith, fakeBzImage, fakeVmlinux, fullConfig, hasCommand } from './kernel-fakes.testutil.js';
import { extractIkconfig, kernelRelease } from './kernel-image.js';
import { checkKernelConfig, checkUserKernel } from './kernel-requirements.js';

describe('kernel image', () => {
  after(removeScratch);

  describe('the embedded configuration (IKCONFIG)', () => {
    it('is found in an uncompressed kernel, past a false IKCFG_ST marker', () => {
      assert.equal(extractIkconfig(fakeVmlinux('CONFIG_X=y\n')), 'CONFIG_X=y\n');
      assert.equal(extractIkconfig(fakeVmlinux(undefined)), undefined);
    });

    it('is read from a gzip bzImage payload, with the release from the header', async () => {
      const dir = scratchDir('kcfg');
      const bz = join(dir, 'bzImage');
      writeFileSync(bz, fakeBzImage(gzipSync(fakeVmlinux(fullConfig()))));
      assert.equal(await kernelRelease(bz), '6.1.192-mountlab');
      const c = await readKernelConfig(bz);
      assert.deepEqual(c.source, { kind: 'embedded', image: bz, compression: 'gzip' });
      assert.equal(c.release, '6.1.192-mountlab');
      assert.equal(c.version, '6.1.192');
      assert.deepEqual(checkKernelConfig(c, { hasModulesDir: false }), []);
    });

    for (const [kind, argv] of [
      ['zstd', ['zstd', '-q', '-c']],
      ['xz', ['xz', '-c', '--check=crc32']],
      ['lz4', ['lz4', '-l', '-q', '-c']],
      ['bzip2', ['bzip2', '-c']],
    ] as const) {
      it(`is read from a ${kind} bzImage payload with the ${argv[0]} command`, async function () {
        if (!hasCommand(argv[0])) this.skip();
        const dir = scratchDir('kcfg');
        const bz = join(dir, 'vmlinuz');
        writeFileSync(
          bz,
          fakeBzImage(compressWith([...argv], fakeVmlinux(fullConfig('6.1.192', ['CONFIG_OVERLAY_FS'])))),
        );
        const c = await readKernelConfig(bz);
        assert.deepEqual(c.source, { kind: 'embedded', image: bz, compression: kind });
        assert.deepEqual(
          checkKernelConfig(c, { hasModulesDir: false }).map((p) => p.option),
          ['CONFIG_OVERLAY_FS'],
        );
      });
    }

    it('is found by magic in a compressed image without a bzImage header', async () => {
      const dir = scratchDir('kcfg');
      const img = join(dir, 'kernel.img');
      writeFileSync(img, Buffer.concat([Buffer.alloc(1000, 7), gzipSync(fakeVmlinux('CONFIG_Z=y\n'))]));
      const c = await readKernelConfig(img);
      assert.equal(c.options.get('CONFIG_Z')?.value, 'y');
      assert.equal(c.source.kind, 'embedded');
    });

    it('is read from an uncompressed vmlinux, whose release comes from its banner', async () => {
      const dir = scratchDir('kcfg');
      const v = join(dir, 'vmlinux');
      writeFileSync(v, fakeVmlinux(fullConfig()));
      assert.equal(await kernelRelease(v), '6.1.192-mountlab');
      assert.deepEqual((await readKernelConfig(v)).source, { kind: 'embedded', image: v, compression: 'none' });
    });
  });

  describe("a real Debian kernel (the lab's default, fetched into the cache when missing)", function () {
    this.timeout(180_000);

    it(
      "reads its release from the bzImage header; alone it has no config (Debian's has no IKCONFIG), " +
        'beside its config file it is refused for its =m options',
      async () => {
        const k = await ensureKernel({ kind: 'debian', name: 'debian-6.12', suite: 'trixie' }, () => {});
        assert.equal(await kernelRelease(k.kernel), k.manifest.kernelRelease);
        const dir = scratchDir('debian-kernel');
        const alone = join(dir, 'vmlinuz');
        copyFileSync(k.kernel, alone);
        await assert.rejects(readKernelConfig(alone), (e: unknown) => {
          // PrerequisiteError if the host lacks the decompressor of its payload.
          assert.ok(e instanceof BadInputError || e instanceof PrerequisiteError, String(e));
          return true;
        });
        assert.ok(k.config, 'the Debian package ships its config');
        copyFileSync(k.config, join(dir, 'config'));
        await assert.rejects(checkUserKernel(alone), (e: unknown) => {
          assert.ok(e instanceof BadInputError, String(e));
          assert.match(e.message, /CONFIG_VIRTIO_BLK =m \(a module, and no --modules DIR was given\)/);
          return true;
        });
      },
    );
  });
});
