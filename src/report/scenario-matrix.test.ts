import { strict as assert } from 'node:assert';
import { runResult, scenarioResult, vmCell } from '../results/results.testutil.js';
import { scenarioMatrix } from './scenario-matrix.js';

describe('scenario x cell matrix', () => {
  it('has a verdict per cell, a gap where a scenario did not run, rows that differ first, then by name', () => {
    const r = (scenario: string, cell: string, outcome: 'pass' | 'fail') => scenarioResult({ scenario, cell, outcome });
    const results = [
      r('b', 'c1', 'pass'),
      r('b', 'c2', 'pass'),
      r('z', 'c1', 'fail'),
      r('z', 'c2', 'pass'),
      r('a', 'c2', 'pass'),
    ];
    const run = runResult(results, [vmCell('c1'), vmCell('c2')]);
    assert.deepEqual(scenarioMatrix(run), {
      cells: ['c1', 'c2'],
      rows: [
        { scenario: 'z', verdicts: ['fail', 'pass'], differs: true },
        { scenario: 'a', verdicts: [undefined, 'pass'], differs: false },
        { scenario: 'b', verdicts: ['pass', 'pass'], differs: false },
      ],
    });
  });
});
