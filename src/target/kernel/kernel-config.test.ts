import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BadInputError } from '../../errors.js';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import { parseKernelConfig, readKernelConfig } from './kernel-config.js';
import { fakeBzImage, fakeVmlinux, fullConfig } from './kernel-fakes.testutil.js';
import { checkKernelConfig } from './kernel-requirements.js';

describe('kernel config', () => {
  after(removeScratch);

  describe('parseKernelConfig', () => {
    it('reads set options with their lines, unset ones, and the header version', () => {
      const c = parseKernelConfig(
        '#\n# Linux/x86 6.12.107 Kernel Configuration\n#\n' +
          'CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_S="x y"\n',
      );
      assert.equal(c.version, '6.12.107');
      assert.deepEqual(c.options.get('CONFIG_A'), { value: 'y', line: 4 });
      assert.deepEqual(c.options.get('CONFIG_B'), { value: 'm', line: 5 });
      assert.equal(c.options.get('CONFIG_S')?.value, '"x y"');
      assert.equal(c.unset.get('CONFIG_C'), 6);
      assert.equal(c.options.has('CONFIG_C'), false);
    });
  });

  describe('a configuration file', () => {
    it('beside the image is preferred: config-<release>, then config, .config', async () => {
      const dir = scratchDir('kcfg');
      const bz = join(dir, 'bzImage');
      writeFileSync(bz, fakeBzImage(gzipSync(fakeVmlinux(undefined))));
      writeFileSync(join(dir, '.config'), fullConfig('6.1.192', [], ['CONFIG_WHICH=dot']));
      const dot = await readKernelConfig(bz);
      assert.deepEqual(dot.source, { kind: 'file', path: join(dir, '.config') });
      assert.equal(dot.options.get('CONFIG_WHICH')?.value, 'dot');
      writeFileSync(join(dir, 'config-6.1.192-mountlab'), fullConfig('6.1.192', [], ['CONFIG_WHICH=release']));
      const c = await readKernelConfig(bz);
      assert.deepEqual(c.source, { kind: 'file', path: join(dir, 'config-6.1.192-mountlab') });
      assert.equal(c.options.get('CONFIG_WHICH')?.value, 'release');
    });

    it('beside the image is ignored when its header names another kernel version', async () => {
      const dir = scratchDir('kcfg');
      const bz = join(dir, 'bzImage');
      writeFileSync(bz, fakeBzImage(gzipSync(fakeVmlinux(fullConfig(), 'x'))));
      writeFileSync(join(dir, 'config'), fullConfig('5.10.0'));
      const c = await readKernelConfig(bz);
      assert.equal(c.source.kind, 'embedded');
    });

    it('given with --kernel-config wins over everything', async () => {
      const dir = scratchDir('kcfg');
      const bz = join(dir, 'bzImage');
      writeFileSync(bz, fakeBzImage(gzipSync(fakeVmlinux(fullConfig()))));
      const f = join(dir, 'elsewhere.cfg');
      writeFileSync(f, fullConfig('6.1.192', ['CONFIG_PID_NS']));
      const c = await readKernelConfig(bz, { configFile: f });
      assert.deepEqual(c.source, { kind: 'file', path: f });
      assert.deepEqual(
        checkKernelConfig(c, { hasModulesDir: false }).map((p) => p.option),
        ['CONFIG_PID_NS'],
      );
      await assert.rejects(readKernelConfig(bz, { configFile: join(dir, 'nope') }), BadInputError);
    });

    it('missing everywhere is a BadInputError that says how to provide one', async () => {
      const dir = scratchDir('kcfg');
      const bz = join(dir, 'bzImage');
      writeFileSync(bz, fakeBzImage(gzipSync(fakeVmlinux(undefined))));
      await assert.rejects(readKernelConfig(bz), (e: unknown) => {
        assert.ok(e instanceof BadInputError);
        assert.match(e.message, /no configuration found for the kernel .*bzImage \(6\.1\.192-mountlab\)/);
        assert.match(e.hint ?? '', /CONFIG_IKCONFIG=y.*beside the image.*--kernel-config FILE/);
        return true;
      });
    });

    it('an unreadable image is a BadInputError', async () => {
      await assert.rejects(readKernelConfig(join(scratchDir('kcfg'), 'missing-bzImage')), BadInputError);
    });
  });
});
