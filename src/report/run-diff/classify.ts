/**
 * What changed between two runs of the corpus (`mountlab diff-runs`): the
 * classifier. A baseline run (say, the unpatched kernel) and a new run (the
 * patched one), read through the one results reader (loaded-run.ts), have
 * their results paired and each pair put in exactly one category; the
 * render-*.ts files say the lot as text, Markdown (for a reply to a patch on
 * a mailing list) or JSON.
 *
 * Pairing: by (scenario, cell). When each run has exactly one cell and the
 * two cell ids differ (vm-debian-6.1 against vm-debian-6.12, the usual
 * "baseline kernel against patched kernel"), by scenario alone. Results in a
 * cell that only one run has are not paired; the cell is named with its
 * result count.
 *
 * The rule (the README's table says the same). Outcomes are ranked by what
 * CRIU did (results/outcome.ts restoredRank): pass and xpass restored
 * correctly, xfail reproduced a known bug, fail and error went wrong in a
 * way nobody expected; skip did not run. For a pair BASELINE → NEW:
 *
 *   either side skip, the other not  → newly-skipped / no-longer-skipped
 *   NEW xpass, BASELINE not xpass     → no-longer-reproduces (a known bug)
 *   rank went down                    → regression: pass/xpass → xfail/fail/
 *                                       error, xfail → fail/error
 *   rank went up, or xpass → pass     → fix
 *   fail → error                      → new-error
 *   error → fail, or the same fail or error with another reason or error
 *   message                           → changed (both shown)
 *   anything else                     → unchanged (counted, not listed)
 *
 * A scenario present in only one run (in a cell both have) is only-baseline
 * or only-new. Reasons are compared with numbers masked (pids, mount ids,
 * device numbers, CRIU source lines change from run to run and from build
 * to build) except exit codes and signals, so "for 292" against "for 301"
 * is not a change but "exit 1" against "exit 139" is.
 *
 * fail → error is not a regression: CRIU refusing a case it used to restore
 * wrongly is often an improvement; it is listed for a person to judge. Only
 * regressions make the exit code 1.
 */
import { restoredRank } from '../../results/outcome.js';
import type { LoadedRun, ResultLike } from './loaded-run.js';

/** The categories, in the order they are printed; the closed set. */
export const CATEGORIES = [
  'regression',
  'fix',
  'no-longer-reproduces',
  'new-error',
  'changed',
  'newly-skipped',
  'no-longer-skipped',
  'only-baseline',
  'only-new',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** One listed change. `baseline` is absent for only-new, `new` for only-baseline. */
export interface Change {
  category: Category;
  scenario: string;
  /** The baseline's cell and the new run's; the same id when paired by (scenario, cell). */
  baselineCell?: string;
  newCell?: string;
  baseline?: ResultLike;
  new?: ResultLike;
}

export interface Pairing {
  /** 'cell': by (scenario, cell); 'scenario': one cell each, ids differ, by scenario alone. */
  by: 'cell' | 'scenario';
  /** The cells compared: [baseline id, new id]. */
  compared: [string, string][];
  /** Cells one run has and the other lacks, with how many results each holds (not listed one by one). */
  onlyBaseline: { id: string; results: number }[];
  onlyNew: { id: string; results: number }[];
}

export interface RunDiff {
  pairing: Pairing;
  /** In CATEGORIES order; within a category, in the new run's order (the baseline's for only-baseline). */
  changes: Change[];
  counts: Record<Category, number>;
  unchanged: number;
  /** 1 when there is any regression, else 0. */
  exitCode: 0 | 1;
}

/** The category of a pair, by the rule at the top of this file. */
export function classify(a: ResultLike, b: ResultLike): Category | 'unchanged' {
  const from = a.outcome;
  const to = b.outcome;
  if (from === 'skip' || to === 'skip')
    return from === to ? 'unchanged' : to === 'skip' ? 'newly-skipped' : 'no-longer-skipped';
  if (to === 'xpass' && from !== 'xpass') return 'no-longer-reproduces';
  if (restoredRank(to) < restoredRank(from)) return 'regression';
  if (restoredRank(to) > restoredRank(from) || (from === 'xpass' && to === 'pass')) return 'fix';
  if (from === 'fail' && to === 'error') return 'new-error';
  if (from === 'error' && to === 'fail') return 'changed';
  if ((to === 'fail' || to === 'error') && whyOf(a) !== whyOf(b)) return 'changed';
  return 'unchanged';
}

/**
 * A result's reason and error message with numbers masked, except exit
 * codes and signals: see the top of this file.
 */
export function whyOf(r: ResultLike): string {
  const mask = (s: string) =>
    s.replace(/(\b(?:exit|signal|SIG[A-Z]+) ?)?(0x[0-9a-f]+|\d+)/gi, (m, keep: string | undefined) => (keep ? m : '#'));
  return JSON.stringify([mask(r.reason), r.error ? r.error.phase : null, r.error ? mask(r.error.message) : null]);
}

export function diffRuns(base: LoadedRun, next: LoadedRun): RunDiff {
  const baseIds = base.cells.map((c) => c.id);
  const newIds = next.cells.map((c) => c.id);
  const byScenario = baseIds.length === 1 && newIds.length === 1 && baseIds[0] !== newIds[0];
  const count = (run: LoadedRun, id: string) => run.results.filter((r) => r.cell === id).length;
  const pairing: Pairing = byScenario
    ? { by: 'scenario', compared: [[baseIds[0]!, newIds[0]!]], onlyBaseline: [], onlyNew: [] }
    : {
        by: 'cell',
        compared: baseIds.filter((id) => newIds.includes(id)).map((id) => [id, id]),
        onlyBaseline: baseIds.filter((id) => !newIds.includes(id)).map((id) => ({ id, results: count(base, id) })),
        onlyNew: newIds.filter((id) => !baseIds.includes(id)).map((id) => ({ id, results: count(next, id) })),
      };
  const shared = new Set(pairing.compared.map(([b]) => b));
  // In scenario pairing every result is in the one compared cell.
  const keyOf = (r: ResultLike) => (byScenario ? r.scenario : pairKey(r.scenario, r.cell));
  const paired = (r: ResultLike) => byScenario || shared.has(r.cell);
  const baseByKey = new Map(base.results.filter(paired).map((r) => [keyOf(r), r]));
  const newKeys = new Set(next.results.filter(paired).map(keyOf));

  const found: Change[] = [];
  let unchanged = 0;
  for (const b of next.results.filter(paired)) {
    const a = baseByKey.get(keyOf(b));
    if (!a) {
      found.push({ category: 'only-new', scenario: b.scenario, newCell: b.cell, new: b });
      continue;
    }
    const category = classify(a, b);
    if (category === 'unchanged') unchanged++;
    else found.push({ category, scenario: b.scenario, baselineCell: a.cell, newCell: b.cell, baseline: a, new: b });
  }
  for (const a of base.results.filter(paired)) {
    if (!newKeys.has(keyOf(a)))
      found.push({ category: 'only-baseline', scenario: a.scenario, baselineCell: a.cell, baseline: a });
  }
  const changes = CATEGORIES.flatMap((c) => found.filter((x) => x.category === c));
  const counts = Object.fromEntries(CATEGORIES.map((c) => [c, found.filter((x) => x.category === c).length])) as Record<
    Category,
    number
  >;
  return { pairing, changes, counts, unchanged, exitCode: counts.regression > 0 ? 1 : 0 };
}

function pairKey(scenario: string, cell: string): string {
  return JSON.stringify([scenario, cell]);
}
