import { strict as assert } from 'node:assert';
import { OUTCOMES, type Outcome } from '../run/outcome.js';
import type { RunResult, ScenarioResult } from '../run/result.js';
import { renderMarkdown } from './markdown.js';

const result = (scenario: string, cell: string, outcome: Outcome, probes?: ScenarioResult['probes']): ScenarioResult => ({
  scenario,
  mountEngine: 'v2',
  file: `scenarios/${scenario}.yaml`,
  cell,
  outcome,
  reason: outcome === 'pass' ? 'restored topology is identical up to renumbering' : 'criu restore failed | badly',
  expected: 'identical',
  phases: [],
  differences: [],
  filtered: [],
  leaks: [],
  artifacts: {},
  durationMs: 4200,
  ...(probes ? { probes } : {}),
});

function run(results: ScenarioResult[], cells: string[]): RunResult {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, results.filter((r) => r.outcome === o).length])) as Record<Outcome, number>;
  return {
    format: 'mountlab-results/1',
    runId: 'r1',
    mountlabVersion: '0',
    startedAt: '2026-11-21T00:00:00Z',
    finishedAt: '2026-11-21T00:01:00Z',
    durationMs: 60_000,
    host: { kernel: 'h', node: 'v20' },
    cells: cells.map((id) => ({ id, facts: { target: 'vm', kernel: id.includes('6.1-') ? '6.1.0' : '6.12.0', criu: id.endsWith('3.17.1') ? '3.17.1' : '4.1.1', criuCheck: 'ok', utilLinux: '2.41', readyMs: 7000 } })),
    results,
    counts,
    exitCode: 0,
    complete: true,
  };
}

describe('Markdown report', () => {
  it('puts a scenario x cell table first in a matrix run, scenarios whose verdicts differ at the top', () => {
    const cells = ['vm-debian-6.1-criu-3.17.1', 'vm-debian-6.12-criu-4.1.1'];
    const md = renderMarkdown(
      run([result('a-same', cells[0]!, 'pass'), result('a-same', cells[1]!, 'pass'), result('z-differs', cells[0]!, 'error'), result('z-differs', cells[1]!, 'pass')], cells),
    );
    const table = md.slice(md.indexOf('## Scenario x cell'));
    assert.match(table, /1 of 2 scenarios have different verdicts across cells/);
    const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| scenario'));
    assert.deepEqual(rows.slice(0, 2), ['| **z-differs** | error | pass |', '| a-same | pass | pass |']);
  });

  it('has no matrix table for one cell, shows probe counts, and escapes pipes in reasons', () => {
    const md = renderMarkdown(run([result('s', 'vm', 'pass', { propagation: 3, copies: 4, fdWrites: 1, fdChecks: 2, notes: [] }), result('t', 'vm', 'error')], ['vm']));
    assert.ok(!md.includes('Scenario x cell'));
    assert.match(md, /\| s \| vm \| pass \| 4\.2 s \| 3 mounts \(4 copies\), 1 fd \| restored topology/);
    assert.match(md, /\| t \| vm \| error \| 4\.2 s \| - \| criu restore failed \\\| badly \|/);
  });
});
