import type { CellResult, Phase, RunResult, ScenarioResult } from '../results/result.js';
import { renderEndSummary } from './end-summary.js';
import { cellReadyText, instanceLabel, scenarioEndText, type ProgressStream, type Verbosity } from './progress-text.js';
import type { Reporter, RunStartInfo } from './reporter.js';

const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
/** Redraws per second: enough for a ticking clock, few enough for a slow ssh terminal. */
const REFRESH_MS = 250;

interface Activity {
  label: string;
  /** The phase being run, or what the cell is doing ("boot"). */
  phase: string;
  started: number;
  phaseStarted: number;
}

/**
 * A terminal view: finished scenarios scroll up as permanent lines, and a
 * block at the bottom, redrawn in place, shows what each cell is doing now,
 * its phase and how long it has taken. Only ANSI sequences every terminal
 * emulator has (cursor up, erase below, hide/show cursor) are used.
 */
export class LiveProgress implements Reporter {
  private readonly active = new Map<string, Activity>();
  private runDir = '';
  private multiCell = false;
  private done = 0;
  private total = 0;
  private counts = new Map<string, number>();
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly restoreCursor = () => this.out.write('\x1b[?25h');

  constructor(
    private readonly verbosity: Verbosity,
    private readonly out: ProgressStream,
    private readonly now: () => number = Date.now,
  ) {}

  private get columns(): number {
    return this.out.columns && this.out.columns > 10 ? this.out.columns : 80;
  }
  private get rows(): number {
    return this.out.rows && this.out.rows > 5 ? this.out.rows : 24;
  }
  private fit(s: string): string {
    // One column spare: writing the last column makes some terminals wrap, which breaks the cursor-up count.
    return s.length > this.columns - 1 ? `${s.slice(0, this.columns - 2)}…` : s;
  }

  /** Erases the live block, prints permanent lines, draws the block again. */
  private render(permanent: string[] = []): void {
    let s = this.drawn ? `\x1b[${this.drawn}F\x1b[J` : '';
    for (const l of permanent) s += `${this.fit(l)}\n`;
    const block = this.block();
    for (const l of block) s += `${l}\n`;
    this.drawn = block.length;
    this.out.write(s);
  }

  private block(): string[] {
    const t = this.now();
    const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const spin = SPINNER[this.frame % SPINNER.length]!;
    const lines: string[] = [];
    for (const a of this.active.values()) {
      // The scenario's total time only where there is room for it: the phase clock is what shows a hang.
      const total = this.columns >= 90 ? `  (${secs(t - a.started)})` : '';
      const right = `${a.phase.padEnd(14)} ${secs(t - a.phaseStarted).padStart(7)}${total}`;
      const room = this.columns - 1 - right.length - 4;
      const label = a.label.length > room ? `${a.label.slice(0, Math.max(1, room - 1))}…` : a.label.padEnd(room);
      lines.push(this.fit(` ${spin} ${label} ${right}`));
    }
    const counts = [...this.counts.entries()].map(([o, n]) => `${n} ${o}`).join(', ');
    lines.push(this.fit(`   ${this.done}/${this.total} done${counts ? `: ${counts}` : ''}`));
    return lines;
  }

  onRunStart(info: RunStartInfo): void {
    this.runDir = info.runDir;
    this.multiCell = info.cells.length > 1;
    this.total = info.items ?? info.scenarios.length * info.cells.length;
    this.out.write('\x1b[?25l');
    process.once('exit', this.restoreCursor);
    this.timer = setInterval(() => {
      this.frame++;
      this.render();
    }, REFRESH_MS);
    this.timer.unref();
    const cells = info.cells.map((c) => c.id).join(', ');
    this.render([`run ${info.runId}: ${info.scenarios.length} scenario(s) on ${cells}`]);
  }
  onLog(message: string): void {
    this.render([message]);
  }
  onCellStart(cell: string, describe: string, instance = 1): void {
    const t = this.now();
    this.active.set(`cell:${cell}#${instance}`, {
      label: instanceLabel(cell, instance),
      phase: 'boot',
      started: t,
      phaseStarted: t,
    });
    this.render([`${instanceLabel(cell, instance)}: starting ${describe}`]);
  }
  onCellReady(c: CellResult, instance = 1): void {
    this.active.delete(`cell:${c.id}#${instance}`);
    this.render([cellReadyText(c, instance)]);
  }
  onScenarioStart(scenario: string, cell: string): void {
    const t = this.now();
    this.active.set(`${cell}\0${scenario}`, {
      label: this.multiCell ? `${scenario} (${cell})` : scenario,
      phase: 'start',
      started: t,
      phaseStarted: t,
    });
    this.render();
  }
  onPhase(scenario: string, cell: string, phase: Phase): void {
    const a = this.active.get(`${cell}\0${scenario}`);
    if (!a) return;
    a.phase = phase;
    a.phaseStarted = this.now();
    this.render(this.verbosity === 'verbose' ? [`  ${a.label}: ${phase}`] : []);
  }
  onScenarioEnd(r: ScenarioResult): void {
    this.active.delete(`${r.cell}\0${r.scenario}`);
    this.done++;
    this.counts.set(r.outcome, (this.counts.get(r.outcome) ?? 0) + 1);
    this.render([scenarioEndText(r, this.multiCell)]);
  }
  onRunEnd(run: RunResult): void {
    clearInterval(this.timer);
    this.active.clear();
    // Replace the live block with the summary; the cursor comes back.
    const erase = this.drawn ? `\x1b[${this.drawn}F\x1b[J` : '';
    this.drawn = 0;
    this.out.write(
      `${
        erase +
        renderEndSummary(run, this.runDir, this.columns, this.rows)
          .map((l) => `${l}\n`)
          .join('')
      }\x1b[?25h`,
    );
    process.off('exit', this.restoreCursor);
  }
}
