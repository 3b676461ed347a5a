import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { BadInputError } from '../errors.js';
import { runResult, scenarioResult, vmCell } from '../results/results.testutil.js';
import type { RunResult, ScenarioResult } from '../results/result.js';
import { resultsProblems } from '../results/results-schema.js';
import { mergeCommand } from './merge-command.js';

/** A run directory as a shard leaves it: results.json and each result's artifacts. */
function shardDir(root: string, name: string, results: ScenarioResult[], cells = [vmCell('vm-a')]): string {
  const dir = join(root, name);
  for (const r of results) {
    for (const rel of Object.values(r.artifacts)) {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), `${r.scenario} ${rel}\n`);
    }
  }
  const run: RunResult = { ...runResult(results, cells), runId: name };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), JSON.stringify(run));
  return dir;
}

const res = (scenario: string, outcome: ScenarioResult['outcome'], cell = 'vm-a') =>
  scenarioResult({
    scenario,
    outcome,
    cell,
    reason: outcome === 'pass' ? 'identical' : 'x',
    artifacts: { 'restore.log': `${cell}/${scenario}/restore.log` },
  });

describe('mountlab merge', () => {
  after(removeScratch);

  it('merges disjoint shards: one run, every report, artifacts copied, counts and exit code recomputed', async () => {
    const root = scratchDir('merge');
    const a = shardDir(root, 'shard-1', [res('s1', 'pass'), res('s3', 'xfail')]);
    // A CI download directory: the run sits one level down.
    shardDir(join(root, 'artifact-2'), 'reports-run', [res('s2', 'fail')]);
    const out = join(root, 'out');
    const err = new PassThrough();
    const code = await mergeCommand([a, join(root, 'artifact-2')], { out, err });
    assert.equal(code, 1);
    const dir = onlyDir(out);
    const merged = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResult;
    assert.deepEqual(resultsProblems(merged), []);
    assert.deepEqual(
      merged.results.map((r) => [r.scenario, r.outcome]),
      [
        ['s1', 'pass'],
        ['s3', 'xfail'],
        ['s2', 'fail'],
      ],
    );
    assert.deepEqual(merged.counts, { pass: 1, fail: 1, error: 0, skip: 0, xfail: 1, xpass: 0 });
    assert.deepEqual(merged.mergedFrom, ['shard-1', 'reports-run']);
    assert.equal(merged.complete, true);
    for (const f of ['junit.xml', 'results.tap', 'summary.md', 'index.html']) assert.ok(existsSync(join(dir, f)), f);
    assert.equal(readFileSync(join(dir, 'vm-a/s2/restore.log'), 'utf8'), 's2 vm-a/s2/restore.log\n');
    assert.match(
      (err.read() as Buffer).toString(),
      /merged 2 run\(s\): shard-1, reports-run[\s\S]*1 pass, 1 fail, 1 xfail/,
    );
  });

  it('refuses shards that overlap, naming both files, and writes nothing', async () => {
    const root = scratchDir('merge-overlap');
    const a = shardDir(root, 'a', [res('s1', 'pass')]);
    const b = shardDir(root, 'b', [res('s1', 'fail')]);
    await assert.rejects(mergeCommand([a, b], { out: join(root, 'out'), err: new PassThrough() }), (e: unknown) => {
      assert.ok(e instanceof BadInputError);
      assert.match(e.message, /b\/results\.json:1:1: s1 on vm-a is also in .*a\/results\.json: the inputs overlap/);
      return true;
    });
    assert.equal(existsSync(join(root, 'out')), false);
  });

  it("refuses a killed shard's partial results and a directory with no run", async () => {
    const root = scratchDir('merge-partial');
    mkdirSync(join(root, 'p'), { recursive: true });
    writeFileSync(
      join(root, 'p', 'results.json'),
      JSON.stringify({
        format: 'mountlab-results/1',
        runId: 'p',
        startedAt: '2026-11-21T00:00:00Z',
        complete: false,
        results: [],
      }),
    );
    await assert.rejects(
      mergeCommand([join(root, 'p')], { out: join(root, 'out') }),
      /partial results of a run that was killed/,
    );
    mkdirSync(join(root, 'empty'));
    await assert.rejects(
      mergeCommand([join(root, 'empty')], { out: join(root, 'out') }),
      /no results\.json in it or in the directories below it/,
    );
  });

  it('refuses the same cell id with a different kernel in two inputs', async () => {
    const root = scratchDir('merge-cells');
    const a = shardDir(root, 'a', [res('s1', 'pass')]);
    const other = { ...vmCell('vm-a'), facts: { ...vmCell('vm-a').facts, kernel: '7.0.0' } };
    const b = shardDir(root, 'b', [res('s2', 'pass')], [other]);
    await assert.rejects(
      mergeCommand([a, b], { out: join(root, 'out') }),
      /cell vm-a ran kernel 7\.0\.0 with criu 4\.1\.1 here, but kernel 6\.12\.0/,
    );
  });
});

/** The one run directory a merge made. */
function onlyDir(out: string): string {
  const dirs = readdirSync(out).map((d) => join(out, d));
  assert.equal(dirs.length, 1, dirs.join(' '));
  return dirs[0]!;
}
