import type { Outcome } from '../results/outcome.js';
import type { RunResult } from '../results/result.js';

export interface MatrixRow {
  scenario: string;
  /** By cell, in the run's cell order; undefined where the scenario has no result in that cell. */
  verdicts: (Outcome | undefined)[];
  /** The cells that have a verdict disagree. */
  differs: boolean;
}

export interface ScenarioMatrix {
  cells: string[];
  rows: MatrixRow[];
}

/**
 * Scenario × cell for a matrix run, as index.html and summary.md show it:
 * the verdict of each scenario in each cell, rows where the cells disagree
 * first and then by name, so what a kernel or a criu changes is at the top.
 */
export function scenarioMatrix(run: RunResult): ScenarioMatrix {
  const cells = run.cells.map((c) => c.id);
  const byScenario = new Map<string, Map<string, Outcome>>();
  for (const r of run.results) {
    let row = byScenario.get(r.scenario);
    if (!row) byScenario.set(r.scenario, (row = new Map()));
    row.set(r.cell, r.outcome);
  }
  const rows = [...byScenario.entries()].map(([scenario, row]): MatrixRow => {
    const verdicts = cells.map((c) => row.get(c));
    return { scenario, verdicts, differs: new Set(verdicts.filter((v) => v !== undefined)).size > 1 };
  });
  rows.sort(
    (a, b) => Number(b.differs) - Number(a.differs) || (a.scenario < b.scenario ? -1 : a.scenario > b.scenario ? 1 : 0),
  );
  return { cells, rows };
}
