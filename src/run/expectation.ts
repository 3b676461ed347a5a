import type { Scenario } from '../scenario/scenario.generated.js';
import { logPattern, type LogPattern } from '../scenario/log-pattern.js';
import type { TargetFacts } from '../results/result.js';
import type { Outcome } from '../results/outcome.js';
import { inRange } from '../versions.js';
import type { MountEngine } from '../plan/plan.js';

/** Which criu phase a fail-expectation expects to fail; `either` is zdtm's crfail. */
export type FailPhase = 'dump' | 'restore' | 'either';

/** The expectation, normalised. */
export type Expectation =
  | { kind: 'identical'; note?: string; dropped?: string[] }
  | { kind: 'fails'; phase: FailPhase; pattern: LogPattern }
  | { kind: 'known-bug'; upstream: Upstream; reason: LogPattern; kernel?: string; criu?: string; fixedBy?: string };

/** Where a known bug is reported upstream, or what was searched when no report was found. */
export type Upstream = { url: string } | { searched: string };

/** The upstream report as a reader sees it: the url, or that none was found and what was searched. */
export function upstreamText(u: Upstream): string {
  return 'url' in u ? u.url : `no upstream report found; searched ${u.searched}`;
}

const PHASE_OF = { 'dump-fails': 'dump', 'restore-fails': 'restore', fails: 'either' } as const;

/**
 * The expectation on one cell. Without facts (nothing started yet) a fail-expectation's ranges
 * are not applied; with them, outside its ranges it does not apply and the scenario is expected
 * identical, as outside a known bug's.
 */
export function expectationOf(
  s: Scenario,
  mountEngine: MountEngine = 'v2',
  facts?: Pick<TargetFacts, 'kernel' | 'criu'>,
): Expectation {
  const e = s.expect;
  if (e === 'identical') return { kind: 'identical' };
  // Identical but for mounts CRIU skips on purpose (compare/dropped-mounts.ts).
  if ('dropped' in e) return { kind: 'identical', dropped: e.dropped };
  if ('known-bug' in e) {
    const k = e['known-bug'];
    // A bug of one mount engine: under the other the scenario must pass.
    if (k['mount-engine'] && k['mount-engine'] !== mountEngine) return { kind: 'identical' };
    // Validation has made sure there is exactly one of url and upstream: none-found with searched.
    const upstream: Upstream = k.url !== undefined ? { url: k.url } : { searched: k.searched ?? '(not said)' };
    return {
      kind: 'known-bug',
      upstream,
      reason: logPattern(k.reason),
      ...(k.kernel ? { kernel: k.kernel } : {}),
      ...(k.criu ? { criu: k.criu } : {}),
      ...(k['fixed-by'] ? { fixedBy: k['fixed-by'] } : {}),
    };
  }
  // Validation has made sure exactly one phase key is there.
  const key = (['dump-fails', 'restore-fails', 'fails'] as const).find((k) => e[k] !== undefined)!;
  if (facts && !inRanges(facts, e)) {
    return {
      kind: 'identical',
      note: `${key} applies on ${rangeText(e)}; this is kernel ${facts.kernel}, criu ${facts.criu}`,
    };
  }
  return { kind: 'fails', phase: PHASE_OF[key], pattern: logPattern(e[key]!) };
}

function inRanges(facts: Pick<TargetFacts, 'kernel' | 'criu'>, r: { kernel?: string; criu?: string }): boolean {
  return (!r.kernel || inRange(facts.kernel, r.kernel)) && (!r.criu || inRange(facts.criu, r.criu));
}

function rangeText(r: { kernel?: string; criu?: string }): string {
  return [r.kernel ? `kernel ${r.kernel}` : '', r.criu ? `criu ${r.criu}` : ''].filter(Boolean).join(', ');
}

export function describeExpectation(x: Expectation): string {
  switch (x.kind) {
    case 'identical': {
      const but = x.dropped?.length ? ` but for ${x.dropped.join(', ')}, which CRIU drops` : '';
      return `identical${but}${x.note ? ` (${x.note})` : ''}`;
    }
    case 'known-bug':
      return (
        `known bug (${upstreamText(x.upstream)}) (/${x.reason.source}/` +
        `${x.kernel ? `, kernel ${x.kernel}` : ''}${x.criu ? `, criu ${x.criu}` : ''})`
      );
    default:
      return `${x.phase === 'either' ? 'fails' : `${x.phase}-fails`} /${x.pattern.source}/`;
  }
}

/** Whether a known bug is expected on this kernel and criu. */
export function bugExpectedOn(x: Expectation & { kind: 'known-bug' }, facts: TargetFacts): boolean {
  // A git tree's history says whether it has the fix, more precisely than its version (fix-presence.ts).
  const has = x.fixedBy !== undefined ? facts.criuBuild?.fixes?.[x.fixedBy] : undefined;
  if (has !== undefined) return !has && inRanges(facts, { ...(x.kernel ? { kernel: x.kernel } : {}) });
  return inRanges(facts, x);
}

/** What one criu phase did, as far as a verdict needs it. */
export interface PhaseRun {
  ok: boolean;
  /** 'failed': criu ran and said no; anything else (a crash, a timeout) is not the expected failure. */
  failure?: { kind: string; headline: string };
  log: string;
  stderr: string;
}

/**
 * What a criu phase's result means under the expectation: undefined to go on (the phase
 * succeeded and nothing expected it to fail), or the verdict. A fail-expectation is met by the
 * phase it names (either, for `fails`) failing with a log line that matches; a crash or a
 * timeout stays an error, and a failure whose log does not match is a fail.
 */
export function judgePhase(
  x: Expectation,
  phase: 'dump' | 'restore',
  run: PhaseRun,
): { outcome: Outcome; reason: string } | undefined {
  if (run.ok) return undefined;
  const expected = x.kind === 'fails' && (x.phase === phase || x.phase === 'either');
  if (expected && run.failure?.kind === 'failed') {
    if (x.pattern.test(run.log) || x.pattern.test(run.stderr))
      return { outcome: 'pass', reason: `criu ${phase} failed as expected (matched /${x.pattern.source}/)` };
    return {
      outcome: 'fail',
      reason: `criu ${phase} failed, but no log line matched /${x.pattern.source}/: ${run.failure.headline}`,
    };
  }
  return { outcome: 'error', reason: run.failure?.headline ?? `criu ${phase} failed` };
}

/** The verdict when dump and restore both succeeded under a fail-expectation; undefined otherwise. */
export function unmetFailure(x: Expectation): string | undefined {
  if (x.kind !== 'fails') return undefined;
  return `expected ${x.phase === 'either' ? 'dump or restore' : x.phase} to fail, but dump and restore succeeded`;
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
  if (raw.outcome === 'pass')
    return {
      outcome: 'xpass',
      reason: `known bug no longer reproduces (${upstreamText(x.upstream)}); update the expectation`,
    };
  if (raw.outcome === 'fail' || raw.outcome === 'error') {
    const matched = [raw.reason, ...raw.sentences].some((s) => x.reason.test(s));
    if (matched) return { outcome: 'xfail', reason: `known bug (${upstreamText(x.upstream)}): ${raw.reason}` };
    return { outcome: raw.outcome, reason: `${raw.reason} (not the known bug: nothing matched /${x.reason.source}/)` };
  }
  return raw;
}
