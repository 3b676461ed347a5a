/**
 * Feeds a progress reporter the events of a small run, on this process's
 * stderr, so a test can run it under a pseudo-terminal (script(1)) or a pipe
 * and look at exactly what a user would see. Timings are real but short.
 */
import { progressReporter, type Verbosity } from '../../src/report/progress.js';
import { runResult, scenarioResult, vmCell } from '../../src/results/results.testutil.js';
import type { Phase } from '../../src/results/result.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const verbosity = (process.argv[2] ?? 'normal') as Verbosity;
const cell = vmCell('vm-debian-6.12-criu-4.1.1');
const p = progressReporter(verbosity);

const scenarios = [
  { name: 'slave-chain-3', file: 'a.yaml' },
  { name: 'a-scenario-with-a-rather-long-name-that-does-not-fit-in-sixty-columns', file: 'b.yaml' },
];
await p.onRunStart?.({ runId: 'r-pty', runDir: '/tmp/reports/r-pty', scenarios, cells: [cell] });
p.onCellStart?.(cell.id, 'qemu TCG, kernel 6.12');
await sleep(600);
p.onLog?.(`${cell.id}: console says hello`);
p.onCellReady?.({ ...cell, facts: { ...cell.facts, accel: 'tcg' } });
const results = [
  scenarioResult({ scenario: 'slave-chain-3', outcome: 'pass', reason: 'identical', durationMs: 1500 }),
  scenarioResult({
    scenario: 'a-scenario-with-a-rather-long-name-that-does-not-fit-in-sixty-columns',
    outcome: 'fail',
    reason: 'extra mount /a [stacked 3]: a tmpfs cover appeared on /a\nsecond line',
    durationMs: 1200,
  }),
];
for (const r of results) {
  p.onScenarioStart?.(r.scenario, cell.id);
  for (const ph of ['setup', 'dump', 'restore', 'compare'] as Phase[]) {
    p.onPhase?.(r.scenario, cell.id, ph);
    await sleep(300);
  }
  await p.onScenarioEnd?.(r);
}
await p.onRunEnd?.({ ...runResult(results, [cell]), durationMs: 3000 });
