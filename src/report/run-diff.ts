/**
 * What changed between two runs of the corpus (`mountlab diff-runs`): the
 * pure part. A baseline run (say, the unpatched kernel) and a new run (the
 * patched one) are read from their results.json, their results paired, each
 * pair put in exactly one category, and the lot rendered as text, Markdown
 * (for a reply to a patch on a mailing list) or JSON.
 *
 * Pairing: by (scenario, cell). When each run has exactly one cell and the
 * two cell ids differ (vm-debian-6.1 against vm-debian-6.12, the usual
 * "baseline kernel against patched kernel"), by scenario alone. Results in a
 * cell that only one run has are not paired; the cell is named with its
 * result count.
 *
 * The rule (the README's table says the same). Outcomes are ranked by what
 * CRIU did: pass and xpass restored correctly (2), xfail reproduced a known
 * bug (1), fail and error went wrong in a way nobody expected (0); skip did
 * not run. For a pair BASELINE → NEW:
 *
 *   either side skip, the other not  → newly-skipped / no-longer-skipped
 *   NEW xpass, BASELINE not xpass     → no-longer-reproduces (a known bug)
 *   rank went down                    → regression: pass/xpass → xfail/fail/
 *                                       error, xfail → fail/error
 *   rank went up, or xpass → pass     → fix
 *   fail → error                      → new-error
 *   error → fail, or the same fail or error with another reason or error
 *   message                           → changed (both shown)
 *   anything else                     → unchanged (counted, not listed)
 *
 * A scenario present in only one run (in a cell both have) is only-baseline
 * or only-new. Reasons are compared with numbers masked (pids, mount ids,
 * device numbers, CRIU source lines change from run to run and from build
 * to build) except exit codes and signals, so "for 292" against "for 301"
 * is not a change but "exit 1" against "exit 139" is.
 *
 * fail → error is not a regression: CRIU refusing a case it used to restore
 * wrongly is often an improvement; it is listed for a person to judge. Only
 * regressions make the exit code 1.
 */
import type { Outcome } from '../results/outcome.js';
import { OUTCOMES } from '../results/outcome.js';
import { RESULTS_FORMAT } from '../results/result.js';
import type { TargetFacts } from '../results/result.js';
import { criuText } from './criu-text.js';

export const RUN_DIFF_FORMAT = 'mountlab-run-diff/1';

/** The categories, in the order they are printed; the closed set. */
export const CATEGORIES = [
  'regression',
  'fix',
  'no-longer-reproduces',
  'new-error',
  'changed',
  'newly-skipped',
  'no-longer-skipped',
  'only-baseline',
  'only-new',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** The label of a text line and the title of a Markdown section. */
const LABELS: Record<Category, { text: string; title: string }> = {
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

/** The part of a ScenarioResult a diff reads; older or partial files may lack the rest. */
export interface ResultLike {
  scenario: string;
  cell: string;
  outcome: Outcome;
  reason: string;
  error?: { phase: string; message: string; excerpt?: string };
  differences: { sentence: string }[];
}

export interface CellLike {
  id: string;
  /** Absent when the run was cut short before it wrote its cells. */
  facts?: Partial<TargetFacts>;
  error?: string;
}

/** A results.json, checked. */
export interface LoadedRun {
  runId: string;
  complete: boolean;
  /** The run's cells, plus any cell its results name that the list lacks. */
  cells: CellLike[];
  results: ResultLike[];
}

/** A results.json that cannot be used; the message names what is wrong, the caller names the file. */
export class RunFileError extends Error {}

/** Checks a parsed results.json and keeps what a diff needs. */
export function parseRunFile(value: unknown): LoadedRun {
  if (!isObject(value)) throw new RunFileError('not a mountlab results file: expected a JSON object');
  const format = value['format'];
  if (typeof format !== 'string') throw new RunFileError('not a mountlab results file: no "format" field');
  const m = /^mountlab-results\/(\d+)(?:\.\d+)*$/.exec(format);
  if (!m) throw new RunFileError(`not a mountlab results file: format is '${format}', expected '${RESULTS_FORMAT}'`);
  const supported = RESULTS_FORMAT.split('/')[1]!;
  if (m[1] !== supported) {
    throw new RunFileError(`format '${format}' is not supported (this mountlab reads '${RESULTS_FORMAT}'); use the mountlab that wrote it`);
  }
  const rawResults = value['results'];
  if (!Array.isArray(rawResults)) throw new RunFileError('"results" is missing or not a list');
  const results = rawResults.map((r, i) => parseResult(r, i));
  const cells: CellLike[] = [];
  const rawCells = value['cells'];
  if (rawCells !== undefined) {
    if (!Array.isArray(rawCells)) throw new RunFileError('"cells" is not a list');
    rawCells.forEach((c, i) => {
      if (!isObject(c) || typeof c['id'] !== 'string') throw new RunFileError(`cells[${i}] has no "id"`);
      cells.push({
        id: c['id'],
        ...(isObject(c['facts']) ? { facts: c['facts'] as Partial<TargetFacts> } : {}),
        ...(typeof c['error'] === 'string' ? { error: c['error'] } : {}),
      });
    });
  }
  for (const r of results) if (!cells.some((c) => c.id === r.cell)) cells.push({ id: r.cell });
  const seen = new Set<string>();
  for (const r of results) {
    const key = pairKey(r.scenario, r.cell);
    if (seen.has(key)) throw new RunFileError(`scenario '${r.scenario}' has two results on cell '${r.cell}'`);
    seen.add(key);
  }
  const complete = value['complete'] === true;
  // A killed run's file has only format, runId, startedAt, complete and results.
  if (complete && rawCells === undefined) throw new RunFileError('"cells" is missing from a complete run');
  return { runId: typeof value['runId'] === 'string' ? value['runId'] : '(no run id)', complete, cells, results };
}

function parseResult(r: unknown, i: number): ResultLike {
  const where = `results[${i}]`;
  if (!isObject(r)) throw new RunFileError(`${where} is not an object`);
  for (const k of ['scenario', 'cell', 'reason'] as const) {
    if (typeof r[k] !== 'string') throw new RunFileError(`${where} has no "${k}"`);
  }
  const outcome = r['outcome'];
  if (!(OUTCOMES as readonly unknown[]).includes(outcome)) {
    throw new RunFileError(`${where} (${String(r['scenario'])}): outcome ${JSON.stringify(outcome)} is not one of ${OUTCOMES.join(', ')}`);
  }
  const out: ResultLike = {
    scenario: r['scenario'] as string,
    cell: r['cell'] as string,
    outcome: outcome as Outcome,
    reason: r['reason'] as string,
    differences: [],
  };
  const diffs = r['differences'];
  if (Array.isArray(diffs)) {
    for (const d of diffs) if (isObject(d) && typeof d['sentence'] === 'string') out.differences.push({ sentence: d['sentence'] });
  }
  const e = r['error'];
  if (isObject(e) && typeof e['message'] === 'string') {
    out.error = {
      phase: typeof e['phase'] === 'string' ? e['phase'] : '?',
      message: e['message'],
      ...(typeof e['excerpt'] === 'string' ? { excerpt: e['excerpt'] } : {}),
    };
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pairKey(scenario: string, cell: string): string {
  return JSON.stringify([scenario, cell]);
}

// ---------------------------------------------------------------- the diff

/** One listed change. `baseline` is absent for only-new, `new` for only-baseline. */
export interface Change {
  category: Category;
  scenario: string;
  /** The baseline's cell and the new run's; the same id when paired by (scenario, cell). */
  baselineCell?: string;
  newCell?: string;
  baseline?: ResultLike;
  new?: ResultLike;
}

export interface Pairing {
  /** 'cell': by (scenario, cell); 'scenario': one cell each, ids differ, by scenario alone. */
  by: 'cell' | 'scenario';
  /** The cells compared: [baseline id, new id]. */
  compared: [string, string][];
  /** Cells one run has and the other lacks, with how many results each holds (not listed one by one). */
  onlyBaseline: { id: string; results: number }[];
  onlyNew: { id: string; results: number }[];
}

export interface RunDiff {
  pairing: Pairing;
  /** In CATEGORIES order; within a category, in the new run's order (the baseline's for only-baseline). */
  changes: Change[];
  counts: Record<Category, number>;
  unchanged: number;
  /** 1 when there is any regression, else 0. */
  exitCode: 0 | 1;
}

const RANK: Record<Outcome, number> = { pass: 2, xpass: 2, xfail: 1, fail: 0, error: 0, skip: -1 };

/** The category of a pair, by the rule at the top of this file. */
export function classify(a: ResultLike, b: ResultLike): Category | 'unchanged' {
  const from = a.outcome;
  const to = b.outcome;
  if (from === 'skip' || to === 'skip') return from === to ? 'unchanged' : to === 'skip' ? 'newly-skipped' : 'no-longer-skipped';
  if (to === 'xpass' && from !== 'xpass') return 'no-longer-reproduces';
  if (RANK[to] < RANK[from]) return 'regression';
  if (RANK[to] > RANK[from] || (from === 'xpass' && to === 'pass')) return 'fix';
  if (from === 'fail' && to === 'error') return 'new-error';
  if (from === 'error' && to === 'fail') return 'changed';
  if ((to === 'fail' || to === 'error') && whyOf(a) !== whyOf(b)) return 'changed';
  return 'unchanged';
}

/**
 * A result's reason and error message with numbers masked, except exit
 * codes and signals: see the top of this file.
 */
export function whyOf(r: ResultLike): string {
  const mask = (s: string) => s.replace(/(\b(?:exit|signal|SIG[A-Z]+) ?)?(0x[0-9a-f]+|\d+)/gi, (m, keep: string | undefined) => (keep ? m : '#'));
  return JSON.stringify([mask(r.reason), r.error ? r.error.phase : null, r.error ? mask(r.error.message) : null]);
}

export function diffRuns(base: LoadedRun, next: LoadedRun): RunDiff {
  const baseIds = base.cells.map((c) => c.id);
  const newIds = next.cells.map((c) => c.id);
  const byScenario = baseIds.length === 1 && newIds.length === 1 && baseIds[0] !== newIds[0];
  const count = (run: LoadedRun, id: string) => run.results.filter((r) => r.cell === id).length;
  const pairing: Pairing = byScenario
    ? { by: 'scenario', compared: [[baseIds[0]!, newIds[0]!]], onlyBaseline: [], onlyNew: [] }
    : {
        by: 'cell',
        compared: baseIds.filter((id) => newIds.includes(id)).map((id) => [id, id]),
        onlyBaseline: baseIds.filter((id) => !newIds.includes(id)).map((id) => ({ id, results: count(base, id) })),
        onlyNew: newIds.filter((id) => !baseIds.includes(id)).map((id) => ({ id, results: count(next, id) })),
      };
  const shared = new Set(pairing.compared.map(([b]) => b));
  // In scenario pairing every result is in the one compared cell.
  const keyOf = (r: ResultLike) => (byScenario ? r.scenario : pairKey(r.scenario, r.cell));
  const paired = (r: ResultLike) => byScenario || shared.has(r.cell);
  const baseByKey = new Map(base.results.filter(paired).map((r) => [keyOf(r), r]));
  const newKeys = new Set(next.results.filter(paired).map(keyOf));

  const found: Change[] = [];
  let unchanged = 0;
  for (const b of next.results.filter(paired)) {
    const a = baseByKey.get(keyOf(b));
    if (!a) {
      found.push({ category: 'only-new', scenario: b.scenario, newCell: b.cell, new: b });
      continue;
    }
    const category = classify(a, b);
    if (category === 'unchanged') unchanged++;
    else found.push({ category, scenario: b.scenario, baselineCell: a.cell, newCell: b.cell, baseline: a, new: b });
  }
  for (const a of base.results.filter(paired)) {
    if (!newKeys.has(keyOf(a))) found.push({ category: 'only-baseline', scenario: a.scenario, baselineCell: a.cell, baseline: a });
  }
  const changes = CATEGORIES.flatMap((c) => found.filter((x) => x.category === c));
  const counts = Object.fromEntries(CATEGORIES.map((c) => [c, found.filter((x) => x.category === c).length])) as Record<Category, number>;
  return { pairing, changes, counts, unchanged, exitCode: counts.regression > 0 ? 1 : 0 };
}

// ---------------------------------------------------------------- rendering

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

function cellText(c: Change, by: Pairing['by']): string {
  return by === 'scenario' ? '' : ` (${c.newCell ?? c.baselineCell})`;
}

/** "pass → fail" with the given arrow; one outcome when they agree. */
function transition(c: Change, arrow: string): string {
  const from = c.baseline?.outcome;
  const to = c.new?.outcome;
  if (from && to) return from === to ? from : `${from} ${arrow} ${to}`;
  return (from ?? to)!;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** The reason, or the error's message when the reason is empty. */
function reasonOf(r: ResultLike): string {
  return oneLine(r.reason || r.error?.message || '(no reason given)');
}

function factsText(c: CellLike): string {
  const f = c.facts;
  if (!f) return `${c.id}${c.error ? ` (did not start: ${oneLine(c.error)})` : ''}`;
  const parts = [f.kernel ? `kernel ${f.kernel}` : undefined, f.criu ? `criu ${criuText(f)}` : undefined].filter(Boolean);
  return `${c.id}: ${parts.join(', ') || 'no facts'}${c.error ? ` (did not start: ${oneLine(c.error)})` : ''}`;
}

function countsText(run: LoadedRun): string {
  const n = OUTCOMES.map((o) => [o, run.results.filter((r) => r.outcome === o).length] as const).filter(([, k]) => k > 0);
  return n.length ? n.map(([o, k]) => `${k} ${o}`).join(', ') : 'no results';
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
function pairingNotes(p: Pairing): string[] {
  const L: string[] = [];
  if (p.by === 'scenario') {
    const [b, n] = p.compared[0]!;
    L.push(`one cell each: compared ${b} (baseline) with ${n} (new), by scenario`);
  } else if (p.compared.length === 0) {
    L.push('no cell in common: nothing was compared');
  }
  for (const c of p.onlyBaseline) L.push(`cell ${c.id} is only in the baseline (${c.results} result${c.results === 1 ? '' : 's'}, not compared)`);
  for (const c of p.onlyNew) L.push(`cell ${c.id} is only in the new run (${c.results} result${c.results === 1 ? '' : 's'}, not compared)`);
  return L;
}

function sideNotes(name: string, s: RunSource): string[] {
  const L: string[] = [];
  if (s.note) L.push(`${name}: ${s.note}`);
  if (!s.run.complete) L.push(`${name} run ${s.run.runId} is incomplete (killed or still running): it covers only what finished`);
  return L;
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
  for (const [name, s] of [['baseline', x.baseline], ['new', x.new]] as const) {
    L.push(`${`${name}:`.padEnd(10)}${s.file} (run ${s.run.runId}; ${s.run.cells.map(factsText).join('; ') || 'no cells'})`);
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
  return L.join('\n') + '\n';
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
  for (const [name, s] of [['baseline', x.baseline], ['new', x.new]] as const) {
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
  const cellCol = by === 'cell' && (diff.pairing.compared.length > 1 || diff.changes.some((c) => (c.newCell ?? c.baselineCell) !== diff.pairing.compared[0]?.[0]));
  L.push(`| change | scenario |${cellCol ? ' cell |' : ''} baseline | new | why |`);
  L.push(`|---|---|${cellCol ? '---|' : ''}---|---|---|`);
  for (const c of diff.changes) {
    const why = c.category === 'fix' ? `was: ${reasonOf(c.baseline!)}` : reasonOf((c.new ?? c.baseline)!);
    const row = [LABELS[c.category].title, c.scenario, ...(cellCol ? [c.newCell ?? c.baselineCell ?? ''] : []), c.baseline?.outcome ?? '-', c.new?.outcome ?? '-'].map(cellEsc);
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
    L.push('', r.differences.length > shown.length ? `First ${shown.length} of ${r.differences.length} differences:` : 'Differences:', '');
    for (const d of shown) L.push(...wrap(d.sentence, '  ', '- '));
  }
  if (r.error) {
    L.push('', ...wrap(r.error.message, '  ', `Error in ${r.error.phase}: `));
    const ex = r.error.excerpt?.split('\n').filter((l) => l.trim() !== '') ?? [];
    if (ex.length) {
      const shown = ex.slice(0, EXCERPT_LINES).map((l) => cut(l.replace(/\x1b\[[0-9;]*m/g, ''), WIDTH));
      L.push('', '```', ...shown, ...(ex.length > shown.length ? [`[${ex.length - shown.length} more lines]`] : []), '```');
    }
  }
  return L;
}

/** The --json document: the diff with both runs' identities. */
export function renderJson(x: DiffInput): string {
  const side = (s: RunSource) => ({
    file: s.file,
    ...(s.note ? { note: s.note } : {}),
    runId: s.run.runId,
    complete: s.run.complete,
    cells: s.run.cells,
  });
  const strip = (r: ResultLike | undefined) =>
    r ? { outcome: r.outcome, reason: r.reason, ...(r.error ? { error: { phase: r.error.phase, message: r.error.message } } : {}), differences: r.differences.map((d) => d.sentence) } : undefined;
  return (
    JSON.stringify(
      {
        format: RUN_DIFF_FORMAT,
        baseline: side(x.baseline),
        new: side(x.new),
        pairing: x.diff.pairing,
        counts: { ...x.diff.counts, unchanged: x.diff.unchanged },
        changes: x.diff.changes.map((c) => ({
          category: c.category,
          scenario: c.scenario,
          ...(c.baselineCell !== undefined ? { baselineCell: c.baselineCell } : {}),
          ...(c.newCell !== undefined ? { newCell: c.newCell } : {}),
          ...(c.baseline ? { baseline: strip(c.baseline) } : {}),
          ...(c.new ? { new: strip(c.new) } : {}),
        })),
        exitCode: x.diff.exitCode,
      },
      null,
      2,
    ) + '\n'
  );
}
