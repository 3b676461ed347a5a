/**
 * The closed set of verdicts (after tmt). Every scenario × cell ends in
 * exactly one of these, decided by what the kernel and CRIU did.
 */
export const OUTCOMES = ['pass', 'fail', 'error', 'skip', 'xfail', 'xpass'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Whether an outcome is what the scenario's author expected. */
export function isExpected(o: Outcome): boolean {
  return o === 'pass' || o === 'skip' || o === 'xfail';
}

/** Exit code of a whole run: 2 beats 1 beats 0. */
export function exitCodeForOutcomes(outcomes: Iterable<Outcome>): number {
  let code = 0;
  for (const o of outcomes) {
    if (o === 'error') return 2;
    if (o === 'fail' || o === 'xpass') code = 1;
  }
  return code;
}
