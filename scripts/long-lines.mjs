// Lists every line over 120 characters in the code (src/, test/, bench/,
// scripts/, bin/, vm/'s shell scripts, vm/helper/*.c and the ./mountlab
// launcher) as FILE:LINE: N characters, and exits 1 when there is one. Data is left out by the explicit list below:
// a capture, a paste or a generated file is what it is, not something to wrap.
// `--root DIR` checks another tree laid out the same way (the tests use it).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAX = 120;

// Where code lives, as [directory, does this file count (its path and
// text)]. Paths are relative to the root, with '/' separators. In vm/ a shell
// script is known by its `#!` line as well as by `.sh`: the guest's init,
// the initramfs's init and labctl have no extension.
const ROOTS = [
  ['src', () => true],
  ['test', () => true],
  ['bench', () => true],
  ['scripts', () => true],
  ['bin', () => true],
  ['vm', (p, text) => p.endsWith('.sh') || text.startsWith('#!') || /^vm\/helper\/[^/]+\.c$/.test(p)],
];

// Code at the root (the launcher, vagrant's Ruby), which otherwise holds configuration and prose.
const ROOT_FILES = ['mountlab', 'Vagrantfile'];

// Data, not code: each entry says why it is left out.
export const DATA = [
  // A JSON string cannot be split over lines: the schemas' descriptions and
  // the fixtures stay as long as they are.
  [/\.json$/, 'JSON'],
  [/^src\/scenario\/scenario\.generated\.ts$/, 'generated from the schema by scripts/gen-types.mjs'],
  [/^src\/results\/results\.generated\.ts$/, 'generated from the schema by scripts/gen-types.mjs'],
  [/^src\/import\/fixtures\//, 'pasted mountinfo'],
  [/^test\/fixtures\//, 'captures, mountinfo and scenarios the tests read'],
  [/^test\/hostile\//, 'the hostile corpus: inputs built to be too long, and the manifest table the test reads'],
  [/^vm\/kernel\/[^/]+\.config$/, 'kernel config fragments: kconfig reads one option a line, with no continuation'],
];

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

function* walk(root, dir) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch (e) {
    if (e.code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory() && !SKIP_DIRS.has(e.name)) yield* walk(root, rel);
    else if (e.isFile()) yield rel;
  }
}

function* codeFiles(root) {
  for (const [dir, counts] of ROOTS) {
    for (const path of walk(root, dir)) {
      if (DATA.some(([re]) => re.test(path))) continue;
      const bytes = readFileSync(join(root, path));
      if (bytes.includes(0)) continue; // binary
      const text = bytes.toString('utf8');
      if (counts(path, text)) yield { path, text };
    }
  }
  for (const path of ROOT_FILES) {
    let text;
    try {
      text = readFileSync(join(root, path), 'utf8');
    } catch (e) {
      if (e.code === 'ENOENT') continue;
      throw e;
    }
    yield { path, text };
  }
}

/** Every line over MAX characters under `root`: directory by directory as in ROOTS, then ROOT_FILES. */
export function longLines(root) {
  const found = [];
  for (const { path, text } of codeFiles(root)) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      // Characters, not UTF-16 units nor bytes: what an editor's ruler counts.
      const n = [...lines[i].replace(/\r$/, '')].length;
      if (n > MAX) found.push({ path, line: i + 1, length: n });
    }
  }
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--root');
  const root = at > 0 ? process.argv[at + 1] : join(fileURLToPath(import.meta.url), '..', '..');
  const found = longLines(root);
  for (const f of found) console.log(`${f.path}:${f.line}: ${f.length} characters`);
  if (found.length) {
    console.error(
      `${found.length} line(s) over ${MAX} characters outside data. ` +
        '`npx biome check --write` wraps code; long strings and comments are split by hand.',
    );
    process.exit(1);
  }
}
