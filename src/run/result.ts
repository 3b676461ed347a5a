import type { MountEngine } from '../plan/plan.js';
import type { Outcome } from './outcome.js';
import type { TargetFacts } from '../target/target.js';
import type { FilteredSuperOption } from '../compare/difference.js';

/** Bumped on any incompatible change; readers of old files check it. */
export const RESULTS_FORMAT = 'mountlab-results/1';

export type Phase =
  | 'boot'
  /** A check that the target's kernel can run CRIU at all (targets on the host kernel). */
  | 'preflight'
  | 'setup'
  | 'capture-before'
  | 'dump'
  | 'restore'
  | 'capture-after'
  | 'compare'
  | 'probe'
  | 'restore-again'
  | 'capture-again'
  | 'cleanup';

export interface PhaseTiming {
  phase: Phase;
  ms: number;
  ok: boolean;
}

export interface DifferenceRecord {
  kind: string;
  mount?: string;
  task?: string;
  sentence: string;
}

/** What the live probes checked (absent when probes were off or never reached). */
export interface ProbeSummary {
  /** Propagation probes judged: one marker mount each. */
  propagation: number;
  /** Predicted or observed copies of the markers that were checked, summed. */
  copies: number;
  /** Restored fds written through, and candidate paths checked for the write. */
  fdWrites: number;
  fdChecks: number;
  /** Mounts and fds that could not be probed, and why. */
  notes: string[];
}

export interface ScenarioResult {
  /** The scenario's name; SCENARIO[v2] or SCENARIO[compat] when it runs under both mount engines. */
  scenario: string;
  /** The CRIU mount engine that restored it. */
  mountEngine: MountEngine;
  /** The scenario file, relative to where mountlab ran. */
  file: string;
  cell: string;
  outcome: Outcome;
  /** One line saying why: the first difference, the error headline, or "restored topology identical". */
  reason: string;
  /** The expectation as written ("identical", "dump-fails /pattern/"). */
  expected: string;
  phases: PhaseTiming[];
  differences: DifferenceRecord[];
  probes?: ProbeSummary;
  /** Super options the comparator ignored by its documented list: nothing is filtered silently. */
  filtered: FilteredSuperOption[];
  error?: {
    phase: Phase;
    message: string;
    excerpt?: string;
    /** The phase hung until its limit killed it: the runner stops a cell after two in a row. */
    hung?: boolean;
  };
  /**
   * Tasks outside the checkpointed tree that share one of its own
   * namespaces (seed 003's "leaks"), found before the dump, one line each.
   */
  leaks: string[];
  /** Files in the run directory, relative to it. */
  artifacts: Record<string, string>;
  durationMs: number;
  /** --repeat N: every attempt's verdict, in order (absent when run once). */
  attempts?: AttemptSummary[];
  /** --repeat N: the attempts disagreed; outcome and reason are the most severe attempt's. */
  flaky?: boolean;
}

export interface AttemptSummary {
  outcome: Outcome;
  reason: string;
  durationMs: number;
}

/** One target configuration that runs scenarios: target × kernel × criu. */
export interface CellResult {
  id: string;
  facts: TargetFacts;
  /** Set when the cell could not start at all. */
  error?: string;
}

export interface RunResult {
  format: typeof RESULTS_FORMAT;
  runId: string;
  mountlabVersion: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  host: { kernel: string; node: string };
  cells: CellResult[];
  results: ScenarioResult[];
  counts: Record<Outcome, number>;
  exitCode: number;
  /** False while the run is still going: a killed run leaves valid files covering what finished. */
  complete: boolean;
  /** `mountlab merge`: the run ids this run was merged from, in order. */
  mergedFrom?: string[];
}
