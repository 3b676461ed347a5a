import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { assetPath } from '../src/paths.js';

// Biome formats and lints by biome.jsonc; this runs its check (it writes
// nothing) with the suite, so a change that is not formatted fails here.

const BIOME = assetPath('node_modules', '@biomejs', 'biome', 'bin', 'biome');

function biome(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIOME, ...args, '--colors=off'], {
    cwd: assetPath(),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...(input === undefined ? {} : { input }),
  });
  if (r.error) throw r.error;
  return r;
}

describe('format and lint (biome.jsonc)', function () {
  this.timeout(120_000);

  it('the tree passes `biome ci`: formatted, no lint error or warning', () => {
    // Infos (Biome's suggestions) are shown by `npx biome check` but fail nothing.
    const args = ['--error-on-warnings', '--reporter=concise', '--diagnostic-level=warn', '--max-diagnostics=100'];
    const r = biome(['ci', ...args, '.']);
    if (r.status === 0) return;
    assert.fail(
      `biome ci failed (exit ${r.status}). Run \`npx biome check --write\` (npm run format): it formats and ` +
        'applies the safe fixes. Fix what is left by hand, or, where the code is right, put ' +
        '`// biome-ignore lint/GROUP/RULE: why` on the line before. `npx biome ci` shows them all.\n' +
        `${r.stdout}${r.stderr}`,
    );
  });

  it('formats as the code is written: 2 spaces, single quotes, semicolons, trailing commas, 120 columns', () => {
    const wide = `const w = [${Array.from({ length: 30 }, (_, i) => `'item${i}'`).join(', ')}];`;
    const r = biome(
      ['format', '--stdin-file-path=src/example.ts'],
      `const a = {b: "x", c: [1,2,3]}\nfunction f(x){return x}\n${wide}\n`,
    );
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.split('\n');
    assert.deepEqual(out.slice(0, 4), ["const a = { b: 'x', c: [1, 2, 3] };", 'function f(x) {', '  return x;', '}']);
    assert.equal(out[4], 'const w = [');
    assert.equal(out.at(-3), "  'item29',");
    assert.ok(
      out.every((l) => l.length <= 120),
      out.join('\n'),
    );
  });
});
