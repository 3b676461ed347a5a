import type { CellResult, Phase, RunResult, ScenarioResult } from '../run/result.js';
import type { Reporter, RunStartInfo } from './reporter.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

/**
 * Progress on stderr: timestamped lines, one per event, so it reads the same
 * in a terminal and in a CI log.
 */
export class ProgressReporter implements Reporter {
  private readonly t0 = Date.now();
  private runDir = '';

  constructor(private readonly verbosity: Verbosity, private readonly out: NodeJS.WritableStream = process.stderr) {}

  private line(msg: string): void {
    if (this.verbosity === 'quiet') return;
    const s = ((Date.now() - this.t0) / 1000).toFixed(1).padStart(6);
    this.out.write(`[${s}s] ${msg}\n`);
  }

  onRunStart(info: RunStartInfo): void {
    this.runDir = info.runDir;
    this.line(`run ${info.runId}: ${info.scenarios.length} scenario(s) on ${info.cells.join(', ')}`);
  }
  onLog(message: string): void {
    this.line(message);
  }
  onCellStart(cell: string, describe: string): void {
    this.line(`${cell}: starting ${describe}`);
  }
  onCellReady(c: CellResult): void {
    const f = c.facts;
    this.line(`${c.id}: ready in ${(f.readyMs / 1000).toFixed(1)} s: kernel ${f.kernel}, criu ${f.criu}${f.accel ? `, ${f.accel.toUpperCase()}` : ''}${f.criuCheck === 'ok' ? '' : ' (criu check failed)'}`);
  }
  onScenarioStart(scenario: string): void {
    if (this.verbosity === 'verbose') this.line(`${scenario}: start`);
  }
  onPhase(scenario: string, _cell: string, phase: Phase): void {
    if (this.verbosity === 'verbose') this.line(`${scenario}: ${phase}`);
  }
  onScenarioEnd(r: ScenarioResult): void {
    const phases = r.phases.map((p) => `${p.phase} ${(p.ms / 1000).toFixed(1)}`).join(', ');
    this.line(`${r.scenario}: ${r.outcome.toUpperCase()} in ${(r.durationMs / 1000).toFixed(1)} s${r.outcome === 'pass' ? '' : `: ${r.reason}`}`);
    if (this.verbosity === 'verbose') this.line(`  phases: ${phases}`);
  }
  onRunEnd(run: RunResult): void {
    if (this.verbosity === 'quiet') {
      this.out.write(`${run.exitCode === 0 ? 'ok' : 'not ok'}: ${this.counts(run)}\n`);
      return;
    }
    const bad = run.results.filter((r) => r.outcome === 'fail' || r.outcome === 'error' || r.outcome === 'xpass');
    this.out.write('\n');
    for (const r of bad) this.out.write(`  ${r.outcome.toUpperCase()} ${r.scenario} (${r.cell}): ${r.reason}\n`);
    this.out.write(`${this.counts(run)} in ${(run.durationMs / 1000).toFixed(1)} s${run.complete ? '' : ' (interrupted)'}\n`);
    this.out.write(`report: ${this.runDir}/summary.md  results: ${this.runDir}/results.json\n`);
  }
  private counts(run: RunResult): string {
    return Object.entries(run.counts)
      .filter(([, n]) => n > 0)
      .map(([o, n]) => `${n} ${o}`)
      .join(', ') || 'no scenarios';
  }
}
