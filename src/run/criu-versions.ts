import { BadInputError } from '../errors.js';

/**
 * CRIU (with util-linux and the rest of the userland) comes from the
 * rootfs image, which is built from one Debian suite, independently of the
 * kernel. Versions are what the suites shipped when this was written; the
 * one a run really used is read from the guest and recorded per cell.
 */
export const CRIU_BUILDS: Record<string, { suite: string; version: string; description: string }> = {
  bookworm: {
    suite: 'bookworm',
    version: '3.17.1',
    description: "Debian bookworm's criu (3.17.1, with the mount-v2 propagation fix)",
  },
  trixie: { suite: 'trixie', version: '4.1.1', description: "Debian trixie's criu (4.1.1)" },
  newest: { suite: 'sid', version: 'newest', description: "the newest criu Debian offers (unstable's)" },
};

export const DEFAULT_CRIU = 'trixie';

/** `--criu x,y`: build names (bookworm, trixie, newest) or their versions (3.17.1, 4.1.1). */
export function parseCrius(list: string): string[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const byVersion = new Map(Object.entries(CRIU_BUILDS).map(([name, b]) => [b.version, name]));
  const out: string[] = [];
  for (const item of items) {
    const name = CRIU_BUILDS[item] ? item : byVersion.get(item);
    if (!name) {
      const known = Object.entries(CRIU_BUILDS)
        .map(([n, b]) => `${n} (${b.version})`)
        .join(', ');
      throw new BadInputError(
        [{ file: '--criu', line: 1, col: 1, path: '', message: `unknown criu '${item}'` }],
        `known: ${known}`,
      );
    }
    if (out.includes(name))
      throw new BadInputError([
        { file: '--criu', line: 1, col: 1, path: '', message: `criu '${item}' is listed twice` },
      ]);
    out.push(name);
  }
  if (out.length === 0)
    throw new BadInputError([{ file: '--criu', line: 1, col: 1, path: '', message: 'no criu given' }]);
  return out;
}
