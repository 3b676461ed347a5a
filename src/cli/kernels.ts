import { BadInputError } from '../errors.js';

/**
 * Kernel names map to the Debian suite whose image carries that kernel. The
 * image's criu comes from the same suite for now; independent kernel × criu
 * cells come with the matrix.
 */
export const KERNELS: Record<string, { suite: string; description: string }> = {
  'debian-6.12': { suite: 'trixie', description: "Debian trixie's kernel (6.12), criu 4.1.1" },
  'debian-6.1': { suite: 'bookworm', description: "Debian bookworm's kernel (6.1), criu 3.17.1" },
};

export const DEFAULT_KERNEL = 'debian-6.12';

export function suiteForKernel(name: string): string {
  const k = KERNELS[name];
  if (k) return k.suite;
  const known = Object.keys(KERNELS).join(', ');
  if (name.includes('/')) {
    throw new BadInputError([{ file: '--kernel', line: 1, col: 1, path: '', message: `booting your own kernel image (${name}) is not supported yet` }], `use one of: ${known}`);
  }
  throw new BadInputError([{ file: '--kernel', line: 1, col: 1, path: '', message: `unknown kernel '${name}'` }], `known kernels: ${known}`);
}
