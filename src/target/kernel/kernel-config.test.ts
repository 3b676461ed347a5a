import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BadInputError, PrerequisiteError } from '../../errors.js';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import { ensureKernel } from '../vm/kernel-artifact.js';
import {
  KERNEL_REQUIREMENTS,
  checkKernelConfig,
  checkUserKernel,
  extractIkconfig,
  kernelRelease,
  parseKernelConfig,
  readKernelConfig,
  type ParsedKernelConfig,
} from './kernel-config.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const FRAGMENT = join(repo, 'vm/kernel/mountlab.config');

/** A complete configuration: every requirement =y, plus a header. */
function fullConfig(version = '6.1.192', drop: string[] = [], extra: string[] = []): string {
  const lines = ['#', '# Automatically generated file; DO NOT EDIT.', `# Linux/x86 ${version} Kernel Configuration`, '#'];
  for (const r of KERNEL_REQUIREMENTS) {
    if (drop.includes(r.option)) lines.push(`# ${r.option} is not set`);
    else lines.push(`${r.option}=y`);
  }
  return [...lines, ...extra, ''].join('\n');
}

/** A fake uncompressed kernel holding `config` the way CONFIG_IKCONFIG does. */
function fakeVmlinux(config: string | undefined, banner = 'Linux version 6.1.192-mountlab (root@lab) #1 SMP'): Buffer {
  const parts = [Buffer.from('\x7fELF'), Buffer.alloc(4096, 0x90), Buffer.from(`${banner}\0`, 'latin1'), Buffer.from('code mentions IKCFG_ST here\0', 'latin1')];
  if (config !== undefined) parts.push(Buffer.from('IKCFG_ST', 'latin1'), gzipSync(Buffer.from(config)), Buffer.from('IKCFG_ED', 'latin1'));
  parts.push(Buffer.alloc(8192, 0xcc));
  return Buffer.concat(parts);
}

/**
 * A synthetic bzImage: boot sector + setup (setup_sects = 3), the header
 * fields the x86 boot protocol defines ("HdrS", version 2.15, the kernel
 * version pointer at 0x20E, payload_offset/length at 0x248/0x24C) and the
 * compressed payload in the protected-mode part.
 */
function fakeBzImage(payload: Buffer, version = '6.1.192-mountlab (root@lab) #1 SMP PREEMPT_DYNAMIC'): Buffer {
  const setupSects = 3;
  const pm = (setupSects + 1) * 512;
  const head = Buffer.alloc(pm);
  head[0x1f1] = setupSects;
  head.write('HdrS', 0x202, 'latin1');
  head.writeUInt16LE(0x020f, 0x206);
  const versionAt = 0x400;
  head.write(`${version}\0`, versionAt, 'latin1');
  head.writeUInt16LE(versionAt - 0x200, 0x20e);
  const decompressorStub = Buffer.alloc(300, 0xe8);
  head.writeUInt32LE(decompressorStub.length, 0x248);
  head.writeUInt32LE(payload.length, 0x24c);
  return Buffer.concat([head, decompressorStub, payload, Buffer.from([1, 2, 3, 4]), Buffer.alloc(100)]);
}

function hasCommand(c: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0;
}

function compressWith(argv: string[], data: Buffer): Buffer {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: data, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${argv.join(' ')} failed`);
  return r.stdout;
}

describe('kernel config', () => {
  after(removeScratch);

  describe('parseKernelConfig', () => {
    it('reads set options with their lines, unset ones, and the header version', () => {
      const c = parseKernelConfig('#\n# Linux/x86 6.12.107 Kernel Configuration\n#\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_S="x y"\n');
      assert.equal(c.version, '6.12.107');
      assert.deepEqual(c.options.get('CONFIG_A'), { value: 'y', line: 4 });
      assert.deepEqual(c.options.get('CONFIG_B'), { value: 'm', line: 5 });
      assert.equal(c.options.get('CONFIG_S')?.value, '"x y"');
      assert.equal(c.unset.get('CONFIG_C'), 6);
      assert.equal(c.options.has('CONFIG_C'), false);
    });
  });

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
        writeFileSync(bz, fakeBzImage(compressWith([...argv], fakeVmlinux(fullConfig('6.1.192', ['CONFIG_OVERLAY_FS'])))));
        const c = await readKernelConfig(bz);
        assert.deepEqual(c.source, { kind: 'embedded', image: bz, compression: kind });
        assert.deepEqual(checkKernelConfig(c, { hasModulesDir: false }).map((p) => p.option), ['CONFIG_OVERLAY_FS']);
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
      assert.deepEqual(checkKernelConfig(c, { hasModulesDir: false }).map((p) => p.option), ['CONFIG_PID_NS']);
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

  describe('checkKernelConfig', () => {
    const cfg = (text: string): ParsedKernelConfig => parseKernelConfig(text);

    it('names every missing required option with its reason, required ones first', () => {
      const problems = checkKernelConfig(cfg(fullConfig('6.1.192', ['CONFIG_MEM_SOFT_DIRTY', 'CONFIG_CHECKPOINT_RESTORE', 'CONFIG_VIRTIO_MMIO'])), { hasModulesDir: false });
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
      const text = fullConfig('6.1.192', [], []).replace('CONFIG_VIRTIO_BLK=y', 'CONFIG_VIRTIO_BLK=m').replace('CONFIG_OVERLAY_FS=y', 'CONFIG_OVERLAY_FS=m').replace('CONFIG_SERIAL_8250=y', 'CONFIG_SERIAL_8250=m');
      const without = checkKernelConfig(cfg(text), { hasModulesDir: false });
      assert.deepEqual(without.map((p) => p.option).sort(), ['CONFIG_OVERLAY_FS', 'CONFIG_SERIAL_8250', 'CONFIG_VIRTIO_BLK']);
      assert.match(without.find((p) => p.option === 'CONFIG_VIRTIO_BLK')!.note!, /no --modules/);
      const withMods = checkKernelConfig(cfg(text), { hasModulesDir: true });
      assert.deepEqual(withMods.map((p) => [p.option, p.got]), [['CONFIG_SERIAL_8250', 'm']]);
      assert.match(withMods[0]!.note!, /must be =y/);
    });

    it('checks only the machine asked for, and skips options older kernels do not have', () => {
      const text = fullConfig('5.4.0', ['CONFIG_VIRTIO_PCI', 'CONFIG_KCMP', 'CONFIG_TIME_NS']); // neither existed in 5.4
      assert.deepEqual(checkKernelConfig(cfg(text), { hasModulesDir: false, machine: 'microvm' }), []);
      assert.deepEqual(checkKernelConfig(cfg(text), { hasModulesDir: false, machine: 'q35' }).map((p) => p.option), ['CONFIG_VIRTIO_PCI']);
      const newer = fullConfig('6.1.0', ['CONFIG_KCMP']);
      assert.deepEqual(checkKernelConfig(cfg(newer), { hasModulesDir: false }).map((p) => p.option), ['CONFIG_KCMP']);
    });

    it('vm/kernel/mountlab.config sets every requirement to =y, each with a comment above it', () => {
      const text = readFileSync(FRAGMENT, 'utf8');
      assert.deepEqual(checkKernelConfig(parseKernelConfig(text), { hasModulesDir: false }), []);
      const lines = text.split('\n');
      lines.forEach((l, i) => {
        if (/^(CONFIG_|# CONFIG_.* is not set)/.test(l)) assert.match(lines[i - 1] ?? '', /^# /, `no comment above line ${i + 1}: ${l}`);
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
        assert.deepEqual(e.problems.slice(1).map((p) => p.message.split(' ')[0]), ['CONFIG_ACPI', 'CONFIG_OVERLAY_FS']);
        assert.match(e.message, /lacks 2 options the lab needs/);
        assert.match(e.message, new RegExp(`${join(dir, 'config')}:${line}:1: CONFIG_OVERLAY_FS is not set: the scenario root is an overlay`));
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
      assert.deepEqual(k.warnings.map((w) => w.option), ['CONFIG_TUN']);
    });
  });

  describe("a real Debian kernel (the lab's default, fetched into the cache when missing)", function () {
    this.timeout(180_000);

    it("reads its release from the bzImage header; alone it has no config (Debian's has no IKCONFIG), beside its config file it is refused for its =m options", async () => {
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
    });
  });
});
