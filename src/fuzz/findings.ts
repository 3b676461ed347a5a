/**
 * A campaign's findings: every non-pass classified by its signature
 * (results/signature.ts), deduped by it, labelled known when a corpus
 * scenario's `known-bug` pattern matches it, and each new one stored as a
 * scenario that `mountlab run` reruns, with its logs and its count.
 */
import { createHash } from 'node:crypto';
import type { LoadedScenario } from '../scenario/load.js';
import { logPattern, type LogPattern } from '../scenario/log-pattern.js';
import type { MountEngine } from '../plan/plan.js';
import type { ScenarioResult, TargetFacts } from '../results/result.js';
import { formatSignature, signatureOf, type Signature } from '../results/signature.js';
import { inRange } from '../versions.js';

/** A corpus scenario's known bug, as the campaign matches it. */
export interface KnownBug {
  /** The scenario that carries it. */
  scenario: string;
  file: string;
  upstream: string;
  reason: LogPattern;
  /**
   * The pattern with its numbers read as any number: a corpus pattern names
   * its own scenario's fd 11 or mount 42, a generated scenario has others.
   */
  loose?: LogPattern;
  kernel?: string;
  criu?: string;
  mountEngine?: MountEngine;
}

/** Every `expect.known-bug` of the loaded corpus. */
export function knownBugsOf(corpus: LoadedScenario[]): KnownBug[] {
  return corpus.flatMap((l): KnownBug[] => {
    const e = l.scenario.expect;
    if (typeof e !== 'object' || !('known-bug' in e)) return [];
    const k = e['known-bug'];
    return [
      {
        scenario: l.scenario.name,
        file: l.file,
        upstream: k.url ?? `none found (searched ${k.searched ?? '?'})`,
        reason: logPattern(k.reason),
        ...looseOf(k.reason),
        ...(k.kernel ? { kernel: k.kernel } : {}),
        ...(k.criu ? { criu: k.criu } : {}),
        ...(k['mount-engine'] ? { mountEngine: k['mount-engine'] } : {}),
      },
    ];
  });
}

/** `fd 11 .*dropped` as `fd \d+ .*dropped`; nothing when the pattern has no numbers or will not compile so. */
function looseOf(source: string): { loose?: LogPattern } {
  // Digits after a backslash (\1, \x41) or in a {m,n} repeat are the pattern's syntax, not the log's numbers.
  const loose = source.replace(/(?<![\\{,\d])\d+(?![\d,}])/g, '\\d+');
  if (loose === source) return {};
  try {
    return { loose: logPattern(loose) };
  } catch {
    return {};
  }
}

/**
 * The known bug a failing result is, if any: its pattern matches the
 * reason, the error, the log excerpt or a difference (where run's
 * applyKnownBug looks, and the excerpt, since a fuzz result's reason is
 * CRIU's headline), on a kernel, criu and mount engine the bug applies to.
 */
export function knownBugOf(
  r: Pick<ScenarioResult, 'reason' | 'error' | 'differences' | 'mountEngine'>,
  facts: Pick<TargetFacts, 'kernel' | 'criu'>,
  bugs: readonly KnownBug[],
): KnownBug | undefined {
  const texts = [r.reason, r.error?.message ?? '', r.error?.excerpt ?? '', ...r.differences.map((d) => d.sentence)];
  return bugs.find(
    (b) =>
      (!b.kernel || inRange(facts.kernel, b.kernel)) &&
      (!b.criu || inRange(facts.criu, b.criu)) &&
      (!b.mountEngine || b.mountEngine === r.mountEngine) &&
      texts.some((t) => t && (b.reason.test(t) || (b.loose?.test(t) ?? false))),
  );
}

/**
 * What a signature is to the campaign:
 *  - new: a failure no corpus scenario knows;
 *  - known: a corpus known-bug matches it;
 *  - not-built: the scenario's set-up failed in the guest: the generator
 *    (or the mount model it trusts) was wrong, not CRIU; kept apart so it
 *    is fixed, and never counted as a CRIU finding;
 *  - regression / fixed: differential mode, passes on one cell and not on the other.
 */
export type FindingClass = 'new' | 'known' | 'not-built' | 'regression' | 'fixed';

/** Reduction of a finding's scenario: the seam for `mountlab reduce`. */
export type Reduction =
  | { status: 'not-reduced-yet' }
  | { status: 'reduced'; file: string; steps: number }
  | { status: 'failed'; message: string };

export interface Finding {
  id: string;
  /** As the campaign dedupes (campaignSignature). */
  signature: string;
  /** The first sighting's own signature (formatSignature of signatureOf), what reduce must keep. */
  exactSignature: string;
  kind: Signature['kind'];
  phase?: string;
  class: FindingClass;
  /** For known: the corpus scenario and its upstream report. */
  known?: { scenario: string; file: string; upstream: string };
  /** Differential: the cell that passed and the one that did not. */
  differential?: { passed: string; failed: string };
  count: number;
  /** Cells it came up on. */
  cells: string[];
  firstSeen: string;
  /** Campaign time (ms since its start, over resumes) when first seen. */
  firstSeenAtMs: number;
  /** The scenario's index in the campaign and its own seed: `mountlab fuzz --seed S` draws it again. */
  index: number;
  scenarioSeed: number;
  /** The first result's reason, as the run reports it. */
  reason: string;
  /** Relative to the campaign directory. */
  scenarioFile: string;
  logs: string;
  reduction: Reduction;
}

/** One failing (or differential) observation of a scenario run on a cell. */
export interface Observation {
  signature: Signature;
  /** The result's own signature, before campaignSignature; the deduped one when absent. */
  exact?: Signature;
  class: FindingClass;
  known?: KnownBug;
  differential?: { passed: string; failed: string };
  cell: string;
  index: number;
  scenarioSeed: number;
  reason: string;
  atMs: number;
}

/** A finding's directory name: its class and a hash of its signature (stable across campaigns, so merges meet). */
export function findingId(cls: FindingClass, signature: string): string {
  const prefix = cls === 'regression' || cls === 'fixed' ? `${cls}-` : '';
  return `${prefix}${createHash('sha256').update(signature).digest('hex').slice(0, 12)}`;
}

/** The book of a campaign's findings: deduped by class and signature. */
export class FindingBook {
  private readonly byId = new Map<string, Finding>();

  constructor(findings: Finding[] = []) {
    for (const f of findings) this.byId.set(f.id, f);
  }

  get all(): Finding[] {
    return [...this.byId.values()].sort((a, b) => a.firstSeenAtMs - b.firstSeenAtMs || a.id.localeCompare(b.id));
  }

  /**
   * Counts an observation; returns the finding, and whether it is the first
   * of its signature (the caller then stores the scenario and logs).
   */
  record(o: Observation, where: { scenarioFile: string; logs: string }): { finding: Finding; first: boolean } {
    const text = formatSignature(o.signature);
    const id = findingId(o.class, text);
    const seen = this.byId.get(id);
    if (seen) {
      seen.count++;
      if (!seen.cells.includes(o.cell)) seen.cells.push(o.cell);
      return { finding: seen, first: false };
    }
    const f: Finding = {
      id,
      signature: text,
      exactSignature: formatSignature(o.exact ?? o.signature),
      kind: o.signature.kind,
      ...(o.signature.phase ? { phase: o.signature.phase } : {}),
      class: o.class,
      ...(o.known ? { known: { scenario: o.known.scenario, file: o.known.file, upstream: o.known.upstream } } : {}),
      ...(o.differential ? { differential: o.differential } : {}),
      count: 1,
      cells: [o.cell],
      firstSeen: new Date().toISOString(),
      firstSeenAtMs: o.atMs,
      index: o.index,
      scenarioSeed: o.scenarioSeed,
      reason: o.reason,
      scenarioFile: where.scenarioFile,
      logs: where.logs,
      reduction: { status: 'not-reduced-yet' },
    };
    this.byId.set(id, f);
    return { finding: f, first: true };
  }

  /** Merges another campaign's book (mountlab merge): counts add, the earliest first sighting stays. */
  merge(other: Finding[]): void {
    for (const f of other) {
      const mine = this.byId.get(f.id);
      if (!mine) {
        this.byId.set(f.id, { ...f, cells: [...f.cells] });
        continue;
      }
      const earlier = f.firstSeen < mine.firstSeen ? f : mine;
      const merged: Finding = {
        ...earlier,
        count: mine.count + f.count,
        cells: [...new Set([...mine.cells, ...f.cells])],
      };
      if (mine.reduction.status === 'reduced' && merged.reduction.status !== 'reduced')
        merged.reduction = mine.reduction;
      if (f.reduction.status === 'reduced' && merged.reduction.status !== 'reduced') merged.reduction = f.reduction;
      this.byId.set(f.id, merged);
    }
  }
}

/**
 * A signature as a campaign dedupes it: results/signature.ts keeps paths and
 * task names (reduce keeps them, so they tell one bug from another there),
 * but the generator names every directory, mount and task afresh (/f/d12,
 * s5, t3), so "Open files on overmounted mounts ... path=/f/dN" and
 * "... path=/f/dN/fN" are one bug to a campaign. Paths made of the
 * generator's names become PATH, its task names TASK, and CRIU's random
 * scratch directory (/tmp/.criu.mntns.VFNtWC) X.
 */
export function campaignSignature(s: Signature): Signature {
  const text = s.text
    // CRIU's own scratch directory for mount namespaces has a random name.
    .replace(/\.criu\.mntns\.\w+/g, '.criu.mntns.X')
    .replace(/(?<![\w/])\/(?:(?:f|ext|x|e|[a-z]N)(?:\/|(?=[\s,;:)'"\]]|$)))+/g, 'PATH')
    // The generator's names below some other directory (CRIU's view of a mount's root: /tmp/.criu.mntns.X/mnt-N/dN).
    .replace(/(?:\/[a-z]N)+(?![\w/])/g, '/PATH')
    .replace(/\b(?:init|tN)\b/g, 'TASK');
  return { ...s, text };
}

/** How a result is classified before differential comparison: its signature, and whether it is known or not built. */
export function classify(
  r: ScenarioResult,
  facts: Pick<TargetFacts, 'kernel' | 'criu'>,
  bugs: readonly KnownBug[],
): { signature: Signature; exact: Signature; class: FindingClass; known?: KnownBug } | undefined {
  const exact = signatureOf(r);
  const signature = campaignSignature(exact);
  if (signature.kind === 'pass') return undefined;
  if (r.error?.phase === 'setup' && signature.kind === 'lab') return { signature, exact, class: 'not-built' };
  const known = knownBugOf(r, facts, bugs);
  return known ? { signature, exact, class: 'known', known } : { signature, exact, class: 'new' };
}
