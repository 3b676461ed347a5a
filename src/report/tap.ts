import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RunResult, ScenarioResult } from '../results/result.js';
import { RUN_FILES } from '../results/artifacts.js';
import { writeAtomic } from './atomic.js';
import { XPASS_MESSAGE } from './junit.js';
import type { Reporter } from './reporter.js';

/** results.tap: TAP version 13 (what KTAP grew from), one test point per scenario x cell, with YAML diagnostics. */
export class TapReporter implements Reporter {
  constructor(private readonly runDir: string) {}

  async onRunEnd(run: RunResult): Promise<void> {
    await writeAtomic(join(this.runDir, RUN_FILES.tap), renderTap(run));
  }
}

/** TAP descriptions end at " #" (a directive) and at a newline: neither may appear inside one. */
function description(r: ScenarioResult): string {
  return `${r.cell}: ${r.scenario}`.replace(/\s+/g, ' ').replace(/#/g, '\\#');
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * How each outcome maps onto TAP: pass is ok; skip is ok # SKIP; xfail is
 * not ok # TODO (an expected failure, which TAP does not count); fail and
 * error are not ok; xpass is not ok without a directive, because a known
 * bug that no longer reproduces fails the run (exit 1), where TAP's
 * "ok # TODO" would only be a bonus.
 */
export function renderTap(run: RunResult): string {
  const out = ['TAP version 13', `1..${run.results.length}`];
  run.results.forEach((r, i) => {
    const n = i + 1;
    const d = description(r);
    switch (r.outcome) {
      case 'pass':
        out.push(`ok ${n} - ${d}`);
        break;
      case 'skip':
        out.push(`ok ${n} - ${d} # SKIP ${oneLine(r.reason)}`);
        break;
      case 'xfail':
        out.push(`not ok ${n} - ${d} # TODO ${oneLine(r.reason)}`);
        break;
      default:
        out.push(`not ok ${n} - ${d}`);
        out.push(...diagnostics(r));
    }
  });
  const counts = Object.entries(run.counts)
    .filter(([, c]) => c > 0)
    .map(([o, c]) => `${c} ${o}`)
    .join(', ');
  out.push(`# mountlab run ${run.runId}: ${counts || 'no scenarios'}${run.complete ? '' : ' (interrupted)'}`, '');
  return out.join('\n');
}

/** The YAML block under a failing test point, indented by two spaces. */
function diagnostics(r: ScenarioResult): string[] {
  const doc: Record<string, unknown> = {
    outcome: r.outcome,
    message: r.outcome === 'xpass' ? XPASS_MESSAGE : r.reason,
    file: r.file,
    expected: r.expected,
  };
  if (r.differences.length) doc.differences = r.differences.map((x) => x.sentence);
  if (r.error)
    doc.error = {
      phase: r.error.phase,
      message: r.error.message,
      ...(r.error.excerpt ? { excerpt: r.error.excerpt } : {}),
    };
  const yaml = stringify(doc, { lineWidth: 0 }).trimEnd();
  return ['  ---', ...yaml.split('\n').map((l) => `  ${l}`), '  ...'];
}
