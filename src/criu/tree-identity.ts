import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadInputError } from '../errors.js';

/**
 * What a CRIU source tree is, for the cache and for the reports: a git
 * checkout (HEAD, `git describe`, uncommitted changes) or an unpacked
 * release tarball (the version in Makefile.versions). `key` changes with
 * any change that can change the build and with nothing else.
 */
export interface TreeIdentity {
  kind: 'git' | 'tarball';
  /** Absolute, symlinks resolved. */
  path: string;
  /** git only: HEAD's full hash. */
  commit?: string;
  /** `git describe --tags --always` (with -dirty), or the tarball's version. */
  describe: string;
  /** git only: tracked changes or untracked, non-ignored files. */
  dirty: boolean;
  /** sha256 hex of everything the build reads. */
  key: string;
  /** The files a build copies, relative: tracked and untracked non-ignored ones. */
  files: string[];
}

function git(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Buffer {
  return execFileSync('git', ['-C', dir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    maxBuffer: 1 << 30,
  });
}

/** NUL-separated `git ls-files` output as a sorted list. */
export function splitNul(out: Buffer | string): string[] {
  return out.toString('utf8').split('\0').filter(Boolean).sort();
}

/** Adds each file's path and contents (a symlink's target) to h. */
function hashFiles(h: ReturnType<typeof createHash>, dir: string, files: readonly string[]): void {
  for (const f of files) {
    const p = join(dir, f);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) continue; // deleted in the work tree: the diff says so
    h.update(`${f}\0${st.mode & 0o111 ? 'x' : '-'}\0`);
    h.update(st.isSymbolicLink() ? readlinkSync(p) : st.isFile() ? readFileSync(p) : '');
    h.update('\0');
  }
}

/**
 * The tarball's version from criu's Makefile.versions
 * (MAJOR.MINOR[.SUBLEVEL][.EXTRA]), undefined if it has none.
 */
export function versionFromMakefile(text: string): string | undefined {
  const v = (name: string) => text.match(new RegExp(`^CRIU_VERSION_${name}\\s*:?=[ \\t]*(\\S*)`, 'm'))?.[1] ?? '';
  const major = v('MAJOR');
  if (!major) return undefined;
  return [major, v('MINOR'), v('SUBLEVEL'), v('EXTRA')].filter(Boolean).join('.');
}

/** Identifies the tree at dir; BadInputError when it is not a CRIU source tree. */
export function identifyTree(dir: string): TreeIdentity {
  const path = realpathSync(dir);
  const bad = (message: string, hint?: string) =>
    new BadInputError([{ file: '--criu', line: 1, col: 1, path: '', message }], hint);
  const makefileVersions = join(path, 'Makefile.versions');
  if (!existsSync(makefileVersions) || !existsSync(join(path, 'criu'))) {
    throw bad(
      `${dir} is not a CRIU source tree (no Makefile.versions and criu/)`,
      'give a git checkout of criu or an unpacked release tarball',
    );
  }
  let top: string | undefined;
  try {
    top = realpathSync(git(path, ['rev-parse', '--show-toplevel']).toString().trim());
  } catch {
    top = undefined;
  }
  if (top === path) {
    const commit = git(path, ['rev-parse', 'HEAD']).toString().trim();
    const files = splitNul(git(path, ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])).filter((f) =>
      lstatSync(join(path, f), { throwIfNoEntry: false }),
    );
    const untracked = splitNul(git(path, ['ls-files', '-z', '--others', '--exclude-standard']));
    // --no-ext-diff and a fixed format: the user's diff settings must not change the key.
    const diff = git(path, ['-c', 'core.quotepath=off', 'diff', '--no-ext-diff', '--no-color', '--binary', 'HEAD']);
    const dirty = diff.length > 0 || untracked.length > 0;
    const h = createHash('sha256');
    h.update(`git ${commit}\n`);
    if (dirty) {
      h.update(diff);
      hashFiles(h, path, untracked);
    }
    const describe = git(path, ['describe', '--tags', '--always', '--abbrev=9']).toString().trim();
    return {
      kind: 'git',
      path,
      commit,
      describe: dirty ? `${describe}-dirty` : describe,
      dirty,
      key: h.digest('hex'),
      files,
    };
  }
  // A tarball: its .gitignore files still say what a build leaves behind,
  // so a tree built in place hashes (and copies) as it was unpacked.
  const scratch = mkdtempSync(join(tmpdir(), 'mountlab-tree-'));
  let files: string[];
  try {
    execFileSync('git', ['init', '-q', '--bare', scratch], { stdio: 'ignore' });
    files = splitNul(
      git(path, ['--git-dir', scratch, '--work-tree', path, 'ls-files', '-z', '--others', '--exclude-standard'], {
        GIT_DIR: scratch,
      }),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const version = versionFromMakefile(readFileSync(makefileVersions, 'utf8'));
  if (!version) throw bad(`${dir}/Makefile.versions names no CRIU_VERSION_MAJOR`);
  const h = createHash('sha256');
  h.update('tarball\n');
  hashFiles(h, path, files);
  return { kind: 'tarball', path, describe: version, dirty: false, key: h.digest('hex'), files };
}

/**
 * The build's name in cell ids and the cache: `git describe` with the
 * commit's short hash always in it (v4.2 becomes v4.2-g3c7d4fa01), or the
 * tarball's version with a short hash of its files. Two trees with the
 * same name in one run are told apart by their keys.
 */
export function buildLabel(t: Pick<TreeIdentity, 'kind' | 'describe' | 'commit' | 'key'>): string {
  if (t.kind === 'tarball') return `${t.describe}-${t.key.slice(0, 7)}`;
  const hasHash = /-g[0-9a-f]{7,}(-dirty)?$/.test(t.describe) || /^[0-9a-f]{7,}(-dirty)?$/.test(t.describe);
  if (hasHash) return t.describe;
  const short = (t.commit ?? t.key).slice(0, 9);
  return t.describe.endsWith('-dirty') ? `${t.describe.slice(0, -6)}-g${short}-dirty` : `${t.describe}-g${short}`;
}
