import { criuText } from '../criu-text.js';
import type { CellLike } from './loaded-run.js';
import {
  LABELS,
  cellText,
  oneLine,
  pairingNotes,
  reasonOf,
  sideNotes,
  summaryText,
  transition,
  type DiffInput,
} from './phrases.js';

function factsText(c: CellLike): string {
  const f = c.facts;
  if (!f) return `${c.id}${c.error ? ` (did not start: ${oneLine(c.error)})` : ''}`;
  const parts = [f.kernel ? `kernel ${f.kernel}` : undefined, f.criu ? `criu ${criuText(f)}` : undefined].filter(
    Boolean,
  );
  return `${c.id}: ${parts.join(', ') || 'no facts'}${c.error ? ` (did not start: ${oneLine(c.error)})` : ''}`;
}

/**
 * The human text: who was compared, one line per change
 * (`REGRESSION name (cell): pass → fail: reason`, a `was:` line under those
 * whose old reason matters), and a summary line last.
 */
export function renderText(x: DiffInput): string {
  const { diff } = x;
  const by = diff.pairing.by;
  const L: string[] = [];
  for (const [name, s] of [
    ['baseline', x.baseline],
    ['new', x.new],
  ] as const) {
    L.push(
      `${`${name}:`.padEnd(10)}${s.file} (run ${s.run.runId}; ${s.run.cells.map(factsText).join('; ') || 'no cells'})`,
    );
  }
  const notes = [...sideNotes('baseline', x.baseline), ...sideNotes('new', x.new), ...pairingNotes(diff.pairing)];
  L.push(...notes.map((n) => `note: ${n}`), '');
  for (const c of diff.changes) {
    const head = `${LABELS[c.category].text} ${c.scenario}${cellText(c, by)}: ${transition(c, '→')}`;
    switch (c.category) {
      case 'fix':
        L.push(`${head} (was: ${reasonOf(c.baseline!)})`);
        break;
      case 'new-error':
      case 'changed':
        L.push(`${head}: ${reasonOf(c.new!)}`, `    was: ${reasonOf(c.baseline!)}`);
        break;
      case 'only-baseline':
        L.push(`${head}: ${reasonOf(c.baseline!)}`);
        break;
      default:
        L.push(`${head}: ${reasonOf(c.new!)}`);
    }
  }
  if (diff.changes.length === 0) L.push('no verdict changed');
  L.push(summaryText(diff));
  return `${L.join('\n')}\n`;
}
