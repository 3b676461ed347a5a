import type { Outcome } from '../../results/outcome.js';
import type { ResultsFile, TargetFacts } from '../../results/result.js';

/** The part of a ScenarioResult a diff reads. */
export interface ResultLike {
  scenario: string;
  cell: string;
  outcome: Outcome;
  reason: string;
  error?: { phase: string; message: string; excerpt?: string };
  differences: { sentence: string }[];
}

export interface CellLike {
  id: string;
  /** Absent when the run was cut short before it wrote its cells. */
  facts?: Partial<TargetFacts>;
  error?: string;
}

/** A run as a diff reads it. */
export interface LoadedRun {
  runId: string;
  complete: boolean;
  /** The run's cells, plus any cell its results name that the list lacks. */
  cells: CellLike[];
  results: ResultLike[];
}

/**
 * What a diff keeps of a checked results.json (results/read-results.ts).
 * A killed run's partial file lists no cells: they are taken from its
 * results, without facts.
 */
export function loadedRun(doc: ResultsFile): LoadedRun {
  const cells: CellLike[] = (doc.cells ?? []).map((c) => ({
    id: c.id,
    facts: c.facts,
    ...(c.error !== undefined ? { error: c.error } : {}),
  }));
  const results = doc.results.map(
    (r): ResultLike => ({
      scenario: r.scenario,
      cell: r.cell,
      outcome: r.outcome,
      reason: r.reason,
      differences: r.differences.map((d) => ({ sentence: d.sentence })),
      ...(r.error
        ? {
            error: {
              phase: r.error.phase,
              message: r.error.message,
              ...(r.error.excerpt !== undefined ? { excerpt: r.error.excerpt } : {}),
            },
          }
        : {}),
    }),
  );
  for (const r of results) if (!cells.some((c) => c.id === r.cell)) cells.push({ id: r.cell });
  return { runId: doc.runId, complete: doc.complete, cells, results };
}
