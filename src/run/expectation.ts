import type { Scenario } from '../scenario/scenario.generated.js';

/** The expectation, normalised. */
export type Expectation = { kind: 'identical' } | { kind: 'dump-fails' | 'restore-fails'; pattern: RegExp };

export function expectationOf(s: Scenario): Expectation {
  const e = s.expect;
  if (e === 'identical') return { kind: 'identical' };
  if ('dump-fails' in e) return { kind: 'dump-fails', pattern: new RegExp(e['dump-fails'], 'm') };
  return { kind: 'restore-fails', pattern: new RegExp(e['restore-fails'], 'm') };
}

export function describeExpectation(x: Expectation): string {
  return x.kind === 'identical' ? 'identical' : `${x.kind} /${x.pattern.source}/`;
}
