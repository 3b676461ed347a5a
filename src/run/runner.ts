import { release } from 'node:os';
import { readFileSync } from 'node:fs';
import { MountlabError, TargetError } from '../errors.js';
import { assetPath } from '../paths.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { StartedTarget, Target } from '../target/target.js';
import type { Reporter } from '../report/reporter.js';
import { executeScenario } from './execute-scenario.js';
import { scenarioRuns } from './variants.js';
import { combineAttempts } from './repeat.js';
import { estimateMs, scheduleOrder, shardItems, type Shard, type WorkItem } from './schedule.js';
import { OUTCOMES, exitCodeForOutcomes, type Outcome } from './outcome.js';
import { RESULTS_FORMAT, type CellResult, type RunResult, type ScenarioResult } from './result.js';

/** A target configuration that runs the whole corpus, e.g. vm on trixie's kernel. */
export interface CellPlan {
  id: string;
  target: Target;
  /** Targets of this cell that may run at once (vagrant: one domain per cell); unlimited when absent. */
  maxInstances?: number;
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
  /** Targets running at once (-j); 1 when absent. */
  jobs?: number;
  /** A fresh target for every scenario (--fresh-vm) instead of one per cell, reset between scenarios. */
  freshTarget?: boolean;
  /** Attempts per scenario (--repeat); differing verdicts mark it flaky. */
  repeat?: number;
  /** Only this part of scenario × cell (--shard K/N). */
  shard?: Shard;
  /** Durations of earlier runs by scenario name, for longest-first scheduling. */
  history?: ReadonlyMap<string, number>;
}

const version = (JSON.parse(readFileSync(assetPath('package.json'), 'utf8')) as { version: string }).version;

interface CellState {
  plan: CellPlan;
  index: number;
  result: CellResult;
  /** Set when a target of this cell could not start: its remaining scenarios are errors with this reason. */
  failed?: { message: string; tail?: string };
  /** Targets of this cell started and not yet disposed. */
  running: number;
}

type Item = WorkItem<CellState> & { cellIndex: number };

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
  const history = opts.history ?? new Map<string, number>();
  const states: CellState[] = cells.map((plan, index) => ({
    plan,
    index,
    result: { id: plan.id, facts: { target: plan.target.kind, kernel: '?', criu: '?', criuCheck: 'failed', utilLinux: '?', readyMs: 0 } },
    running: 0,
  }));
  let order = 0;
  const all: Item[] = states.flatMap((cell) => runs.map((r) => ({ cell, cellId: cell.plan.id, cellIndex: cell.index, run: r, order: order++, estimateMs: estimateMs(r, history) })));
  const items = shardItems(all, opts.shard);
  // A cell this shard has nothing for is not started, and not listed.
  const used = states.filter((c) => items.some((i) => i.cell === c));
  run.cells.push(...used.map((c) => c.result));
  await opts.reporter.onRunStart?.({
    runId: opts.runId,
    runDir: opts.runDir,
    scenarios: runs.filter((r) => items.some((i) => i.run === r)).map((r) => ({ name: r.name, file: r.loaded.file })),
    cells: used.map((c) => c.plan.id),
    items: items.length,
  });
  const orderOf = new Map<ScenarioResult, number>();
  const record = async (item: Item, r: ScenarioResult) => {
    orderOf.set(r, item.order);
    run.results.push(r);
    run.counts[r.outcome]++;
    await opts.reporter.onScenarioEnd?.(r);
  };
  try {
    await runItems(scheduleOrder(items), opts, record);
  } finally {
    // Parallel targets finish in any order; reports list results in plan order.
    run.results.sort((a, b) => (orderOf.get(a) ?? 0) - (orderOf.get(b) ?? 0));
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

/**
 * Runs the queue on up to `jobs` targets at once. Each worker keeps its
 * target for as long as the next item is in the same cell and the target is
 * trusted (scenarios reset between them: fresh namespaces on a throw-away
 * overlay); it boots a fresh one for another cell, after a target stopped
 * answering or oopsed, and for every scenario with --fresh-vm.
 */
async function runItems(queue: Item[], opts: RunOptions, record: (item: Item, r: ScenarioResult) => Promise<void>): Promise<void> {
  // The next item: the worker's own cell first (its target is up), else the first one whose cell may start another target.
  const take = (cell?: CellState): Item | undefined => {
    let i = cell ? queue.findIndex((q) => q.cell === cell) : -1;
    if (i < 0) i = queue.findIndex((q) => q.cell.failed || q.cell.running < (q.cell.plan.maxInstances ?? Infinity));
    return i < 0 ? undefined : queue.splice(i, 1)[0];
  };
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, queue.length));
  let instances = 0;
  const worker = async (): Promise<void> => {
    let item = take();
    while (item) {
      if (opts.signal.aborted) throw opts.signal.reason;
      const cell = item.cell;
      if (cell.failed) {
        await record(item, bootErrorResult(item, cell.failed));
        item = take(cell);
        continue;
      }
      const instance = ++instances;
      opts.reporter.onCellStart?.(cell.plan.id, cell.plan.target.describe, instance);
      let target: StartedTarget;
      cell.running++;
      try {
        target = await cell.plan.target.start(opts.signal);
      } catch (e) {
        cell.running--;
        if (opts.signal.aborted) throw e;
        // A target that cannot start makes every remaining scenario of its cell an error, with the reason.
        const message = e instanceof MountlabError ? e.message : String(e);
        const tail = e instanceof TargetError && e.consoleTail ? e.consoleTail : undefined;
        cell.failed = { message, ...(tail ? { tail } : {}) };
        cell.result.error = message;
        continue;
      }
      {
        await using t = target;
        if (cell.result.facts.kernel === '?') cell.result.facts = t.facts;
        opts.reporter.onCellReady?.({ ...cell.result, facts: t.facts }, instance);
        do {
          if (opts.signal.aborted) throw opts.signal.reason;
          await record(item, await attempts(t, item, opts));
          item = take(cell);
        } while (item && item.cell === cell && t.healthy && !opts.freshTarget);
        if (item?.cell === cell && !t.healthy) {
          opts.reporter.onLog?.(`${cell.plan.id}: the guest is no longer trusted (${t.retiredBecause ?? 'it stopped answering'}); booting a fresh one`);
        }
      }
      cell.running--;
    }
  };
  // A lab error in one worker (not a verdict: those are results) ends the run: the others finish the scenario they are on, take nothing more, and dispose their targets.
  const stopOthers = (e: unknown) => {
    queue.length = 0;
    throw e;
  };
  const results = await Promise.allSettled(Array.from({ length: jobs }, () => worker().catch(stopOthers)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Runs an item once, or --repeat times on the same target, and folds the attempts into one result. */
async function attempts(t: StartedTarget, item: Item, opts: RunOptions): Promise<ScenarioResult> {
  const n = Math.max(1, opts.repeat ?? 1);
  const done: ScenarioResult[] = [];
  for (let k = 1; k <= n; k++) {
    if (k > 1 && (opts.signal.aborted || !t.healthy)) break;
    opts.reporter.onScenarioStart?.(item.run.name, item.cellId);
    done.push(
      await executeScenario(t, item.run, {
        cell: item.cellId,
        runDir: opts.runDir,
        reporter: opts.reporter,
        signal: opts.signal,
        guestId: `s${item.order + 1}${k > 1 ? `-${k}` : ''}`,
        probes: opts.probes,
        ...(k > 1 ? { attempt: k } : {}),
        ...(opts.stopAfter ? { stopAfter: opts.stopAfter } : {}),
      }),
    );
  }
  return combineAttempts(done);
}

function bootErrorResult(item: Item, failed: { message: string; tail?: string }): ScenarioResult {
  return {
    scenario: item.run.name,
    mountEngine: item.run.mountEngine,
    file: item.run.loaded.file,
    cell: item.cellId,
    outcome: 'error',
    reason: `boot: ${failed.message}`,
    expected: '',
    phases: [{ phase: 'boot', ms: 0, ok: false }],
    differences: [],
    filtered: [],
    leaks: [],
    error: { phase: 'boot', message: failed.message, ...(failed.tail ? { excerpt: failed.tail } : {}) },
    artifacts: {},
    durationMs: 0,
  };
}
