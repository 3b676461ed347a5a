import type { Scenario } from './scenario.generated.js';
import { compileLogPattern } from './log-pattern.js';
import type { SemanticProblem } from './semantics.js';

/** The keys of a fail-expectation that name its phase; exactly one is given. */
export const FAIL_KEYS = ['dump-fails', 'restore-fails', 'fails'] as const;

/**
 * What the schema leaves to the whole expectation: one phase key in a fail-expectation (the
 * schema's oneOf said "unknown field" twice, once for each, when both were given), and patterns
 * the linear-time engine can run.
 */
export function expectationProblems(expect: Scenario['expect']): SemanticProblem[] {
  if (typeof expect !== 'object') return [];
  const problems: SemanticProblem[] = [];
  const patterns: [string, string][] = [];
  if ('known-bug' in expect && expect['known-bug']) {
    patterns.push(['/expect/known-bug/reason', expect['known-bug'].reason]);
  } else {
    const fail = expect as Partial<Record<(typeof FAIL_KEYS)[number], string>>;
    const given = FAIL_KEYS.filter((k) => fail[k] !== undefined);
    if (given.length === 0) {
      problems.push({
        path: '/expect',
        message: 'a fail-expectation names its phase: dump-fails, restore-fails or fails (either phase), with the pattern',
        suggestion: 'e.g. `expect: {fails: "Can\'t mount"}`, or `expect: identical`',
      });
    } else if (given.length > 1) {
      problems.push({
        path: `/expect/${given[1]}`,
        message: `${given.map((k) => `'${k}'`).join(' and ')} both given; a fail-expectation names one phase`,
        suggestion: "to expect either dump or restore to fail, matching one pattern, write `fails: PATTERN` (zdtm's crfail)",
      });
    }
    for (const k of given) patterns.push([`/expect/${k}`, fail[k]!]);
  }
  for (const [path, source] of patterns) {
    const c = compileLogPattern(source);
    if ('error' in c) problems.push({ path, message: c.error });
  }
  return problems;
}
