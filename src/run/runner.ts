import { release } from 'node:os';
import { readFileSync } from 'node:fs';
import { MountlabError, TargetError } from '../errors.js';
import { assetPath } from '../paths.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { StartedTarget, Target } from '../target/target.js';
import type { Reporter } from '../report/reporter.js';
import { executeScenario } from './execute-scenario.js';
import { scenarioRuns, type ScenarioRun } from './variants.js';
import { OUTCOMES, exitCodeForOutcomes, type Outcome } from './outcome.js';
import { RESULTS_FORMAT, type CellResult, type RunResult, type ScenarioResult } from './result.js';

/** A target configuration that runs the whole corpus, e.g. vm on trixie's kernel. */
export interface CellPlan {
  id: string;
  target: Target;
}

export interface RunOptions {
  runId: string;
  runDir: string;
  reporter: Reporter;
  signal: AbortSignal;
  /** Live probes after a clean comparison. */
  probes: boolean;
  /** Stop each scenario after this phase (see ScenarioContext.stopAfter). */
  stopAfter?: 'capture-before';
}

const version = (JSON.parse(readFileSync(assetPath('package.json'), 'utf8')) as { version: string }).version;

export async function runCorpus(scenarios: LoadedScenario[], cells: CellPlan[], opts: RunOptions): Promise<RunResult> {
  const runs = scenarioRuns(scenarios);
  const startedAt = new Date();
  const run: RunResult = {
    format: RESULTS_FORMAT,
    runId: opts.runId,
    mountlabVersion: version,
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    durationMs: 0,
    host: { kernel: release(), node: process.version },
    cells: [],
    results: [],
    counts: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
    exitCode: 0,
    complete: false,
  };
  await opts.reporter.onRunStart?.({
    runId: opts.runId,
    runDir: opts.runDir,
    scenarios: runs.map((r) => ({ name: r.name, file: r.loaded.file })),
    cells: cells.map((c) => c.id),
  });
  const record = async (r: ScenarioResult) => {
    run.results.push(r);
    run.counts[r.outcome]++;
    await opts.reporter.onScenarioEnd?.(r);
  };
  try {
    for (const cell of cells) await runCell(cell, runs, run, opts, record);
  } finally {
    const end = new Date();
    run.finishedAt = end.toISOString();
    run.durationMs = end.getTime() - startedAt.getTime();
    run.exitCode = cellErrors(run) ? 2 : exitCodeForOutcomes(run.results.map((r) => r.outcome));
    run.complete = !opts.signal.aborted;
    await opts.reporter.onRunEnd?.(run);
  }
  return run;
}

function cellErrors(run: RunResult): boolean {
  return run.cells.some((c) => c.error !== undefined);
}

async function runCell(
  cell: CellPlan,
  scenarios: ScenarioRun[],
  run: RunResult,
  opts: RunOptions,
  record: (r: ScenarioResult) => Promise<void>,
): Promise<void> {
  opts.reporter.onCellStart?.(cell.id, cell.target.describe);
  const cellResult: CellResult = { id: cell.id, facts: { target: cell.target.kind, kernel: '?', criu: '?', criuCheck: 'failed', utilLinux: '?', readyMs: 0 } };
  run.cells.push(cellResult);
  let i = 0;
  let boots = 0;
  while (i < scenarios.length) {
    if (opts.signal.aborted) throw opts.signal.reason;
    if (boots++ > 0) opts.reporter.onLog?.(`${cell.id}: the previous guest is no longer trusted (it stopped answering or its kernel oopsed); booting a fresh one`);
    let target: StartedTarget;
    try {
      target = await cell.target.start(opts.signal);
    } catch (e) {
      if (opts.signal.aborted) throw e;
      // A target that cannot start makes every remaining scenario an error, with the reason.
      const msg = e instanceof MountlabError ? e.message : String(e);
      const tail = e instanceof TargetError && e.consoleTail ? e.consoleTail : undefined;
      cellResult.error = msg;
      for (; i < scenarios.length; i++) {
        const s = scenarios[i]!;
        await record({
          scenario: s.name,
          mountEngine: s.mountEngine,
          file: s.loaded.file,
          cell: cell.id,
          outcome: 'error',
          reason: `boot: ${msg}`,
          expected: '',
          phases: [{ phase: 'boot', ms: 0, ok: false }],
          differences: [],
          filtered: [],
          leaks: [],
          error: { phase: 'boot', message: msg, ...(tail ? { excerpt: tail } : {}) },
          artifacts: {},
          durationMs: 0,
        });
      }
      return;
    }
    {
      await using t = target;
      cellResult.facts = t.facts;
      opts.reporter.onCellReady?.(cellResult);
      // Keep using this target until it stops answering; then boot a fresh one.
      while (i < scenarios.length && t.healthy) {
        if (opts.signal.aborted) throw opts.signal.reason;
        const s = scenarios[i]!;
        opts.reporter.onScenarioStart?.(s.name, cell.id);
        const r = await executeScenario(t, s, {
          cell: cell.id,
          runDir: opts.runDir,
          reporter: opts.reporter,
          signal: opts.signal,
          guestId: `s${i + 1}`,
          probes: opts.probes,
          ...(opts.stopAfter ? { stopAfter: opts.stopAfter } : {}),
        });
        await record(r);
        i++;
      }
    }
  }
}
