/**
 * Reducing one scenario in one cell, end to end: the first run that says
 * how it fails, the reduction in kept guests, and the reduced scenario's
 * text with its header. `mountlab reduce` and fuzz's findings both use it;
 * where the result goes, and what is said, is theirs.
 */
import { parseDocument } from 'yaml';
import type { LoadedScenario } from '../scenario/load.js';
import { type Failure, failureOf, formatFailure, sameFailure } from '../results/signature.js';
import type { CellPlan } from '../run/runner.js';
import { GuestPool } from '../run/guest-pool.js';
import { ScenarioShape } from './candidates.js';
import { type ReduceProgress, type ReduceResult, reduceScenario } from './reduce.js';

export interface ReduceFileOptions {
  loaded: LoadedScenario;
  cell: CellPlan;
  /** Names the cell in the header. */
  cellId: string;
  jobs: number;
  /** Where the tries' artifacts go; the caller removes it. */
  runDir: string;
  budgetMs: number;
  seed: number;
  /** The failure to keep; what the first run gives when absent. */
  want?: Failure;
  signal: AbortSignal;
  log: (m: string) => void;
  onProgress?: (p: ReduceProgress) => void;
  /** Said once the first run has given the signature, before the reduction starts. */
  onSignature?: (want: Failure) => void;
}

export type ReduceFileResult =
  /** The scenario does not fail in the cell. */
  | { kind: 'passes'; first: Failure }
  /** It fails, but not as `want` says. */
  | { kind: 'fails-otherwise'; first: Failure }
  | { kind: 'reduced'; want: Failure; result: ReduceResult; text: string };

export async function reduceFile(o: ReduceFileOptions): Promise<ReduceFileResult> {
  const { loaded } = o;
  await using pool = new GuestPool({
    cell: o.cell,
    jobs: o.jobs,
    runDir: o.runDir,
    signal: o.signal,
    probes: true,
    reporter: { onLog: o.log },
  });
  o.log(`reduce: running ${loaded.scenario.name} as it is in ${o.cellId}`);
  const first = failureOf(await pool.run(loaded, loaded.scenario.name));
  if (first.signature.kind === 'pass') return { kind: 'passes', first };
  if (o.want && !sameFailure(o.want, first)) return { kind: 'fails-otherwise', first };
  const want = o.want ?? first;
  o.onSignature?.(want);
  const result = await reduceScenario({
    shape: ScenarioShape.load(loaded),
    want,
    oracle: { parallel: o.jobs, run: (c, n) => pool.run(c, `${loaded.scenario.name}~try${n}`) },
    seed: o.seed,
    budgetMs: o.budgetMs,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  return { kind: 'reduced', want, result, text: minScenarioText(loaded, result, want, o.cellId, o.seed) };
}

export const clock = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

const phaseText = (p: { phase: string; tries: number; steps: number; mounts: number }) =>
  `${p.phase} ${p.tries} tries -> ${p.steps} steps, ${p.mounts} mounts`;

/** The reduced scenario, named NAME-min, with a header giving the original, the signature, the tries and the time. */
function minScenarioText(
  loaded: LoadedScenario,
  result: ReduceResult,
  want: Failure,
  cellId: string,
  seed: number,
): string {
  const day = new Date().toISOString().slice(0, 10);
  const { before, after } = result;
  const header = [
    ` Reduced by mountlab reduce from ${loaded.file}`,
    ` (cell ${cellId}, seed ${seed}, ${day}): ${before.steps} steps and ${before.mounts} mounts down to`,
    ` ${after.steps} and ${after.mounts}, ${result.tries} tries in ${clock(result.ms)}` +
      ` (${result.refused} candidates refused on the host, not run)` +
      (result.complete ? '.' : '; the budget ran out: a smaller one may exist.'),
    ' Signature:',
    `   ${formatFailure(want)}`,
    ' Per phase:',
    ...result.phases.map((p) => `   ${phaseText(p)}`),
  ].join('\n');
  const doc = parseDocument(result.text);
  doc.set('name', `${loaded.scenario.name}-min`);
  doc.commentBefore = `${header}${doc.commentBefore ? `\n${doc.commentBefore}` : ''}`;
  return doc.toString({ lineWidth: 100 });
}
