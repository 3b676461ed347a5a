import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { BadInputError } from '../errors.js';
import { CRIU_BUILDS } from './criu-versions.js';

/** One entry of `--criu`: a Debian suite's criu, a user's source tree, or a prebuilt binary. */
export type CriuChoice =
  | { kind: 'debian'; name: string }
  | { kind: 'source'; path: string }
  | { kind: 'binary'; path: string };

function bad(message: string, hint?: string): BadInputError {
  return new BadInputError([{ file: '--criu', line: 1, col: 1, path: '', message }], hint);
}

/** `~/x` as the shell would have expanded it (a list item after a comma is not expanded by the shell). */
export function expandHome(p: string, home = homedir()): string {
  return p === '~' ? home : p.startsWith('~/') ? `${home}${p.slice(1)}` : p;
}

/**
 * `--criu trixie,~/src/criu,4.1.1`: names and versions of CRIU_BUILDS, and
 * paths: a directory is a source tree (checked when it is identified), a
 * file a prebuilt criu. Paths are made absolute; duplicates are refused.
 */
export function parseCriuChoices(list: string, home = homedir()): CriuChoice[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw bad('no criu given');
  const byVersion = new Map(Object.entries(CRIU_BUILDS).map(([name, b]) => [b.version, name]));
  const out: CriuChoice[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const name = CRIU_BUILDS[item] ? item : byVersion.get(item);
    let choice: CriuChoice;
    if (name) {
      choice = { kind: 'debian', name };
    } else if (item.includes('/') || item.startsWith('~') || existsSync(item)) {
      const path = resolve(expandHome(item, home));
      if (!existsSync(path))
        throw bad(
          `no such file or directory: ${item}`,
          'give a CRIU source tree (a git checkout or an unpacked release tarball) or a criu binary',
        );
      choice = statSync(path).isDirectory() ? { kind: 'source', path } : { kind: 'binary', path };
    } else {
      const known = Object.entries(CRIU_BUILDS)
        .map(([n, b]) => `${n} (${b.version})`)
        .join(', ');
      throw bad(`unknown criu '${item}'`, `known: ${known}; or the path of a CRIU source tree or criu binary`);
    }
    const key = choice.kind === 'debian' ? choice.name : choice.path;
    if (seen.has(key)) throw bad(`criu '${item}' is listed twice`);
    seen.add(key);
    out.push(choice);
  }
  return out;
}
