import { countOutcomes, exitCodeForOutcomes } from '../results/outcome.js';
import { RESULTS_FORMAT, type CellResult, type RunResult, type ScenarioResult } from '../results/result.js';
import type { Reporter } from './reporter.js';

/** A run read from disk, with where it came from, for messages. */
export interface RunInput {
  file: string;
  run: RunResult;
}

/** Two inputs that cannot be merged; `file` names the later one. */
export class MergeConflict extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One run from the runs of several shards (or any runs covering disjoint
 * scenario × cell items). A pair run twice is a conflict, not a choice:
 * shards that overlap mean the split was not the same on every machine,
 * and silently keeping one verdict would hide it. Results keep each input's
 * order, inputs in the order given; counts and the exit code are computed
 * again from the merged results, exactly as the runner computes them.
 */
export function mergeRuns(inputs: RunInput[], runId: string): RunResult {
  if (inputs.length === 0) throw new MergeConflict('', 'nothing to merge');
  const cells = new Map<string, CellResult>();
  const seen = new Map<string, string>();
  const results: ScenarioResult[] = [];
  for (const { file, run } of inputs) {
    for (const c of run.cells) {
      const prev = cells.get(c.id);
      if (!prev) cells.set(c.id, c);
      else if (
        prev.facts.kernel !== '?' &&
        c.facts.kernel !== '?' &&
        (prev.facts.kernel !== c.facts.kernel || prev.facts.criu !== c.facts.criu)
      ) {
        throw new MergeConflict(
          file,
          `cell ${c.id} ran kernel ${c.facts.kernel} with criu ${c.facts.criu} here, ` +
            `but kernel ${prev.facts.kernel} with criu ${prev.facts.criu} in an earlier input: not the same cell`,
        );
      } else if (prev.facts.kernel === '?')
        cells.set(c.id, { ...c, ...(prev.error && !c.error ? { error: prev.error } : {}) });
      else if (c.error && !prev.error) cells.set(c.id, { ...prev, error: c.error });
    }
    for (const r of run.results) {
      const key = `${r.cell}\u0000${r.scenario}`;
      const other = seen.get(key);
      if (other !== undefined)
        throw new MergeConflict(
          file,
          `${r.scenario} on ${r.cell} is also in ${other}: ` +
            'the inputs overlap (were the shards split from the same scenarios and cells?)',
        );
      seen.set(key, file);
      results.push(r);
    }
  }
  const started = Math.min(...inputs.map((i) => Date.parse(i.run.startedAt)));
  const finished = Math.max(...inputs.map((i) => Date.parse(i.run.finishedAt)));
  const cellList = [...cells.values()];
  return {
    format: RESULTS_FORMAT,
    runId,
    mountlabVersion: inputs[0]!.run.mountlabVersion,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: Math.max(0, finished - started),
    host: inputs[0]!.run.host,
    cells: cellList,
    results,
    counts: countOutcomes(results.map((r) => r.outcome)),
    exitCode: cellList.some((c) => c.error !== undefined) ? 2 : exitCodeForOutcomes(results.map((r) => r.outcome)),
    complete: inputs.every((i) => i.run.complete),
    mergedFrom: inputs.map((i) => i.run.runId),
  };
}

/**
 * Feeds a finished run to reporters as if it were happening, so a merged
 * run gets every output a live run gets, written by the same code.
 */
export async function replayRun(run: RunResult, runDir: string, reporter: Reporter): Promise<void> {
  const scenarios = [...new Map(run.results.map((r) => [r.scenario, { name: r.scenario, file: r.file }])).values()];
  await reporter.onRunStart?.({ runId: run.runId, runDir, scenarios, cells: run.cells, items: run.results.length });
  for (const c of run.cells) reporter.onCellReady?.(c);
  for (const r of run.results) await reporter.onScenarioEnd?.(r);
  await reporter.onRunEnd?.(run);
}
