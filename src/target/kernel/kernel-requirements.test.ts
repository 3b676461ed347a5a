import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BadInputError } from '../../errors.js';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import { parseKernelConfig, type ParsedKernelConfig } from './kernel-config.js';
import { fakeBzImage, fakeVmlinux, fullConfig } from './kernel-fakes.testutil.js';
import { checkKernelConfig, checkUserKernel } from './kernel-requirements.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const FRAGMENT = join(repo, 'vm/kernel/mountlab.config');

describe('kernel requirements', () => {
  after(removeScratch);

  describe('checkKernelConfig', () => {
    const cfg = (text: string): ParsedKernelConfig => parseKernelConfig(text);

    it('names every missing required option with its reason, required ones first', () => {
      const problems = checkKernelConfig(
        cfg(fullConfig('6.1.192', ['CONFIG_MEM_SOFT_DIRTY', 'CONFIG_CHECKPOINT_RESTORE', 'CONFIG_VIRTIO_MMIO'])),
        { hasModulesDir: false },
      );
      assert.deepEqual(
        problems.map((p) => [p.option, p.level, p.got]),
        [
          ['CONFIG_VIRTIO_MMIO', 'required', 'not set'],
          ['CONFIG_CHECKPOINT_RESTORE', 'required', 'not set'],
          ['CONFIG_MEM_SOFT_DIRTY', 'recommended', 'not set'],
        ],
      );
      assert.match(problems[0]!.reason, /microvm/);
      assert.equal(typeof problems[0]!.line, 'number');
    });

    it('takes =m only with --modules, and never for what is needed before modules can load', () => {
      const text = fullConfig('6.1.192', [], [])
        .replace('CONFIG_VIRTIO_BLK=y', 'CONFIG_VIRTIO_BLK=m')
        .replace('CONFIG_OVERLAY_FS=y', 'CONFIG_OVERLAY_FS=m')
        .replace('CONFIG_SERIAL_8250=y', 'CONFIG_SERIAL_8250=m');
      const without = checkKernelConfig(cfg(text), { hasModulesDir: false });
      assert.deepEqual(without.map((p) => p.option).sort(), [
        'CONFIG_OVERLAY_FS',
        'CONFIG_SERIAL_8250',
        'CONFIG_VIRTIO_BLK',
      ]);
      assert.match(without.find((p) => p.option === 'CONFIG_VIRTIO_BLK')!.note!, /no --modules/);
      const withMods = checkKernelConfig(cfg(text), { hasModulesDir: true });
      assert.deepEqual(
        withMods.map((p) => [p.option, p.got]),
        [['CONFIG_SERIAL_8250', 'm']],
      );
      assert.match(withMods[0]!.note!, /must be =y/);
    });

    it('checks only the machine asked for, and skips options older kernels do not have', () => {
      // Neither KCMP nor TIME_NS existed in 5.4.
      const text = fullConfig('5.4.0', ['CONFIG_VIRTIO_PCI', 'CONFIG_KCMP', 'CONFIG_TIME_NS']);
      assert.deepEqual(checkKernelConfig(cfg(text), { hasModulesDir: false, machine: 'microvm' }), []);
      assert.deepEqual(
        checkKernelConfig(cfg(text), { hasModulesDir: false, machine: 'q35' }).map((p) => p.option),
        ['CONFIG_VIRTIO_PCI'],
      );
      const newer = fullConfig('6.1.0', ['CONFIG_KCMP']);
      assert.deepEqual(
        checkKernelConfig(cfg(newer), { hasModulesDir: false }).map((p) => p.option),
        ['CONFIG_KCMP'],
      );
    });

    it('vm/kernel/mountlab.config sets every requirement to =y, each with a comment above it', () => {
      const text = readFileSync(FRAGMENT, 'utf8');
      assert.deepEqual(checkKernelConfig(parseKernelConfig(text), { hasModulesDir: false }), []);
      const lines = text.split('\n');
      lines.forEach((l, i) => {
        if (/^(CONFIG_|# CONFIG_.* is not set)/.test(l))
          assert.match(lines[i - 1] ?? '', /^# /, `no comment above line ${i + 1}: ${l}`);
      });
    });
  });

  describe('checkUserKernel', () => {
    it('refuses a kernel that lacks options, naming each at its line in the config file', async () => {
      const dir = scratchDir('kcfg');
      const bz = join(dir, 'bzImage');
      writeFileSync(bz, fakeBzImage(gzipSync(fakeVmlinux(undefined))));
      const text = fullConfig('6.1.192', ['CONFIG_OVERLAY_FS', 'CONFIG_ACPI', 'CONFIG_USERFAULTFD']);
      writeFileSync(join(dir, 'config'), text);
      const line = text.split('\n').indexOf('# CONFIG_OVERLAY_FS is not set') + 1;
      await assert.rejects(checkUserKernel(bz, { machine: 'microvm' }), (e: unknown) => {
        assert.ok(e instanceof BadInputError);
        assert.equal(e.exitCode, 2);
        assert.deepEqual(
          e.problems.slice(1).map((p) => p.message.split(' ')[0]),
          ['CONFIG_ACPI', 'CONFIG_OVERLAY_FS'],
        );
        assert.match(e.message, /lacks 2 options the lab needs/);
        assert.match(
          e.message,
          new RegExp(`${join(dir, 'config')}:${line}:1: CONFIG_OVERLAY_FS is not set: the scenario root is an overlay`),
        );
        assert.match(e.hint ?? '', /vm\/kernel\/mountlab\.config/);
        return true;
      });
    });

    it('accepts a complete kernel and returns the release and the recommended options it lacks', async () => {
      const dir = scratchDir('kcfg');
      const bz = join(dir, 'bzImage');
      writeFileSync(bz, fakeBzImage(gzipSync(fakeVmlinux(fullConfig('6.1.192', ['CONFIG_TUN'])))));
      const k = await checkUserKernel(bz);
      assert.equal(k.release, '6.1.192-mountlab');
      assert.deepEqual(
        k.warnings.map((w) => w.option),
        ['CONFIG_TUN'],
      );
    });
  });
});
