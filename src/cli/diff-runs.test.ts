import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import type { Outcome } from '../results/outcome.js';
import { RESULTS_FORMAT, type RunResult, type ScenarioResult } from '../results/result.js';
import { diffRunsCommand } from './diff-runs.js';

function result(scenario: string, outcome: Outcome, reason: string, cell = 'vm-debian-6.12'): ScenarioResult {
  return {
    scenario,
    mountEngine: 'v2',
    file: `scenarios/${scenario}.yaml`,
    cell,
    outcome,
    reason,
    expected: 'identical',
    phases: [],
    differences: outcome === 'fail' ? [{ kind: 'master', mount: '/w/c', sentence: reason }] : [],
    filtered: [],
    leaks: [],
    artifacts: {},
    durationMs: 3000,
  };
}

/** A complete results.json as `mountlab run` writes it. */
function runResult(
  runId: string,
  cell: { id: string; kernel: string; criu: string },
  results: ScenarioResult[],
): RunResult {
  const counts = { pass: 0, fail: 0, error: 0, skip: 0, xfail: 0, xpass: 0 };
  for (const r of results) counts[r.outcome]++;
  return {
    format: RESULTS_FORMAT,
    runId,
    mountlabVersion: '0.1.0',
    startedAt: '2026-11-21T21:18:44.000Z',
    finishedAt: '2026-11-21T21:20:44.000Z',
    durationMs: 120000,
    host: { kernel: '6.1.0', node: 'v20.19.0' },
    cells: [
      {
        id: cell.id,
        facts: {
          target: 'vm',
          kernel: cell.kernel,
          criu: cell.criu,
          criuCheck: 'ok',
          utilLinux: '2.41.5',
          accel: 'tcg',
          readyMs: 8000,
        },
      },
    ],
    results: results.map((r) => ({ ...r, cell: cell.id })),
    counts,
    exitCode: 0,
    complete: true,
  };
}

const OK = 'restored topology is identical up to renumbering';
const OLD_CELL = { id: 'vm-debian-6.12', kernel: '6.12.107+deb13-amd64', criu: '3.17.1' };
const NEW_CELL = { id: 'vm-debian-6.12', kernel: '6.12.107+deb13-amd64', criu: '4.1.1' };
const BASELINE = runResult('20261121-211844-ad7f', OLD_CELL, [
  result('shared-root', 'pass', OK),
  result('slave-chain-3', 'pass', OK),
  result('unlinked-directory', 'fail', 'task init fd 11 (/w/gone): open flags changed: O_DIRECTORY dropped'),
]);
const NEW = runResult('20261121-212431-f157', NEW_CELL, [
  result('shared-root', 'pass', OK),
  result('slave-chain-3', 'fail', '/c was a slave of the peer group of /b (master:2); after restore it is private'),
  result('unlinked-directory', 'pass', OK),
]);

interface Run {
  code: number;
  out: string;
  err: string;
}

async function diff(a: string, b: string, opts: { markdown?: boolean; json?: boolean } = {}): Promise<Run> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c: Buffer) => (o += c.toString('utf8')));
  err.on('data', (c: Buffer) => (e += c.toString('utf8')));
  const code = await diffRunsCommand(a, b, { ...opts, out, err });
  return { code, out: o, err: e };
}

describe('mountlab diff-runs', () => {
  let dir: string;
  /** Writes a results.json into DIR/sub (made) and gives its path. */
  const put = (sub: string, content: unknown) => {
    mkdirSync(join(dir, sub), { recursive: true });
    const p = join(dir, sub, 'results.json');
    writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return p;
  };
  before(() => {
    dir = scratchDir('diff-runs');
    put('old/20261121-211844-ad7f', BASELINE);
    // A reports directory with two runs: the newer one is NEW.
    put('reports/20261120-090000-0001', BASELINE);
    put('reports/20261121-212431-f157', NEW);
  });
  after(removeScratch);

  it('lists exactly the scenarios whose verdicts changed and exits 1 on a regression', async () => {
    const r = await diff(join(dir, 'old/20261121-211844-ad7f/results.json'), join(dir, 'reports/20261121-212431-f157'));
    assert.equal(r.code, 1, r.err);
    assert.equal(r.err, '');
    const lines = r.out.trimEnd().split('\n');
    assert.match(
      lines[0]!,
      new RegExp(
        /^baseline: .*old\/20261121-211844-ad7f\/results\.json \(run 20261121-211844-ad7f; /.source +
          /vm-debian-6\.12: kernel 6\.12\.107\+deb13-amd64, criu 3\.17\.1\)$/.source,
      ),
    );
    assert.match(
      lines[1]!,
      /^new: {6}.*reports\/20261121-212431-f157\/results\.json \(run 20261121-212431-f157; .*criu 4\.1\.1\)$/,
    );
    assert.deepEqual(lines.slice(3), [
      'REGRESSION slave-chain-3 (vm-debian-6.12): pass → fail: ' +
        '/c was a slave of the peer group of /b (master:2); after restore it is private',
      'FIXED unlinked-directory (vm-debian-6.12): fail → pass ' +
        '(was: task init fd 11 (/w/gone): open flags changed: O_DIRECTORY dropped)',
      '1 regression, 1 fixed, 1 unchanged',
    ]);
  });

  it('exits 0 when nothing regressed, and takes the newest run of a reports directory, saying so', async () => {
    const r = await diff(join(dir, 'reports'), join(dir, 'old/20261121-211844-ad7f'));
    // reports/ is NEW (newest); old is BASELINE: the regression is now a fix and the fix a regression.
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /^note: baseline: .*reports is a reports directory: took the newest of 2 runs, 20261121-212431-f157$/m,
    );
    const same = await diff(join(dir, 'reports/20261121-212431-f157'), join(dir, 'reports'));
    assert.equal(same.code, 0, same.out);
    assert.match(same.out, /\nno verdict changed\n3 unchanged\n$/);
  });

  it('pairs the one cell of each run by scenario when their ids differ, and says which cells', async () => {
    const a = put(
      'k61',
      runResult('r-6.1', { id: 'vm-debian-6.1', kernel: '6.1.0-30-amd64', criu: '4.1.1' }, [
        result('shared-root', 'pass', OK),
        result('slave-chain-3', 'pass', OK),
      ]),
    );
    const b = put(
      'k612',
      runResult('r-6.12', { id: 'vm-debian-6.12', kernel: '6.12.107+deb13-amd64', criu: '4.1.1' }, [
        result('shared-root', 'skip', 'needs criu >= 5'),
        result('slave-chain-3', 'pass', OK),
      ]),
    );
    const r = await diff(a, b);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /^note: one cell each: compared vm-debian-6\.1 \(baseline\) with vm-debian-6\.12 \(new\), by scenario$/m,
    );
    assert.match(r.out, /^NEWLY-SKIPPED shared-root: pass → skip: needs criu >= 5$/m);
    assert.match(r.out, /\n1 newly skipped, 1 unchanged\n$/);
  });

  it('diffs two cells of one matrix run, selected as RUN#CELL', async () => {
    const a = { id: 'vm-debian-6.12-criu-3.17.1', kernel: '6.12.107+deb13-amd64', criu: '3.17.1' };
    const b = { id: 'vm-debian-6.12-criu-4.1.1', kernel: '6.12.107+deb13-amd64', criu: '4.1.1' };
    const one = runResult('r-matrix', a, [
      result('shared-root', 'error', 'criu restore failed (exit 1): mnt-v2: Failed to make mount 40 slave'),
      result('slave-chain-3', 'pass', OK),
    ]);
    const other = runResult('r-matrix', b, [result('shared-root', 'pass', OK), result('slave-chain-3', 'pass', OK)]);
    const matrix = put('matrix', {
      ...one,
      cells: [...one.cells, ...other.cells],
      results: [...one.results, ...other.results],
    });
    const r = await diff(`${matrix}#${a.id}`, `${matrix}#${b.id}`);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^note: baseline: took cell vm-debian-6\.12-criu-3\.17\.1 of run r-matrix$/m);
    assert.match(r.out, /^FIXED shared-root: error → pass/m);
    assert.match(r.out, /\n1 fixed, 1 unchanged\n$/);
    const missing = await diff(`${matrix}#vm-nope`, matrix);
    assert.equal(missing.code, 2);
    assert.match(
      missing.err,
      /no cell 'vm-nope' in this run; its cells: vm-debian-6\.12-criu-3\.17\.1, vm-debian-6\.12-criu-4\.1\.1/,
    );
  });

  it("--markdown: a header with both runs' kernel and criu, a table of changes, a section per regression", async () => {
    const r = await diff(join(dir, 'old/20261121-211844-ad7f'), join(dir, 'reports/20261121-212431-f157'), {
      markdown: true,
    });
    assert.equal(r.code, 1);
    const lines = r.out.split('\n');
    assert.equal(lines[0], '## mountlab diff-runs: 1 regression, 1 fixed, 1 unchanged');
    assert.ok(lines.includes('| baseline | vm-debian-6.12 | 6.12.107+deb13-amd64 | 3.17.1 | 2.41.5 | tcg |'), r.out);
    assert.ok(lines.includes('| new | vm-debian-6.12 | 6.12.107+deb13-amd64 | 4.1.1 | 2.41.5 | tcg |'), r.out);
    assert.ok(
      lines.includes(
        '| regression | slave-chain-3 | pass | fail | /c was a slave of the peer group of /b (master:2);... |',
      ),
      r.out,
    );
    assert.ok(lines.includes('### regression: slave-chain-3 (vm-debian-6.12), pass -> fail'), r.out);
    assert.ok(
      lines.includes('- /c was a slave of the peer group of /b (master:2); after restore it is private'),
      r.out,
    );
    assert.doesNotMatch(r.out, /[^\x00-\x7f]/);
  });

  it('--json: a document with the categories', async () => {
    const r = await diff(join(dir, 'old/20261121-211844-ad7f'), join(dir, 'reports/20261121-212431-f157'), {
      json: true,
    });
    assert.equal(r.code, 1);
    const j = JSON.parse(r.out) as {
      format: string;
      changes: { category: string; scenario: string }[];
      counts: Record<string, number>;
    };
    assert.equal(j.format, 'mountlab-run-diff/1');
    assert.deepEqual(
      j.changes.map((c) => [c.category, c.scenario]),
      [
        ['regression', 'slave-chain-3'],
        ['fix', 'unlinked-directory'],
      ],
    );
    assert.equal(j.counts.unchanged, 1);
  });

  it('exits 2 with a message naming the file for input it cannot use', async () => {
    const good = join(dir, 'old/20261121-211844-ad7f');
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.json'), /missing\.json: cannot read: no such file or directory$/],
      [put('notjson', '{"format": "mountlab-results/1", '), /notjson\/results\.json: not JSON \(/],
      [
        put('wrongformat', { format: 'junit', results: [] }),
        /wrongformat\/results\.json: not a mountlab results file: format is 'junit', expected 'mountlab-results\/1'$/,
      ],
      [
        put('future', { ...NEW, format: 'mountlab-results/2' }),
        /future\/results\.json: format 'mountlab-results\/2' is not supported/,
      ],
      [
        put('noresults', { format: 'mountlab-results/1', complete: true, cells: [] }),
        /noresults\/results\.json: "results" is missing or not a list$/,
      ],
      [
        put('badoutcome', { ...NEW, results: [{ ...NEW.results[0], outcome: 'ok' }] }),
        /badoutcome\/results\.json: results\[0\] \(shared-root\): outcome "ok" is not one of/,
      ],
      [empty, /empty: no results\.json in it or in any directory under it$/],
    ];
    for (const [bad, re] of cases) {
      for (const [a, b] of [
        [good, bad],
        [bad, good],
      ] as const) {
        const r = await diff(a, b);
        assert.equal(r.code, 2, `${bad}: ${r.out}`);
        assert.equal(r.out, '');
        assert.match(r.err.trimEnd(), new RegExp(`^mountlab diff-runs: .*${re.source}`), r.err);
      }
    }
    assert.equal((await diff(good, good, { json: true, markdown: true })).code, 2);
  });

  it("reads a killed run's partial file and says it is incomplete", async () => {
    const partial = put('partial', {
      format: RESULTS_FORMAT,
      runId: 'cut',
      startedAt: 'x',
      complete: false,
      results: NEW.results.slice(0, 2),
    });
    const r = await diff(join(dir, 'old/20261121-211844-ad7f'), partial);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /^note: new run cut is incomplete \(killed or still running\): it covers only what finished$/m);
    assert.match(r.out, /^ONLY-IN-BASELINE unlinked-directory \(vm-debian-6\.12\): fail: /m);
  });

  it('is registered as a command of main', async () => {
    const write = process.stderr.write;
    let err = '';
    process.stderr.write = ((s: string, ...rest: unknown[]) => {
      err += s;
      const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stderr.write;
    try {
      // Imported here, so the rest of this file does not depend on everything main imports.
      const { main } = await import('./main.js');
      assert.equal(await main(['node', 'mountlab', 'diff-runs', join(dir, 'missing-a'), join(dir, 'missing-b')]), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.match(err, /^mountlab diff-runs: .*missing-a: cannot read: no such file or directory\n$/);
  });
});
