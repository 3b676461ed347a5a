import { relative, isAbsolute, join } from 'node:path';
import { bySeverity, isExpected } from '../results/outcome.js';
import type { RunResult } from '../results/result.js';
import { RUN_FILES } from '../results/artifacts.js';

/**
 * The end-of-run summary: counts, each failing scenario's first explanation
 * line, and where the report is. It must fit on one screen (`rows` lines)
 * and within `columns`, so a long failure list is cut with a pointer to
 * summary.md instead of scrolling the counts away.
 */
export function renderEndSummary(run: RunResult, runDir: string, columns = 80, rows = 24): string[] {
  const fit = (s: string) => (s.length > columns - 1 ? `${s.slice(0, columns - 2)}…` : s);
  // What a person has to act on, the most severe first.
  const bad = run.results.filter((r) => !isExpected(r.outcome)).sort((a, b) => bySeverity(a.outcome, b.outcome));
  const head =
    `${countsText(run)} in ${duration(run.durationMs)}` +
    `${run.complete ? '' : ' (interrupted)'}; exit ${run.exitCode}`;
  const beside = [RUN_FILES.summary, RUN_FILES.results, RUN_FILES.junit, RUN_FILES.tap];
  const tail = [`report: ${shown(join(runDir, RUN_FILES.html))}`, `        ${beside.join(', ')} beside it`];
  // Room for the list: the screen less the head, the tail, a blank line and the "more" line.
  const room = Math.max(1, rows - tail.length - 4);
  const lines = [''];
  const multiCell = new Set(run.results.map((r) => r.cell)).size > 1;
  for (const r of bad.slice(0, bad.length > room ? room - 1 : room)) {
    lines.push(
      fit(
        `  ${r.outcome.toUpperCase().padEnd(5)} ${r.scenario}` +
          `${multiCell ? ` (${r.cell})` : ''}: ${firstLine(r.reason)}`,
      ),
    );
  }
  if (bad.length > room) lines.push(`  ... and ${bad.length - (room - 1)} more in summary.md`);
  lines.push(fit(head), ...tail.map(fit));
  return lines;
}

export function countsText(run: RunResult): string {
  return (
    Object.entries(run.counts)
      .filter(([, n]) => n > 0)
      .map(([o, n]) => `${n} ${o}`)
      .join(', ') || 'no scenarios'
  );
}

/** "7m 12s", "4.6 s". */
export function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? '';
}

/** Relative to where mountlab runs when below it, so it can be pasted into the next command. */
function shown(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}
