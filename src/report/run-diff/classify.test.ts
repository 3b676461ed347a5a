import { strict as assert } from 'node:assert';
import type { Outcome } from '../../results/outcome.js';
import { OUTCOMES } from '../../results/outcome.js';
import { CATEGORIES, classify, diffRuns, type Category } from './classify.js';
import type { ResultLike } from './loaded-run.js';
import { res, run } from './runs.testutil.js';

describe('run-diff: classify', () => {
  // The rule at the top of classify.ts, every transition spelled out.
  const R = 'regression',
    F = 'fix',
    X = 'no-longer-reproduces',
    NE = 'new-error',
    CH = 'changed',
    NS = 'newly-skipped',
    US = 'no-longer-skipped',
    U = 'unchanged';
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
    const a = res(
      's',
      'error',
      "criu dump failed (exit 1): Error (criu/namespaces.c:460): Can't dump nested ipc namespace for 292",
    );
    assert.equal(classify(a, res('s', 'error', a.reason.replace('292', '301').replace(':460', ':471'))), 'unchanged');
    assert.equal(
      classify(res('s', 'error', 'dev 0x700000 id 39'), res('s', 'error', 'dev 0x700001 id 40')),
      'unchanged',
    );
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
    assert.deepEqual(
      CATEGORIES.map((c) => d.counts[c]),
      [2, 1, 1, 1, 1, 1, 1, 1, 1],
    );
    assert.equal(d.exitCode, 1);
    assert.deepEqual(d.pairing, {
      by: 'cell',
      compared: [['vm-debian-6.12', 'vm-debian-6.12']],
      onlyBaseline: [],
      onlyNew: [],
    });
  });

  it('exits 0 when nothing regressed, whatever else changed', () => {
    const noRegression = run(
      next.results.map((r) => (r.scenario === 'breaks' || r.scenario === 'errors-now' ? res(r.scenario, 'pass') : r)),
    );
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
    assert.deepEqual(
      d.changes.map((c) => [c.category, c.scenario, c.baselineCell, c.newCell]),
      [['regression', 'b', 'vm-debian-6.1', 'vm-debian-6.12']],
    );
    assert.equal(d.unchanged, 1);
  });

  it('pairs by (scenario, cell) in a matrix and names the cells only one run has', () => {
    const cells = (ids: string[]) => ids.map((id) => ({ id }));
    const on = (cell: string, r: ResultLike) => ({ ...r, cell });
    const a = run(
      [on('c1', res('s', 'pass')), on('c2', res('s', 'pass')), on('c3', res('s', 'pass')), on('c3', res('t', 'pass'))],
      cells(['c1', 'c2', 'c3']),
    );
    const b = run(
      [on('c1', res('s', 'pass')), on('c2', res('s', 'error', 'oops')), on('c4', res('s', 'fail', 'x'))],
      cells(['c1', 'c2', 'c4']),
    );
    const d = diffRuns(a, b);
    assert.equal(d.pairing.by, 'cell');
    assert.deepEqual(d.pairing.compared, [
      ['c1', 'c1'],
      ['c2', 'c2'],
    ]);
    assert.deepEqual(d.pairing.onlyBaseline, [{ id: 'c3', results: 2 }]);
    assert.deepEqual(d.pairing.onlyNew, [{ id: 'c4', results: 1 }]);
    assert.deepEqual(
      d.changes.map((c) => [c.category, c.scenario, c.newCell]),
      [['regression', 's', 'c2']],
    );
    assert.equal(d.unchanged, 1);
  });

  it('pairs by (scenario, cell) when one run has one cell and the other several', () => {
    const a = run([res('s', 'pass')]);
    const b = run(
      [res('s', 'pass'), { ...res('s', 'pass'), cell: 'vm-debian-6.1' }],
      [{ id: 'vm-debian-6.12' }, { id: 'vm-debian-6.1' }],
    );
    const d = diffRuns(a, b);
    assert.equal(d.pairing.by, 'cell');
    assert.deepEqual(d.pairing.onlyNew, [{ id: 'vm-debian-6.1', results: 1 }]);
    assert.equal(d.changes.length, 0);
  });
});
