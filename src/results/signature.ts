/**
 * A failure's signature: what "fails the same way" means to reduce (which
 * keeps a candidate only when its signature is the original's) and to fuzz
 * (which dedupes findings by it), after syzkaller's crash titles. It is a
 * function of what the kernel and CRIU said, never of the scenario's size:
 * numbers, addresses and pids are masked, so a smaller reproducer of the
 * same bug has the same signature.
 */
import type { Outcome } from './outcome.js';
import type { ScenarioResult } from './result.js';

/**
 * What the signature was taken from:
 *  - criu: CRIU's error line (an orderly dump or restore failure);
 *  - crash: CRIU crashed (BUG, SIGSEGV) or the kernel oopsed: the top frames;
 *  - hang: a phase hung until its limit;
 *  - difference: the restore succeeded but the topology differs: the first difference's kind and subject;
 *  - lab: the lab itself failed (setup, capture): the headline;
 *  - pass: nothing failed.
 */
export type SignatureKind = 'criu' | 'crash' | 'hang' | 'difference' | 'lab' | 'pass';

export interface Signature {
  kind: SignatureKind;
  /** The phase it came from (dump, restore, compare, probe, setup...), when there is one. */
  phase?: string;
  /** The masked text: one line. */
  text: string;
}

/** The one-line form, what people read and what --signature takes: "criu restore: Error (criu/mount.c:N): ...". */
export function formatSignature(s: Signature): string {
  return `${s.kind}${s.phase ? ` ${s.phase}` : ''}: ${s.text}`;
}

/** Reads formatSignature's output back (for --signature); undefined when it is not one. */
export function parseSignature(line: string): Signature | undefined {
  const m = line.trim().match(/^(criu|crash|hang|difference|lab|pass)(?: ([a-z-]+))?: (.*)$/);
  if (!m) return undefined;
  return { kind: m[1] as SignatureKind, ...(m[2] ? { phase: m[2] } : {}), text: maskNumbers(m[3]!) };
}

export function sameSignature(a: Signature, b: Signature): boolean {
  return a.kind === b.kind && (a.phase ?? '') === (b.phase ?? '') && a.text === b.text;
}

/**
 * Numbers become N: line numbers in CRIU's source stay (they name the check
 * that failed: criu/mount.c:123 is one bug, criu/mount.c:456 another), every
 * other number (mount ids, pids, fds, addresses, device numbers, errno
 * values CRIU prints in varying places) is masked. So is the random name
 * of CRIU's scratch directory for mount namespaces (/tmp/.criu.mntns.akFccS):
 * a restore error under it never matched a rerun, so reduce found nothing
 * smaller (13 of 44 fuzz findings).
 */
export function maskNumbers(text: string): string {
  // split() with a capturing group keeps the source references at the odd indexes.
  return text
    .replace(/\.criu\.mntns\.\w+/g, '.criu.mntns.X')
    .split(/(\bcriu\/[\w/.-]+\.[ch]:\d+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/0x[0-9a-fA-F]+/g, 'N').replace(/\d+/g, 'N')))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The subject of a difference with what depends on the build order masked:
 * stacked and namespace indexes ("[stacked 2]", "ns#3:") are numbers, and a
 * mount's path stays, since reduce keeps paths and a fuzz finding is about a
 * shape, not a name.
 */
function subject(d: ScenarioResult['differences'][number]): string {
  const what = d.mount ?? d.task ?? '';
  return maskNumbers(what);
}

/** Top frames of a kernel oops or CRIU crash: function names from "RIP: fn+0x..", "fn+0x../0x.." lines. */
function topFrames(excerpt: string, n = 3): string[] {
  const frames: string[] = [];
  for (const m of excerpt.matchAll(/(?:RIP: [0-9a-f]+:|\s)([A-Za-z_][\w.]*)\+0x[0-9a-f]+\/0x[0-9a-f]+/g)) {
    if (!frames.includes(m[1]!)) frames.push(m[1]!);
    if (frames.length >= n) break;
  }
  return frames;
}

const FAILING: ReadonlySet<Outcome> = new Set(['fail', 'error', 'xfail']);

/** The signature of a scenario's result; a pass, xpass or skip is kind pass. */
export function signatureOf(r: Pick<ScenarioResult, 'outcome' | 'reason' | 'differences' | 'error'>): Signature {
  if (!FAILING.has(r.outcome)) return { kind: 'pass', text: r.outcome === 'skip' ? 'skipped' : 'restored' };
  const e = r.error;
  if (e?.hung) return { kind: 'hang', phase: e.phase, text: maskNumbers(e.message) };
  const oops = e?.excerpt && /Oops|BUG: |kernel BUG at|general protection fault|Call Trace:/.test(e.excerpt);
  if (e && (oops || /crashed/.test(e.message))) {
    const frames = e.excerpt ? topFrames(e.excerpt) : [];
    return { kind: 'crash', phase: e.phase, text: frames.length ? frames.join(' < ') : maskNumbers(e.message) };
  }
  if (e && (e.phase === 'dump' || e.phase === 'restore' || e.phase === 'restore-again')) {
    // "criu dump failed (exit 1): Error (criu/mount.c:1234): ..." -> the error line alone.
    const line = e.message.replace(/^criu [a-z-]+ failed \(exit -?\d+\):\s*/, '');
    return { kind: 'criu', phase: e.phase, text: maskNumbers(line) };
  }
  const d = r.differences[0];
  if (d) return { kind: 'difference', text: `${d.kind} ${subject(d)}`.trim() };
  return { kind: 'lab', ...(e ? { phase: e.phase } : {}), text: maskNumbers(e?.message ?? r.reason) };
}

/**
 * What reduce keeps: the outcome and the signature. A known bug's scenario
 * xfails where a copy without its expectation would fail; both are the
 * same failure only with the same outcome.
 */
export interface Failure {
  /** Absent when a --signature without one was given: any failing outcome matches. */
  outcome?: Outcome;
  signature: Signature;
}

export function failureOf(r: Pick<ScenarioResult, 'outcome' | 'reason' | 'differences' | 'error'>): Failure {
  return { outcome: r.outcome, signature: signatureOf(r) };
}

/** "xfail: criu dump: Error (criu/mount.c:N): ...", or the signature alone when no outcome is set. */
export function formatFailure(f: Failure): string {
  return `${f.outcome ? `${f.outcome}: ` : ''}${formatSignature(f.signature)}`;
}

/** Reads formatFailure's output back, with or without the outcome; undefined when it is neither. */
export function parseFailure(line: string): Failure | undefined {
  const m = line.trim().match(/^(fail|error|xfail): (.*)$/);
  const signature = parseSignature(m ? m[2]! : line);
  if (!signature) return undefined;
  return m ? { outcome: m[1] as Outcome, signature } : { signature };
}

/** `got` fails as `want` says: same signature, and same outcome when `want` names one. */
export function sameFailure(want: Failure, got: Failure): boolean {
  return (want.outcome === undefined || want.outcome === got.outcome) && sameSignature(want.signature, got.signature);
}
