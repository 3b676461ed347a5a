import { OUTCOMES } from '../../results/outcome.js';
import { criuText } from '../criu-text.js';
import type { LoadedRun, ResultLike } from './loaded-run.js';
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

function countsText(run: LoadedRun): string {
  const n = OUTCOMES.map((o) => [o, run.results.filter((r) => r.outcome === o).length] as const).filter(
    ([, k]) => k > 0,
  );
  return n.length ? n.map(([o, k]) => `${k} ${o}`).join(', ') : 'no results';
}

const WIDTH = 100;

/** Wraps prose at WIDTH on spaces; `indent` starts the continuation lines. Words longer than a line stay whole. */
export function wrap(text: string, indent = '', first = ''): string[] {
  const out: string[] = [];
  let line = first;
  for (const word of oneLine(text).split(' ')) {
    const lead = out.length === 0 ? first : indent;
    if (line.length > lead.length && line.length + 1 + word.length > WIDTH) {
      out.push(line);
      line = indent + word;
    } else {
      line = line.length > lead.length ? `${line} ${word}` : line + word;
    }
  }
  out.push(line);
  return out;
}

function cut(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 3)}...` : s;
}

function cellEsc(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/**
 * Markdown ready to paste into a reply to a patch: plain ASCII around what
 * the runs said, no ANSI, lines kept under about 100 characters (table rows
 * cut their reason short; the full one is in the section below). A header
 * naming both runs' kernels and CRIUs, a table of the changes, then for
 * each regression, new error and changed failure the reasons and the first
 * differences or the error's log excerpt.
 */
export function renderMarkdown(x: DiffInput): string {
  const { diff } = x;
  const by = diff.pairing.by;
  const L: string[] = [];
  L.push(`## mountlab diff-runs: ${summaryText(diff)}`, '');
  L.push(`Baseline: run ${x.baseline.run.runId} (${countsText(x.baseline.run)})`);
  L.push(`New: run ${x.new.run.runId} (${countsText(x.new.run)})`, '');
  L.push('| run | cell | kernel | criu | util-linux | accel |', '|---|---|---|---|---|---|');
  for (const [name, s] of [
    ['baseline', x.baseline],
    ['new', x.new],
  ] as const) {
    for (const c of s.run.cells) {
      const f = c.facts ?? {};
      const row = [name, c.id, f.kernel ?? '?', criuText(f), f.utilLinux ?? '?', f.accel ?? '-'];
      L.push(`| ${row.map(cellEsc).join(' | ')} |`);
    }
  }
  const notes = [...sideNotes('Baseline', x.baseline), ...sideNotes('New', x.new), ...pairingNotes(diff.pairing)];
  if (notes.length) {
    L.push('');
    for (const n of notes) L.push(...wrap(n, '  ', '- '));
  }
  L.push('');
  if (diff.changes.length === 0) {
    L.push(`No verdict changed (${diff.unchanged} unchanged).`, '');
    return L.join('\n');
  }
  // One cell compared with itself: the header names it, the column would repeat it.
  const cellCol =
    by === 'cell' &&
    (diff.pairing.compared.length > 1 ||
      diff.changes.some((c) => (c.newCell ?? c.baselineCell) !== diff.pairing.compared[0]?.[0]));
  L.push(`| change | scenario |${cellCol ? ' cell |' : ''} baseline | new | why |`);
  L.push(`|---|---|${cellCol ? '---|' : ''}---|---|---|`);
  for (const c of diff.changes) {
    const why = c.category === 'fix' ? `was: ${reasonOf(c.baseline!)}` : reasonOf((c.new ?? c.baseline)!);
    const row = [
      LABELS[c.category].title,
      c.scenario,
      ...(cellCol ? [c.newCell ?? c.baselineCell ?? ''] : []),
      c.baseline?.outcome ?? '-',
      c.new?.outcome ?? '-',
    ].map(cellEsc);
    // The reason gets what is left of the line, at least 40 characters.
    const head = `| ${row.join(' | ')} | `;
    L.push(`${head}${cellEsc(cut(why, Math.max(40, WIDTH - head.length - 2)))} |`);
  }
  for (const c of diff.changes) {
    if (c.category !== 'regression' && c.category !== 'new-error' && c.category !== 'changed') continue;
    L.push('', `### ${LABELS[c.category].title}: ${c.scenario}${cellText(c, by)}, ${transition(c, '->')}`, '');
    L.push(...wrap(reasonOf(c.baseline!), '  ', 'Baseline: '));
    L.push(...wrap(reasonOf(c.new!), '  ', 'New: '));
    L.push(...details(c.new!));
  }
  L.push('');
  return L.join('\n');
}

const FIRST_DIFFERENCES = 5;
const EXCERPT_LINES = 12;

/** The first differences of a failing result, or its error's phase and log excerpt. */
function details(r: ResultLike): string[] {
  const L: string[] = [];
  if (r.differences.length) {
    const shown = r.differences.slice(0, FIRST_DIFFERENCES);
    L.push(
      '',
      r.differences.length > shown.length
        ? `First ${shown.length} of ${r.differences.length} differences:`
        : 'Differences:',
      '',
    );
    for (const d of shown) L.push(...wrap(d.sentence, '  ', '- '));
  }
  if (r.error) {
    L.push('', ...wrap(r.error.message, '  ', `Error in ${r.error.phase}: `));
    const ex = r.error.excerpt?.split('\n').filter((l) => l.trim() !== '') ?? [];
    if (ex.length) {
      const shown = ex.slice(0, EXCERPT_LINES).map((l) => cut(l.replace(/\x1b\[[0-9;]*m/g, ''), WIDTH));
      L.push(
        '',
        '```',
        ...shown,
        ...(ex.length > shown.length ? [`[${ex.length - shown.length} more lines]`] : []),
        '```',
      );
    }
  }
  return L;
}
