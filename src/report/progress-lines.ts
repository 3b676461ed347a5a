import type { CellResult, Phase, RunResult, ScenarioResult } from '../results/result.js';
import { countsText, renderEndSummary } from './end-summary.js';
import { cellReadyText, instanceLabel, scenarioEndText, type ProgressStream, type Verbosity } from './progress-text.js';
import type { Reporter, RunStartInfo } from './reporter.js';

/** Timestamped lines, one per event, so a CI log reads in order. */
export class LineProgress implements Reporter {
  private readonly t0 = Date.now();
  private runDir = '';
  private multiCell = false;
  private done = 0;
  private total = 0;

  constructor(
    private readonly verbosity: Verbosity,
    private readonly out: ProgressStream,
  ) {}

  private line(msg: string): void {
    if (this.verbosity === 'quiet') return;
    const s = ((Date.now() - this.t0) / 1000).toFixed(1).padStart(6);
    this.out.write(`[${s}s] ${msg}\n`);
  }

  onRunStart(info: RunStartInfo): void {
    this.runDir = info.runDir;
    this.multiCell = info.cells.length > 1;
    this.total = info.items ?? info.scenarios.length * info.cells.length;
    const cells = info.cells.map((c) => c.id).join(', ');
    this.line(`run ${info.runId}: ${info.scenarios.length} scenario(s) on ${cells}`);
  }
  onLog(message: string): void {
    this.line(message);
  }
  onCellStart(cell: string, describe: string, instance = 1): void {
    this.line(`${instanceLabel(cell, instance)}: starting ${describe}`);
  }
  onCellReady(c: CellResult, instance = 1): void {
    this.line(cellReadyText(c, instance));
  }
  onScenarioStart(scenario: string, cell: string): void {
    if (this.verbosity === 'verbose') this.line(`${scenario}${this.multiCell ? ` (${cell})` : ''}: start`);
  }
  onPhase(scenario: string, cell: string, phase: Phase): void {
    if (this.verbosity === 'verbose') this.line(`${scenario}${this.multiCell ? ` (${cell})` : ''}: ${phase}`);
  }
  onScenarioEnd(r: ScenarioResult): void {
    this.done++;
    this.line(`[${this.done}/${this.total}] ${scenarioEndText(r, this.multiCell)}`);
    if (this.verbosity === 'verbose')
      this.line(`  phases: ${r.phases.map((p) => `${p.phase} ${(p.ms / 1000).toFixed(1)}`).join(', ')}`);
  }
  onRunEnd(run: RunResult): void {
    if (this.verbosity === 'quiet') {
      this.out.write(
        `${run.exitCode === 0 ? 'ok' : 'not ok'}: ${countsText(run)}; report: ${this.runDir}/index.html\n`,
      );
      return;
    }
    // A pipe has no screen: the summary is sized for a standard terminal.
    for (const l of renderEndSummary(run, this.runDir, 100, 40)) this.out.write(`${l}\n`);
  }
}
