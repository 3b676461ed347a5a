import type { Outcome } from './outcome.js';
import type { ScenarioResult } from './result.js';

/**
 * Which attempt stands for a flaky scenario: the one a person must look at.
 * An error outranks a fail (the lab or the kernel broke), a fail outranks an
 * unexpected pass, and anything unexpected outranks what was expected.
 */
const SEVERITY: Record<Outcome, number> = { error: 5, fail: 4, xpass: 3, xfail: 2, pass: 1, skip: 0 };

/**
 * One result for a scenario run N times (--repeat N). When every attempt
 * agrees it is the first attempt's result with the attempts listed; when
 * they differ the scenario is flaky, and the result is the most severe
 * attempt's, marked flaky with every verdict in order, so a flake shows in
 * the counts and the exit code instead of being averaged away.
 */
export function combineAttempts(attempts: ScenarioResult[]): ScenarioResult {
  if (attempts.length === 0) throw new Error('combineAttempts: no attempts');
  if (attempts.length === 1) return attempts[0]!;
  const flaky = new Set(attempts.map((a) => a.outcome)).size > 1;
  const chosen = flaky ? attempts.reduce((worst, a) => (SEVERITY[a.outcome] > SEVERITY[worst.outcome] ? a : worst)) : attempts[0]!;
  const verdicts = attempts.map((a) => a.outcome).join(', ');
  return {
    ...chosen,
    reason: flaky ? `flaky (${verdicts}): ${chosen.reason}` : chosen.reason,
    attempts: attempts.map((a) => ({ outcome: a.outcome, reason: a.reason, durationMs: a.durationMs })),
    flaky,
    durationMs: attempts.reduce((t, a) => t + a.durationMs, 0),
  };
}
