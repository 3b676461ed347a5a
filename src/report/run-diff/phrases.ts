/**
 * The words the text and Markdown renderings of a run diff share: the
 * categories' labels, how a change, a reason and the pairing are said.
 */
import type { Category, Change, Pairing, RunDiff } from './classify.js';
import { CATEGORIES } from './classify.js';
import type { LoadedRun, ResultLike } from './loaded-run.js';

/** The label of a text line and the title of a Markdown section. */
export const LABELS: Record<Category, { text: string; title: string }> = {
  regression: { text: 'REGRESSION', title: 'regression' },
  fix: { text: 'FIXED', title: 'fixed' },
  'no-longer-reproduces': { text: 'NO-LONGER-REPRODUCES', title: 'known bug no longer reproduces' },
  'new-error': { text: 'NEW-ERROR', title: 'new error' },
  changed: { text: 'CHANGED', title: 'still failing, changed' },
  'newly-skipped': { text: 'NEWLY-SKIPPED', title: 'newly skipped' },
  'no-longer-skipped': { text: 'NO-LONGER-SKIPPED', title: 'no longer skipped' },
  'only-baseline': { text: 'ONLY-IN-BASELINE', title: 'only in baseline' },
  'only-new': { text: 'ONLY-IN-NEW', title: 'only in new' },
};

/** One input as the user gave it, and what it resolved to. */
export interface RunSource {
  /** The results.json read, as the user would type it. */
  file: string;
  /** Set when the input was a reports directory and its newest run was taken. */
  note?: string;
  run: LoadedRun;
}

export interface DiffInput {
  baseline: RunSource;
  new: RunSource;
  diff: RunDiff;
}

export function cellText(c: Change, by: Pairing['by']): string {
  return by === 'scenario' ? '' : ` (${c.newCell ?? c.baselineCell})`;
}

/** "pass → fail" with the given arrow; one outcome when they agree. */
export function transition(c: Change, arrow: string): string {
  const from = c.baseline?.outcome;
  const to = c.new?.outcome;
  if (from && to) return from === to ? from : `${from} ${arrow} ${to}`;
  return (from ?? to)!;
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** The reason, or the error's message when the reason is empty. */
export function reasonOf(r: ResultLike): string {
  return oneLine(r.reason || r.error?.message || '(no reason given)');
}

/** "1 regression, 2 fixed, 30 unchanged". */
export function summaryText(d: RunDiff): string {
  const parts = CATEGORIES.filter((c) => d.counts[c] > 0).map((c) => {
    const n = d.counts[c];
    return c === 'regression' ? `${n} regression${n === 1 ? '' : 's'}` : `${n} ${LABELS[c].title}`;
  });
  parts.push(`${d.unchanged} unchanged`);
  return parts.join(', ');
}

/** Lines saying how the results were paired and what was left out. */
export function pairingNotes(p: Pairing): string[] {
  const L: string[] = [];
  if (p.by === 'scenario') {
    const [b, n] = p.compared[0]!;
    L.push(`one cell each: compared ${b} (baseline) with ${n} (new), by scenario`);
  } else if (p.compared.length === 0) {
    L.push('no cell in common: nothing was compared');
  }
  for (const c of p.onlyBaseline)
    L.push(`cell ${c.id} is only in the baseline (${c.results} result${c.results === 1 ? '' : 's'}, not compared)`);
  for (const c of p.onlyNew)
    L.push(`cell ${c.id} is only in the new run (${c.results} result${c.results === 1 ? '' : 's'}, not compared)`);
  return L;
}

export function sideNotes(name: string, s: RunSource): string[] {
  const L: string[] = [];
  if (s.note) L.push(`${name}: ${s.note}`);
  if (!s.run.complete)
    L.push(`${name} run ${s.run.runId} is incomplete (killed or still running): it covers only what finished`);
  return L;
}
