import { severity } from '../results/outcome.js';
import type { ScenarioResult } from '../results/result.js';

/**
 * One result for a scenario run N times (--repeat N). When every attempt
 * agrees it is the first attempt's result with the attempts listed; when
 * they differ the scenario is flaky, and the result is the most severe
 * attempt's (the one a person must look at), marked flaky with every
 * verdict in order, so a flake shows in the counts and the exit code
 * instead of being averaged away.
 */
export function combineAttempts(attempts: ScenarioResult[]): ScenarioResult {
  if (attempts.length === 0) throw new Error('combineAttempts: no attempts');
  if (attempts.length === 1) return attempts[0]!;
  const flaky = new Set(attempts.map((a) => a.outcome)).size > 1;
  const worst = (w: ScenarioResult, a: ScenarioResult) => (severity(a.outcome) > severity(w.outcome) ? a : w);
  const chosen = flaky ? attempts.reduce(worst) : attempts[0]!;
  const verdicts = attempts.map((a) => a.outcome).join(', ');
  return {
    ...chosen,
    reason: flaky ? `flaky (${verdicts}): ${chosen.reason}` : chosen.reason,
    attempts: attempts.map((a) => ({ outcome: a.outcome, reason: a.reason, durationMs: a.durationMs })),
    flaky,
    durationMs: attempts.reduce((t, a) => t + a.durationMs, 0),
  };
}
