import { countOutcomes, exitCodeForOutcomes } from './outcome.js';
import { RESULTS_FORMAT, type CellResult, type RunResult, type ScenarioResult } from './result.js';

/** A ScenarioResult for report tests: the fields a test names, plain defaults for the rest. */
export function scenarioResult(
  r: Partial<ScenarioResult> & Pick<ScenarioResult, 'scenario' | 'outcome'>,
): ScenarioResult {
  return {
    mountEngine: 'v2',
    file: `scenarios/${r.scenario}.yaml`,
    cell: 'vm-debian-6.12-criu-4.1.1',
    reason: '',
    expected: 'identical',
    phases: [],
    differences: [],
    filtered: [],
    leaks: [],
    artifacts: {},
    durationMs: 1000,
    ...r,
  };
}

/** A VM cell whose facts follow its id: "6.1-" in it means kernel 6.1, a trailing 3.17.1 that criu. */
export function vmCell(id: string): CellResult {
  return {
    id,
    facts: {
      target: 'vm',
      kernel: id.includes('6.1-') ? '6.1.0' : '6.12.0',
      criu: id.endsWith('3.17.1') ? '3.17.1' : '4.1.1',
      criuCheck: 'ok',
      utilLinux: '2.41',
      readyMs: 7000,
    },
  };
}

/** A complete RunResult around these results, with counts and exit code as the runner computes them. */
export function runResult(results: ScenarioResult[], cells: CellResult[] = []): RunResult {
  return {
    format: RESULTS_FORMAT,
    runId: 'r1',
    mountlabVersion: '0',
    startedAt: '2026-11-21T00:00:00Z',
    finishedAt: '2026-11-21T00:01:00Z',
    durationMs: 60_000,
    host: { kernel: 'h', node: 'v20' },
    cells,
    results,
    counts: countOutcomes(results.map((r) => r.outcome)),
    exitCode: exitCodeForOutcomes(results.map((r) => r.outcome)),
    complete: true,
  };
}

/** A finished run's results.json as JSON.parse gives it: one failing result, with an error, on one cell. */
export function parsedRun(): Record<string, unknown> & { results: Record<string, unknown>[] } {
  const failing = scenarioResult({
    scenario: 's',
    cell: 'vm-debian-6.12',
    outcome: 'fail',
    reason: 'r',
    differences: [{ kind: 'k', sentence: 'one' }],
    error: { phase: 'dump', message: 'm', excerpt: 'e' },
  });
  const run = { ...runResult([failing], [vmCell('vm-debian-6.12')]), runId: '20261121-211844-ad7f' };
  return JSON.parse(JSON.stringify(run)) as Record<string, unknown> & { results: Record<string, unknown>[] };
}
