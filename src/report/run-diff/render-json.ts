import type { DiffInput, RunSource } from './phrases.js';
import type { ResultLike } from './loaded-run.js';

export const RUN_DIFF_FORMAT = 'mountlab-run-diff/1';

/** The --json document: the diff with both runs' identities. */
export function renderJson(x: DiffInput): string {
  const side = (s: RunSource) => ({
    file: s.file,
    ...(s.note ? { note: s.note } : {}),
    runId: s.run.runId,
    complete: s.run.complete,
    cells: s.run.cells,
  });
  const strip = (r: ResultLike | undefined) =>
    r
      ? {
          outcome: r.outcome,
          reason: r.reason,
          ...(r.error ? { error: { phase: r.error.phase, message: r.error.message } } : {}),
          differences: r.differences.map((d) => d.sentence),
        }
      : undefined;
  return `${JSON.stringify(
    {
      format: RUN_DIFF_FORMAT,
      baseline: side(x.baseline),
      new: side(x.new),
      pairing: x.diff.pairing,
      counts: { ...x.diff.counts, unchanged: x.diff.unchanged },
      changes: x.diff.changes.map((c) => ({
        category: c.category,
        scenario: c.scenario,
        ...(c.baselineCell !== undefined ? { baselineCell: c.baselineCell } : {}),
        ...(c.newCell !== undefined ? { newCell: c.newCell } : {}),
        ...(c.baseline ? { baseline: strip(c.baseline) } : {}),
        ...(c.new ? { new: strip(c.new) } : {}),
      })),
      exitCode: x.diff.exitCode,
    },
    null,
    2,
  )}\n`;
}
