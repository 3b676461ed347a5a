import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { assetPath } from '../src/paths.js';

// The rules live in .dependency-cruiser.cjs; dependency-cruiser checks them
// (type-only imports included). Here they run over src/, and over a fixture
// tree that breaks each of them once, so a check that never fails shows up.

interface Violation {
  type: string;
  from: string;
  to: string;
  dependencyTypes?: string[];
  rule: { name: string };
  cycle?: { name: string }[];
}
interface Module {
  source: string;
  dependencies: { resolved: string; dependencyTypes: string[] }[];
}
interface CruiseResult {
  modules: Module[];
  summary: { violations: Violation[] };
}

const CONFIG = assetPath('.dependency-cruiser.cjs');
const DEPCRUISE = assetPath('node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** Cruises `src` under `root` with the repository's rules. */
function cruise(root: string): CruiseResult {
  const r = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', 'json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  // It exits non-zero when a rule is broken; the JSON on stdout says which.
  if (!r.stdout.trim()) throw new Error(`depcruise printed nothing (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as CruiseResult;
}

/**
 * One line per broken rule. dependency-cruiser reports a folder cycle once
 * from each folder on it, and names subfolders (src/target/vm) on the way:
 * each cycle is shown once, as top-level folders starting from the first in
 * sort order, with a few of the imports that make each of its steps.
 */
function describeViolations(result: CruiseResult): string[] {
  const lines: string[] = [];
  const cycles = new Set<string>();
  for (const v of result.summary.violations) {
    if (v.type !== 'cycle' || !v.cycle) {
      const typeOnly = v.dependencyTypes?.includes('type-only') ? ' (type-only)' : '';
      lines.push(`${v.rule.name}: ${v.from} -> ${v.to}${typeOnly}`);
      continue;
    }
    const ring = [v.from, ...v.cycle.map((c) => c.name)].map(topLevel).filter((f, i, all) => f !== all[i - 1]);
    ring.pop(); // the cycle ends where it started
    if (ring.length < 2) continue;
    const start = ring.indexOf([...ring].sort()[0]!);
    const path = [...ring.slice(start), ...ring.slice(0, start)];
    const key = [...path, path[0]].join(' -> ');
    if (cycles.has(key)) continue;
    cycles.add(key);
    lines.push(`${v.rule.name}: ${key}`);
    path.forEach((from, i) => {
      for (const imp of importsBetween(result, from, path[(i + 1) % path.length]!).slice(0, 3))
        lines.push(`    ${imp}`);
    });
  }
  return lines;
}

/** `src/target/vm` -> `src/target`. */
const topLevel = (folder: string): string => folder.split('/').slice(0, 2).join('/');

/** The imports from modules under folder `from` of modules under folder `to`. */
function importsBetween(result: CruiseResult, from: string, to: string): string[] {
  return result.modules
    .filter((m) => m.source.startsWith(`${from}/`))
    .flatMap((m) =>
      m.dependencies
        .filter((d) => d.resolved.startsWith(`${to}/`))
        .map((d) => `${m.source} -> ${d.resolved}${d.dependencyTypes.includes('type-only') ? ' (type-only)' : ''}`),
    );
}

describe('import rules (.dependency-cruiser.cjs)', function () {
  this.timeout(120_000);

  it('src/ keeps them', () => {
    const broken = describeViolations(cruise(assetPath()));
    if (broken.length === 0) return;
    const count = broken.filter((l) => !l.startsWith(' ')).length;
    assert.fail(
      `${count} import rule violation(s) in src/ (the rules and why: .dependency-cruiser.cjs; ` +
        'again: `npx depcruise src --config .dependency-cruiser.cjs`):\n' +
        broken.join('\n'),
    );
  });

  it('catch what they forbid: a fixture tree that breaks each rule once (test/fixtures/import-rules)', () => {
    const broken = describeViolations(cruise(assetPath('test', 'fixtures', 'import-rules')));
    assert.deepEqual(broken, [
      'every-import-resolves: src/run/lost.ts -> ../report/gone.js',
      'no-cycle-between-top-level-folders: src/report -> src/run -> src/report',
      '    src/report/render.ts -> src/run/outcome.ts (type-only)',
      '    src/run/runner.ts -> src/report/render.ts',
      'pure-stages-never-import-target: src/capture/parse.ts -> src/target/guest.ts (type-only)',
      'report-never-imports-target: src/report/render.ts -> src/target/guest.ts',
      'target-never-imports-compare: src/target/guest.ts -> src/compare/judge.ts',
    ]);
  });
});
