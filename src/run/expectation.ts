import type { Scenario } from '../scenario/scenario.generated.js';
import type { TargetFacts } from '../target/target.js';
import type { Outcome } from './outcome.js';
import { inRange } from './versions.js';
import type { MountEngine } from '../plan/plan.js';

/** The expectation, normalised. */
export type Expectation =
  | { kind: 'identical' }
  | { kind: 'dump-fails' | 'restore-fails'; pattern: RegExp }
  | { kind: 'known-bug'; url: string; reason: RegExp; kernel?: string; criu?: string };

export function expectationOf(s: Scenario, mountEngine: MountEngine = 'v2'): Expectation {
  const e = s.expect;
  if (e === 'identical') return { kind: 'identical' };
  if ('dump-fails' in e) return { kind: 'dump-fails', pattern: new RegExp(e['dump-fails'], 'm') };
  if ('restore-fails' in e) return { kind: 'restore-fails', pattern: new RegExp(e['restore-fails'], 'm') };
  const k = e['known-bug'];
  // A bug of one mount engine: under the other the scenario must pass.
  if (k['mount-engine'] && k['mount-engine'] !== mountEngine) return { kind: 'identical' };
  return { kind: 'known-bug', url: k.url, reason: new RegExp(k.reason, 'm'), ...(k.kernel ? { kernel: k.kernel } : {}), ...(k.criu ? { criu: k.criu } : {}) };
}

export function describeExpectation(x: Expectation): string {
  switch (x.kind) {
    case 'identical':
      return 'identical';
    case 'known-bug':
      return `known bug ${x.url} (/${x.reason.source}/${x.kernel ? `, kernel ${x.kernel}` : ''}${x.criu ? `, criu ${x.criu}` : ''})`;
    default:
      return `${x.kind} /${x.pattern.source}/`;
  }
}

/** Whether a known bug is expected on this kernel and criu. */
export function bugExpectedOn(x: Expectation & { kind: 'known-bug' }, facts: TargetFacts): boolean {
  return (!x.kernel || inRange(facts.kernel, x.kernel)) && (!x.criu || inRange(facts.criu, x.criu));
}

/**
 * Turns what happened into the verdict under a known-bug expectation: the
 * bug reproduced (xfail), it no longer does (xpass), or something else
 * went wrong, which keeps its own verdict.
 */
export function applyKnownBug(
  x: Expectation,
  facts: TargetFacts,
  raw: { outcome: Outcome; reason: string; sentences: string[] },
): { outcome: Outcome; reason: string } {
  if (x.kind !== 'known-bug' || !bugExpectedOn(x, facts)) return raw;
  if (raw.outcome === 'pass') return { outcome: 'xpass', reason: `known bug no longer reproduces (${x.url}); update the expectation` };
  if (raw.outcome === 'fail' || raw.outcome === 'error') {
    const matched = [raw.reason, ...raw.sentences].some((s) => x.reason.test(s));
    if (matched) return { outcome: 'xfail', reason: `known bug (${x.url}): ${raw.reason}` };
    return { outcome: raw.outcome, reason: `${raw.reason} (not the known bug: nothing matched /${x.reason.source}/)` };
  }
  return raw;
}
