import type { Outcome } from './results.generated.js';

export type { Outcome };

/**
 * The closed set of verdicts (after tmt), in the order reports list them.
 * Every scenario × cell ends in exactly one of these, decided by what the
 * kernel and CRIU did. The schema's enum is the source; a test keeps this
 * list equal to it.
 */
export const OUTCOMES = ['pass', 'fail', 'error', 'skip', 'xfail', 'xpass'] as const satisfies readonly Outcome[];

/**
 * What each verdict asks of a person, and what CRIU did, in one table: the
 * enum knows its own ranks, and every ordering of verdicts reads them here.
 *
 * severity, most first (as tmt's ResultOutcome.reduce): an error (the lab or
 * the kernel broke) outranks a fail, a fail an unexpected pass, and anything
 * unexpected what was expected; a skip ran nothing.
 *
 * restored, for comparing two runs: pass and xpass restored correctly (2),
 * xfail reproduced a known bug (1), fail and error went wrong in a way
 * nobody expected (0); skip did not run (-1).
 */
const RANKS: Record<Outcome, { severity: number; restored: number }> = {
  error: { severity: 5, restored: 0 },
  fail: { severity: 4, restored: 0 },
  xpass: { severity: 3, restored: 2 },
  xfail: { severity: 2, restored: 1 },
  pass: { severity: 1, restored: 2 },
  skip: { severity: 0, restored: -1 },
};

export function severity(o: Outcome): number {
  return RANKS[o].severity;
}

/** For sorting: the more severe verdict first. */
export function bySeverity(a: Outcome, b: Outcome): number {
  return RANKS[b].severity - RANKS[a].severity;
}

/** How well CRIU did, for diff-runs: a lower rank in the new run is a regression. */
export function restoredRank(o: Outcome): number {
  return RANKS[o].restored;
}

/**
 * Whether an outcome is what the scenario's author expected (pass, skip,
 * xfail). The others (error, fail, xpass) need a person: they make the
 * exit code non-zero and are listed first.
 */
export function isExpected(o: Outcome): boolean {
  return RANKS[o].severity < RANKS.xpass.severity;
}

/** Exit code of a whole run: 2 for an error, else 1 for any other unexpected verdict, else 0. */
export function exitCodeForOutcomes(outcomes: Iterable<Outcome>): number {
  let code = 0;
  for (const o of outcomes) {
    if (o === 'error') return 2;
    if (!isExpected(o)) code = 1;
  }
  return code;
}

/** Results per outcome, every outcome present. */
export function countOutcomes(outcomes: Iterable<Outcome>): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const o of outcomes) counts[o]++;
  return counts;
}
