import { strict as assert } from 'node:assert';
import type { Outcome } from '../results/outcome.js';
import { OUTCOMES } from '../results/outcome.js';
import {
  CATEGORIES,
  classify,
  diffRuns,
  parseRunFile,
  renderJson,
  renderMarkdown,
  renderText,
  RunFileError,
  wrap,
  type Category,
  type LoadedRun,
  type ResultLike,
} from './run-diff.js';

const OK = 'restored topology is identical up to renumbering';

function res(scenario: string, outcome: Outcome, reason = outcome === 'pass' ? OK : `${outcome} reason`, extra: Partial<ResultLike> = {}): ResultLike {
  return { scenario, cell: 'vm-debian-6.12', outcome, reason, differences: [], ...extra };
}

function run(results: ResultLike[], cells: { id: string; kernel?: string; criu?: string }[] = [{ id: 'vm-debian-6.12' }], runId = 'r'): LoadedRun {
  return {
    runId,
    complete: true,
    cells: cells.map((c) => ({ id: c.id, facts: { target: 'vm', kernel: c.kernel ?? '6.12.107+deb13-amd64', criu: c.criu ?? '4.1.1', utilLinux: '2.41.5', readyMs: 1 } })),
    results,
  };
}

describe('run-diff: classify', () => {
  // The rule at the top of run-diff.ts, every transition spelled out.
  const R = 'regression', F = 'fix', X = 'no-longer-reproduces', NE = 'new-error', CH = 'changed', NS = 'newly-skipped', US = 'no-longer-skipped', U = 'unchanged';
  const table: Record<Outcome, Record<Outcome, Category | 'unchanged'>> = {
    pass: { pass: U, fail: R, error: R, skip: NS, xfail: R, xpass: X },
    fail: { pass: F, fail: U, error: NE, skip: NS, xfail: F, xpass: X },
    error: { pass: F, fail: CH, error: U, skip: NS, xfail: F, xpass: X },
    skip: { pass: US, fail: US, error: US, skip: U, xfail: US, xpass: US },
    xfail: { pass: F, fail: R, error: R, skip: NS, xfail: U, xpass: X },
    xpass: { pass: F, fail: R, error: R, skip: NS, xfail: R, xpass: U },
  };
  for (const from of OUTCOMES) {
    for (const to of OUTCOMES) {
      it(`${from} -> ${to} is ${table[from][to]}`, () => {
        assert.equal(classify(res('s', from, 'same'), res('s', to, 'same')), table[from][to]);
      });
    }
  }

  it('a fail or error with another reason is changed; xfail with another reason is not', () => {
    assert.equal(classify(res('s', 'fail', '/a lost its master'), res('s', 'fail', '/a is private')), 'changed');
    assert.equal(classify(res('s', 'error', 'criu dump failed'), res('s', 'error', 'criu dump crashed')), 'changed');
    assert.equal(classify(res('s', 'xfail', 'known bug: a'), res('s', 'xfail', 'known bug: b')), 'unchanged');
  });

  it('a difference only in pids, ids, device numbers or source lines is not a change; one in an exit code is', () => {
    const a = res('s', 'error', "criu dump failed (exit 1): Error (criu/namespaces.c:460): Can't dump nested ipc namespace for 292");
    assert.equal(classify(a, res('s', 'error', a.reason.replace('292', '301').replace(':460', ':471'))), 'unchanged');
    assert.equal(classify(res('s', 'error', 'dev 0x700000 id 39'), res('s', 'error', 'dev 0x700001 id 40')), 'unchanged');
    assert.equal(classify(a, res('s', 'error', a.reason.replace('exit 1', 'exit 139'))), 'changed');
  });

  it('compares the error message and phase too', () => {
    const e = (phase: string, message: string) => res('s', 'error', 'criu failed', { error: { phase, message } });
    assert.equal(classify(e('dump', 'x'), e('dump', 'x')), 'unchanged');
    assert.equal(classify(e('dump', 'x'), e('restore', 'x')), 'changed');
    assert.equal(classify(e('dump', 'x'), e('dump', 'y')), 'changed');
  });
});

describe('run-diff: diffRuns', () => {
  const base = run([
    res('stays-pass', 'pass'),
    res('breaks', 'pass'),
    res('errors-now', 'xfail', 'known bug: x'),
    res('gets-fixed', 'fail', '/a lost its master'),
    res('bug-gone', 'xfail', 'known bug: y'),
    res('fail-to-error', 'fail', '/b is private'),
    res('reason-moves', 'fail', '/c lost its master'),
    res('gets-skipped', 'pass'),
    res('gets-run', 'skip', 'needs kernel >= 6.13'),
    res('dropped', 'pass'),
  ]);
  const next = run([
    res('stays-pass', 'pass'),
    res('breaks', 'fail', '/w/a was shared; after restore it is private'),
    res('errors-now', 'error', 'criu restore crashed: SIGSEGV'),
    res('gets-fixed', 'pass'),
    res('bug-gone', 'xpass', 'known bug no longer reproduces (u); update the expectation'),
    res('fail-to-error', 'error', 'criu dump failed (exit 1)'),
    res('reason-moves', 'fail', '/c has an extra mount'),
    res('gets-skipped', 'skip', 'needs criu feature x'),
    res('gets-run', 'fail', '/d is private'),
    res('added', 'pass'),
  ]);

  it('puts each pair in one category, in the printed order, and counts the unchanged', () => {
    const d = diffRuns(base, next);
    assert.deepEqual(
      d.changes.map((c) => [c.category, c.scenario]),
      [
        ['regression', 'breaks'],
        ['regression', 'errors-now'],
        ['fix', 'gets-fixed'],
        ['no-longer-reproduces', 'bug-gone'],
        ['new-error', 'fail-to-error'],
        ['changed', 'reason-moves'],
        ['newly-skipped', 'gets-skipped'],
        ['no-longer-skipped', 'gets-run'],
        ['only-baseline', 'dropped'],
        ['only-new', 'added'],
      ],
    );
    assert.equal(d.unchanged, 1);
    assert.deepEqual(CATEGORIES.map((c) => d.counts[c]), [2, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert.equal(d.exitCode, 1);
    assert.deepEqual(d.pairing, { by: 'cell', compared: [['vm-debian-6.12', 'vm-debian-6.12']], onlyBaseline: [], onlyNew: [] });
  });

  it('exits 0 when nothing regressed, whatever else changed', () => {
    const noRegression = run(next.results.map((r) => (r.scenario === 'breaks' || r.scenario === 'errors-now' ? res(r.scenario, 'pass') : r)));
    const d = diffRuns(base, noRegression);
    assert.equal(d.counts.regression, 0);
    assert.ok(d.changes.length > 0);
    assert.equal(d.exitCode, 0);
    assert.equal(diffRuns(base, base).changes.length, 0);
    assert.equal(diffRuns(base, base).unchanged, base.results.length);
  });

  it('pairs by scenario alone when each run has one cell and their ids differ', () => {
    const old = run([res('a', 'pass'), res('b', 'pass')], [{ id: 'vm-debian-6.1', kernel: '6.1.0-30-amd64' }]);
    for (const r of old.results) r.cell = 'vm-debian-6.1';
    const d = diffRuns(old, run([res('a', 'pass'), res('b', 'fail', 'x')]));
    assert.equal(d.pairing.by, 'scenario');
    assert.deepEqual(d.pairing.compared, [['vm-debian-6.1', 'vm-debian-6.12']]);
    assert.deepEqual(d.changes.map((c) => [c.category, c.scenario, c.baselineCell, c.newCell]), [['regression', 'b', 'vm-debian-6.1', 'vm-debian-6.12']]);
    assert.equal(d.unchanged, 1);
  });

  it('pairs by (scenario, cell) in a matrix and names the cells only one run has', () => {
    const cells = (ids: string[]) => ids.map((id) => ({ id }));
    const on = (cell: string, r: ResultLike) => ({ ...r, cell });
    const a = run([on('c1', res('s', 'pass')), on('c2', res('s', 'pass')), on('c3', res('s', 'pass')), on('c3', res('t', 'pass'))], cells(['c1', 'c2', 'c3']));
    const b = run([on('c1', res('s', 'pass')), on('c2', res('s', 'error', 'oops')), on('c4', res('s', 'fail', 'x'))], cells(['c1', 'c2', 'c4']));
    const d = diffRuns(a, b);
    assert.equal(d.pairing.by, 'cell');
    assert.deepEqual(d.pairing.compared, [['c1', 'c1'], ['c2', 'c2']]);
    assert.deepEqual(d.pairing.onlyBaseline, [{ id: 'c3', results: 2 }]);
    assert.deepEqual(d.pairing.onlyNew, [{ id: 'c4', results: 1 }]);
    assert.deepEqual(d.changes.map((c) => [c.category, c.scenario, c.newCell]), [['regression', 's', 'c2']]);
    assert.equal(d.unchanged, 1);
  });

  it('pairs by (scenario, cell) when one run has one cell and the other several', () => {
    const a = run([res('s', 'pass')]);
    const b = run([res('s', 'pass'), { ...res('s', 'pass'), cell: 'vm-debian-6.1' }], [{ id: 'vm-debian-6.12' }, { id: 'vm-debian-6.1' }]);
    const d = diffRuns(a, b);
    assert.equal(d.pairing.by, 'cell');
    assert.deepEqual(d.pairing.onlyNew, [{ id: 'vm-debian-6.1', results: 1 }]);
    assert.equal(d.changes.length, 0);
  });
});

describe('run-diff: parseRunFile', () => {
  const good = {
    format: 'mountlab-results/1',
    runId: '20261121-211844-ad7f',
    complete: true,
    cells: [{ id: 'vm-debian-6.12', facts: { kernel: '6.12.107', criu: '4.1.1' } }],
    results: [{ scenario: 's', cell: 'vm-debian-6.12', outcome: 'fail', reason: 'r', differences: [{ kind: 'k', sentence: 'one' }], error: { phase: 'dump', message: 'm', excerpt: 'e' } }],
  };
  const bad = (v: unknown, re: RegExp) => assert.throws(() => parseRunFile(v), (e: unknown) => e instanceof RunFileError && re.test(e.message));

  it('keeps what a diff reads', () => {
    const r = parseRunFile(good);
    assert.equal(r.runId, '20261121-211844-ad7f');
    assert.deepEqual(r.results[0], { scenario: 's', cell: 'vm-debian-6.12', outcome: 'fail', reason: 'r', differences: [{ sentence: 'one' }], error: { phase: 'dump', message: 'm', excerpt: 'e' } });
    assert.deepEqual(r.cells[0]?.facts, { kernel: '6.12.107', criu: '4.1.1' });
  });

  it("reads a killed run's partial file, taking its cells from its results", () => {
    const r = parseRunFile({ format: 'mountlab-results/1', runId: 'x', startedAt: 't', complete: false, results: good.results });
    assert.equal(r.complete, false);
    assert.deepEqual(r.cells, [{ id: 'vm-debian-6.12' }]);
  });

  it('refuses what is not a results file, naming what is wrong', () => {
    bad([], /expected a JSON object/);
    bad({ results: [] }, /no "format" field/);
    bad({ ...good, format: 'mountlab-run-diff/1' }, /format is 'mountlab-run-diff\/1', expected 'mountlab-results\/1'/);
    bad({ ...good, format: 'mountlab-results/2' }, /'mountlab-results\/2' is not supported/);
    bad({ ...good, results: undefined }, /"results" is missing/);
    bad({ ...good, results: [{ ...good.results[0], outcome: 'maybe' }] }, /results\[0\] \(s\): outcome "maybe" is not one of pass, fail/);
    bad({ ...good, results: [{ ...good.results[0], reason: undefined }] }, /results\[0\] has no "reason"/);
    bad({ ...good, results: [good.results[0], good.results[0]] }, /scenario 's' has two results on cell 'vm-debian-6.12'/);
    bad({ ...good, cells: undefined }, /"cells" is missing from a complete run/);
    bad({ ...good, cells: [{}] }, /cells\[0\] has no "id"/);
  });

  it('accepts a minor version of the same major', () => {
    assert.equal(parseRunFile({ ...good, format: 'mountlab-results/1.1' }).results.length, 1);
  });
});

describe('run-diff: rendering', () => {
  const base = run([res('breaks', 'pass'), res('gets-fixed', 'fail', '/a lost its master'), res('reason-moves', 'error', 'criu dump failed (exit 1)'), res('same', 'pass')], [{ id: 'vm-debian-6.12', kernel: '6.12.107+deb13-amd64', criu: '3.17.1' }], 'base-run');
  const many = Array.from({ length: 7 }, (_, i) => ({ sentence: `/w/m${i} was a slave of the peer group of /w (master:1); after restore it is private, which loses every mount propagated from /w` }));
  const next = run(
    [
      res('breaks', 'error', 'criu restore failed (exit 1): Error (criu/mount.c:1992): mnt: A few mount points | cannot be mounted', {
        error: { phase: 'restore', message: 'criu restore failed (exit 1)', excerpt: `\x1b[31mError (criu/mount.c:1992): mnt: A few mount points can't be mounted\x1b[0m\n${'x'.repeat(150)}\n${'more\n'.repeat(20)}` },
      }),
      res('gets-fixed', 'pass'),
      res('reason-moves', 'fail', '/w/m0 lost its master', { differences: many }),
      res('same', 'pass'),
    ],
    [{ id: 'vm-debian-6.12', kernel: '6.12.107+deb13-amd64', criu: '4.1.1' }],
    'new-run',
  );
  const x = { baseline: { file: 'a/results.json', run: base }, new: { file: 'reports/new-run/results.json', note: 'reports is a reports directory: took the newest of 2 runs, new-run', run: next }, diff: diffRuns(base, next) };

  it('text: one line per change, a was: line where the old reason matters, a summary last', () => {
    const lines = renderText(x).trimEnd().split('\n');
    assert.match(lines[0]!, /^baseline: a\/results\.json \(run base-run; vm-debian-6\.12: kernel 6\.12\.107\+deb13-amd64, criu 3\.17\.1\)$/);
    assert.match(lines[1]!, /^new: {6}reports\/new-run\/results\.json \(run new-run; .*criu 4\.1\.1\)$/);
    assert.equal(lines[2], 'note: new: reports is a reports directory: took the newest of 2 runs, new-run');
    assert.deepEqual(lines.slice(4), [
      'REGRESSION breaks (vm-debian-6.12): pass → error: criu restore failed (exit 1): Error (criu/mount.c:1992): mnt: A few mount points | cannot be mounted',
      'FIXED gets-fixed (vm-debian-6.12): fail → pass (was: /a lost its master)',
      'CHANGED reason-moves (vm-debian-6.12): error → fail: /w/m0 lost its master',
      '    was: criu dump failed (exit 1)',
      '1 regression, 1 fixed, 1 still failing, changed, 1 unchanged',
    ]);
  });

  it('text: says so when nothing changed, and which cells were compared by scenario', () => {
    const old = run([res('s', 'pass', OK, { cell: 'vm-debian-6.1' })], [{ id: 'vm-debian-6.1' }]);
    const t = renderText({ baseline: { file: 'a', run: old }, new: { file: 'b', run: next }, diff: diffRuns(old, next) });
    assert.match(t, /^note: one cell each: compared vm-debian-6\.1 \(baseline\) with vm-debian-6\.12 \(new\), by scenario$/m);
    // Paired by scenario, the lines do not repeat the cell.
    assert.match(t, /^ONLY-IN-NEW breaks: error: /m);
    const same = renderText({ baseline: { file: 'a', run: base }, new: { file: 'a', run: base }, diff: diffRuns(base, base) });
    assert.match(same, /\n\nno verdict changed\n4 unchanged\n$/);
  });

  it('Markdown: header with both runs, a table of changes, a section per regression and changed failure', () => {
    const md = renderMarkdown(x);
    const lines = md.split('\n');
    assert.equal(lines[0], '## mountlab diff-runs: 1 regression, 1 fixed, 1 still failing, changed, 1 unchanged');
    assert.ok(lines.includes('| baseline | vm-debian-6.12 | 6.12.107+deb13-amd64 | 3.17.1 | 2.41.5 | - |'), md);
    assert.ok(lines.includes('| new | vm-debian-6.12 | 6.12.107+deb13-amd64 | 4.1.1 | 2.41.5 | - |'), md);
    assert.ok(lines.includes('- New: reports is a reports directory: took the newest of 2 runs, new-run'), md);
    // One cell compared with itself: no cell column.
    assert.ok(lines.includes('| change | scenario | baseline | new | why |'), md);
    assert.ok(lines.includes('| regression | breaks | pass | error | criu restore failed (exit 1): Error (criu/mount.c:1992):... |'), md);
    assert.ok(lines.includes('| fixed | gets-fixed | fail | pass | was: /a lost its master |'), md);
    const sections = lines.filter((l) => l.startsWith('### '));
    assert.deepEqual(sections, ['### regression: breaks (vm-debian-6.12), pass -> error', '### still failing, changed: reason-moves (vm-debian-6.12), error -> fail']);
    assert.ok(lines.includes('First 5 of 7 differences:'), md);
    assert.equal(lines.filter((l) => l.startsWith('- /w/m')).length, 5);
    assert.ok(lines.includes('Error in restore: criu restore failed (exit 1)'), md);
    assert.ok(lines.includes('[10 more lines]'), md);
    assert.doesNotMatch(md, /\x1b/, 'no ANSI');
    assert.doesNotMatch(md, /[^\x00-\x7f]/, 'plain ASCII');
    assert.ok(lines.includes(`Baseline: ${OK}`), md);
    assert.ok(lines.includes('New: criu restore failed (exit 1): Error (criu/mount.c:1992): mnt: A few mount points | cannot be'), md);
    assert.ok(lines.includes('  mounted'), md);
    for (const l of lines) assert.ok(l.length <= 100, `line of ${l.length}: ${l}`);
  });

  it('Markdown: a cell column in a matrix, and a short line when nothing changed', () => {
    const on = (cell: string, r: ResultLike) => ({ ...r, cell });
    const a = run([on('c1', res('s', 'pass')), on('c2', res('s', 'pass'))], [{ id: 'c1' }, { id: 'c2' }]);
    const b = run([on('c1', res('s', 'pass')), on('c2', res('s', 'fail', 'x | y'))], [{ id: 'c1' }, { id: 'c2' }]);
    const md = renderMarkdown({ baseline: { file: 'a', run: a }, new: { file: 'b', run: b }, diff: diffRuns(a, b) });
    assert.ok(md.includes('| regression | s | c2 | pass | fail | x \\| y |'), md);
    const none = renderMarkdown({ baseline: { file: 'a', run: a }, new: { file: 'a', run: a }, diff: diffRuns(a, a) });
    assert.match(none, /\nNo verdict changed \(2 unchanged\)\.\n/);
  });

  it('JSON: the categories with both sides of each change', () => {
    const j = JSON.parse(renderJson(x)) as { format: string; counts: Record<string, number>; changes: { category: string; baseline?: { outcome: string }; new?: { outcome: string; error?: unknown } }[]; exitCode: number; new: { note: string } };
    assert.equal(j.format, 'mountlab-run-diff/1');
    assert.equal(j.exitCode, 1);
    assert.equal(j.counts['regression'], 1);
    assert.equal(j.counts['unchanged'], 1);
    assert.deepEqual(j.changes.map((c) => [c.category, c.baseline?.outcome, c.new?.outcome]), [['regression', 'pass', 'error'], ['fix', 'fail', 'pass'], ['changed', 'error', 'fail']]);
    assert.deepEqual(j.changes[0]?.new?.error, { phase: 'restore', message: 'criu restore failed (exit 1)' });
    assert.match(j.new.note, /newest of 2 runs/);
  });

  it('wrap keeps words whole and indents the continuation', () => {
    assert.deepEqual(wrap('a '.repeat(60).trim(), '  ', '- ').map((l) => l.length), [99, 23]);
    assert.deepEqual(wrap('short', '  ', 'New: '), ['New: short']);
    assert.deepEqual(wrap('x'.repeat(120), '  ', '- '), ['- ' + 'x'.repeat(120)]);
  });
});
