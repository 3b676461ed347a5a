import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BadInputError } from '../errors.js';
import type { KernelSource } from '../target/vm/kernel-artifact.js';

/**
 * Guest kernels by name: a Debian suite whose linux-image-amd64 is fetched
 * (vm/build-kernel.sh). Any of them boots any rootfs (see criu-versions.ts).
 */
export const KERNELS: Record<string, { suite: string; description: string }> = {
  'debian-6.1': { suite: 'bookworm', description: "Debian bookworm's kernel (6.1)" },
  'debian-6.12': { suite: 'trixie', description: "Debian trixie's kernel (6.12)" },
  'debian-6.12-bpo': { suite: 'bookworm-backports', description: "bookworm-backports' kernel (6.12)" },
  'debian-newest': { suite: 'sid', description: 'the newest kernel Debian offers (unstable)' },
};

export const DEFAULT_KERNEL = 'debian-6.12';

function bad(message: string, hint?: string): BadInputError {
  return new BadInputError([{ file: '--kernel', line: 1, col: 1, path: '', message }], hint);
}

/**
 * `--kernel a,b,...`: names from KERNELS, or paths to a bzImage (a user's
 * own kernel, for patch validation), with `--modules DIR` for its modules
 * when it has any (then only one user kernel per run).
 */
export function parseKernels(list: string, modules?: string): KernelSource[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw bad('no kernel given');
  const known = Object.keys(KERNELS).join(', ');
  const out: KernelSource[] = [];
  for (const item of items) {
    const k = KERNELS[item];
    if (k) {
      out.push({ kind: 'debian', name: item, suite: k.suite });
      continue;
    }
    if (item.includes('/') || existsSync(item)) {
      const path = resolve(item);
      if (!existsSync(path) || !statSync(path).isFile())
        throw bad(`no kernel image at ${item}`, 'give the path of a bzImage (arch/x86/boot/bzImage), or a kernel name');
      out.push({ kind: 'file', name: 'user-kernel', bzImage: path });
      continue;
    }
    throw bad(`unknown kernel '${item}'`, `known kernels: ${known}; or the path of your own bzImage`);
  }
  const files = out.filter((k): k is KernelSource & { kind: 'file' } => k.kind === 'file');
  if (modules) {
    if (files.length !== 1)
      throw new BadInputError([
        { file: '--modules', line: 1, col: 1, path: '', message: '--modules goes with exactly one --kernel PATH' },
      ]);
    if (!existsSync(modules) || !statSync(modules).isDirectory())
      throw new BadInputError([
        { file: '--modules', line: 1, col: 1, path: '', message: `no such directory: ${modules}` },
      ]);
    files[0]!.modules = resolve(modules);
  }
  // Cell ids must differ: two user kernels are told apart by position.
  if (files.length > 1) {
    for (const [i, f] of files.entries()) f.name = `user-kernel-${i + 1}`;
  }
  const names = out.map((k) => k.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw bad(`kernel '${dup}' is listed twice`);
  return out;
}
