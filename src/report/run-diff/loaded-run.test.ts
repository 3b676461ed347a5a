import { strict as assert } from 'node:assert';
import { checkResults } from '../../results/read-results.js';
import { parsedRun } from '../../results/results.testutil.js';
import { loadedRun } from './loaded-run.js';

describe('run-diff: the run a diff reads', () => {
  const good = parsedRun();

  it('keeps what a diff reads', () => {
    const r = loadedRun(checkResults(good));
    assert.equal(r.runId, '20261121-211844-ad7f');
    assert.deepEqual(r.results[0], {
      scenario: 's',
      cell: 'vm-debian-6.12',
      outcome: 'fail',
      reason: 'r',
      differences: [{ sentence: 'one' }],
      error: { phase: 'dump', message: 'm', excerpt: 'e' },
    });
    assert.deepEqual(r.cells[0]?.facts, (good.cells as { facts: unknown }[])[0]?.facts);
  });

  it("reads a killed run's partial file, taking its cells from its results", () => {
    const r = loadedRun(
      checkResults({
        format: 'mountlab-results/1',
        runId: 'x',
        startedAt: 't',
        complete: false,
        results: good.results,
      }),
    );
    assert.equal(r.complete, false);
    assert.deepEqual(r.cells, [{ id: 'vm-debian-6.12' }]);
  });
});
