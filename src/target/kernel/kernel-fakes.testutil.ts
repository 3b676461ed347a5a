import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { KERNEL_REQUIREMENTS } from './kernel-requirements.js';

/** A complete configuration: every requirement =y, plus a header. */
export function fullConfig(version = '6.1.192', drop: string[] = [], extra: string[] = []): string {
  const lines = [
    '#',
    '# Automatically generated file; DO NOT EDIT.',
    `# Linux/x86 ${version} Kernel Configuration`,
    '#',
  ];
  for (const r of KERNEL_REQUIREMENTS) {
    if (drop.includes(r.option)) lines.push(`# ${r.option} is not set`);
    else lines.push(`${r.option}=y`);
  }
  return [...lines, ...extra, ''].join('\n');
}

/** A fake uncompressed kernel holding `config` the way CONFIG_IKCONFIG does. */
export function fakeVmlinux(
  config: string | undefined,
  banner = 'Linux version 6.1.192-mountlab (root@lab) #1 SMP',
): Buffer {
  const parts = [
    Buffer.from('\x7fELF'),
    Buffer.alloc(4096, 0x90),
    Buffer.from(`${banner}\0`, 'latin1'),
    Buffer.from('code mentions IKCFG_ST here\0', 'latin1'),
  ];
  if (config !== undefined)
    parts.push(Buffer.from('IKCFG_ST', 'latin1'), gzipSync(Buffer.from(config)), Buffer.from('IKCFG_ED', 'latin1'));
  parts.push(Buffer.alloc(8192, 0xcc));
  return Buffer.concat(parts);
}

/**
 * A synthetic bzImage: boot sector + setup (setup_sects = 3), the header
 * fields the x86 boot protocol defines ("HdrS", version 2.15, the kernel
 * version pointer at 0x20E, payload_offset/length at 0x248/0x24C) and the
 * compressed payload in the protected-mode part.
 */
export function fakeBzImage(payload: Buffer, version = '6.1.192-mountlab (root@lab) #1 SMP PREEMPT_DYNAMIC'): Buffer {
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

export function hasCommand(c: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0;
}

export function compressWith(argv: string[], data: Buffer): Buffer {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: data, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${argv.join(' ')} failed`);
  return r.stdout;
}
