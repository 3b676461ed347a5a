import type { Scenario, Step } from './scenario.generated.js';

/** Problems the schema cannot express: they need the whole document. */
export interface SemanticProblem {
  path: string;
  message: string;
  suggestion?: string;
}

/** The name of a step: its only key. The schema guarantees exactly one. */
export function stepName(step: Step): keyof Step {
  return Object.keys(step)[0] as keyof Step;
}

export function semanticProblems(s: Scenario): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const expect = s.expect;
  for (const key of ['dump-fails', 'restore-fails'] as const) {
    if (typeof expect === 'object' && key in expect) {
      const pattern = (expect as Record<string, string>)[key]!;
      try {
        new RegExp(pattern);
      } catch (e) {
        problems.push({ path: `/expect/${key}`, message: `not a valid regular expression: ${(e as Error).message}` });
      }
    }
  }
  return problems;
}
