import { release } from 'node:os';
import { readFileSync } from 'node:fs';
import { MountlabError, PreflightError, TargetError } from '../errors.js';
import { assetPath } from '../paths.js';
import type { Flavor } from '../plan/plan.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { GuestClient } from '../target/guest-client.js';
import type { StartedTarget, Target } from '../target/target.js';
import type { Reporter } from '../report/reporter.js';
import { executeScenario } from './execute-scenario.js';
import { Guest } from './guest.js';
import { scenarioRuns } from './variants.js';
import { combineAttempts } from './repeat.js';
import { estimateMs, scheduleOrder, shardItems, type Shard, type WorkItem } from './schedule.js';
import { countOutcomes, exitCodeForOutcomes } from '../results/outcome.js';
import { RESULTS_FORMAT, type CellResult, type Phase, type RunResult, type ScenarioResult } from '../results/result.js';
import { SCENARIO_FILES } from '../results/artifacts.js';

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
  /** zdtm's flavours (--flavor): each scenario runs once per flavour; ns alone when absent. */
  flavors?: readonly Flavor[];
  /** Only this part of scenario × cell (--shard K/N). */
  shard?: Shard;
  /** Durations of earlier runs by scenario name, for longest-first scheduling. */
  history?: ReadonlyMap<string, number>;
  /** How scenarios talk to a started guest; labctl when absent (tests fake it). */
  guestClient?: (t: StartedTarget) => GuestClient;
}

const version = (JSON.parse(readFileSync(assetPath('package.json'), 'utf8')) as { version: string }).version;

interface CellState {
  plan: CellPlan;
  index: number;
  result: CellResult;
  /**
   * Set when a target of this cell could not start, or when the cell hung
   * twice in a row: its remaining scenarios are errors with this reason.
   */
  failed?: CellStop;
  /** The cell's latest results that hung, back to the last one that did not: two in a row stop the cell. */
  hangs: ScenarioResult[];
  /** Targets of this cell started and not yet disposed. */
  running: number;
}

type Item = WorkItem<CellState> & { cellIndex: number };

export async function runCorpus(scenarios: LoadedScenario[], cells: CellPlan[], opts: RunOptions): Promise<RunResult> {
  const runs = scenarioRuns(scenarios, opts.flavors);
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
    counts: countOutcomes([]),
    exitCode: 0,
    complete: false,
  };
  const history = opts.history ?? new Map<string, number>();
  const states: CellState[] = cells.map((plan, index) => ({
    plan,
    index,
    result: {
      id: plan.id,
      facts: { target: plan.target.kind, kernel: '?', criu: '?', criuCheck: 'failed', utilLinux: '?', readyMs: 0 },
    },
    running: 0,
    hangs: [],
  }));
  let order = 0;
  const all: Item[] = states.flatMap((cell) =>
    runs.map((r) => ({
      cell,
      cellId: cell.plan.id,
      cellIndex: cell.index,
      run: r,
      order: order++,
      estimateMs: estimateMs(r, history),
    })),
  );
  const items = shardItems(all, opts.shard);
  // A cell this shard has nothing for is not started, and not listed.
  const used = states.filter((c) => items.some((i) => i.cell === c));
  run.cells.push(...used.map((c) => c.result));
  await opts.reporter.onRunStart?.({
    runId: opts.runId,
    runDir: opts.runDir,
    scenarios: runs.filter((r) => items.some((i) => i.run === r)).map((r) => ({ name: r.name, file: r.loaded.file })),
    cells: used.map((c) => c.result),
    items: items.length,
  });
  const orderOf = new Map<ScenarioResult, number>();
  const record = async (item: Item, r: ScenarioResult) => {
    noteHang(item.cell, r, opts.reporter);
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
async function runItems(
  queue: Item[],
  opts: RunOptions,
  record: (item: Item, r: ScenarioResult) => Promise<void>,
): Promise<void> {
  // The next item: the worker's own cell first (its target is up), else the
  // first one whose cell may start another target.
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
        await record(item, stoppedCellResult(item, cell.failed));
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
        // Whatever the start said after Ctrl-C (a preflight that failed meanwhile, say), the run was interrupted.
        if (opts.signal.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : e;
        // A target that cannot start makes every remaining scenario of its cell an error, with the reason.
        const message = e instanceof MountlabError ? e.message : String(e);
        const tail = e instanceof TargetError && e.consoleTail ? e.consoleTail : undefined;
        const phase: Phase = e instanceof PreflightError ? 'preflight' : 'boot';
        cell.failed ??= { phase, message, reason: `${phase}: ${message}`, ...(tail ? { tail } : {}) };
        cell.result.error ??= message;
        opts.reporter.onLog?.(
          `${cell.plan.id}: refused, its scenarios are errors: ${message}${tail ? `\n${indent(tail)}` : ''}`,
        );
        continue;
      }
      {
        await using t = target;
        const guest = new Guest(t, opts.guestClient?.(t));
        if (cell.result.facts.kernel === '?') cell.result.facts = t.facts;
        opts.reporter.onCellReady?.({ ...cell.result, facts: t.facts }, instance);
        do {
          if (opts.signal.aborted) throw opts.signal.reason;
          await record(item, await attempts(guest, item, opts));
          item = take(cell);
        } while (item && item.cell === cell && guest.usable && !opts.freshTarget && !cell.failed);
        if (item?.cell === cell && !guest.usable) {
          const why = guest.retiredBecause ?? 'it stopped answering';
          opts.reporter.onLog?.(`${cell.plan.id}: the guest is no longer trusted (${why}); booting a fresh one`);
        }
      }
      cell.running--;
    }
  };
  // A lab error in one worker (not a verdict: those are results) ends the run: the others
  // finish the scenario they are on, take nothing more, and dispose their targets.
  const stopOthers = (e: unknown) => {
    queue.length = 0;
    throw e;
  };
  const results = await Promise.allSettled(Array.from({ length: jobs }, () => worker().catch(stopOthers)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Runs an item once, or --repeat times on the same target, and folds the attempts into one result. */
async function attempts(guest: Guest, item: Item, opts: RunOptions): Promise<ScenarioResult> {
  const n = Math.max(1, opts.repeat ?? 1);
  const done: ScenarioResult[] = [];
  for (let k = 1; k <= n; k++) {
    if (k > 1 && (opts.signal.aborted || !guest.usable)) break;
    opts.reporter.onScenarioStart?.(item.run.name, item.cellId);
    done.push(
      await executeScenario(guest, item.run, {
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

/** Why a cell runs no more scenarios, and what its remaining ones say. */
interface CellStop {
  phase: Phase;
  message: string;
  /** The remaining scenarios' reason. */
  reason: string;
  tail?: string;
}

/**
 * A dump or restore that hangs until its limit kills it costs that limit
 * (120 s by default); when the next scenario of the same cell hangs too,
 * the cause is the cell (its kernel, its CPU, its criu), not the scenario,
 * and waiting it out for every remaining one would cost hours. Two in a
 * row stop the cell: the rest are errors that point at the first.
 */
function noteHang(cell: CellState, r: ScenarioResult, reporter: Reporter): void {
  if (cell.failed) return;
  if (!r.error?.hung || r.outcome !== 'error') {
    cell.hangs = [];
    return;
  }
  cell.hangs.push(r);
  if (cell.hangs.length < 2) return;
  const [first, second] = cell.hangs as [ScenarioResult, ScenarioResult];
  const what = (x: ScenarioResult) => `${x.error?.phase ?? 'a phase'} of ${x.scenario}`;
  const { dumpLog, restoreLog } = SCENARIO_FILES;
  const logs = first.artifacts[dumpLog] ?? first.artifacts[restoreLog] ?? `${first.cell}/${first.scenario}/`;
  const message =
    `${what(first)} and then ${what(second)} hung until killed: the cause is this cell, not a scenario, ` +
    `so it runs no more; the logs of the first are in ${logs}`;
  cell.failed = { phase: first.error?.phase ?? 'dump', message, reason: `not run: ${message}` };
  cell.result.error = message;
  reporter.onLog?.(`${cell.plan.id}: ${message}`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function stoppedCellResult(item: Item, stop: CellStop): ScenarioResult {
  return {
    scenario: item.run.name,
    mountEngine: item.run.mountEngine,
    file: item.run.loaded.file,
    cell: item.cellId,
    outcome: 'error',
    reason: stop.reason,
    expected: '',
    phases: stop.phase === 'boot' || stop.phase === 'preflight' ? [{ phase: stop.phase, ms: 0, ok: false }] : [],
    differences: [],
    filtered: [],
    leaks: [],
    error: { phase: stop.phase, message: stop.message, ...(stop.tail ? { excerpt: stop.tail } : {}) },
    artifacts: {},
    durationMs: 0,
  };
}
