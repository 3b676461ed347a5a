/**
 * The results contract: what a run records and what every reader of a run
 * (the reporters, merge, diff-runs, the scheduler's history) reads. The
 * types are generated from results.schema.json (scripts/gen-types.mjs); this
 * module adds what a schema cannot say in TypeScript.
 */
import type { ResultsFile } from './results.generated.js';

export type {
  AttemptSummary,
  CellResult,
  CriuOrigin,
  DifferenceRecord,
  FilteredSuperOption,
  MountEngine,
  Phase,
  PhaseTiming,
  ProbeSummary,
  ResultsFile,
  ScenarioResult,
  TargetFacts,
  TargetKind,
} from './results.generated.js';

/** Bumped on any incompatible change; readers of old files check it. */
export const RESULTS_FORMAT = 'mountlab-results/1' satisfies ResultsFile['format'];

/**
 * Fields a finished run has and a killed run's partial file lacks: the
 * schema's if/then requires them once `complete` is true (a test keeps
 * this list equal to the schema's).
 */
export const FINISHED_RUN_FIELDS = [
  'mountlabVersion',
  'finishedAt',
  'durationMs',
  'host',
  'cells',
  'counts',
  'exitCode',
] as const;

/** A run with every field: what the runner builds and a finished (or interrupted) run's results.json holds. */
export type RunResult = ResultsFile & Required<Pick<ResultsFile, (typeof FINISHED_RUN_FIELDS)[number]>>;

/** Whether a results file has every field of a run: false for the partial file of a run killed mid-way. */
export function isFinishedRun(doc: ResultsFile): doc is RunResult {
  return FINISHED_RUN_FIELDS.every((k) => doc[k] !== undefined);
}
