import type { CellResult, Phase, RunResult, ScenarioResult } from '../results/result.js';

export interface RunStartInfo {
  runId: string;
  runDir: string;
  scenarios: { name: string; file: string }[];
  /**
   * The cells the run will use, with what is known of them before their
   * targets start: the kind of target; the rest of the facts come with
   * onCellReady.
   */
  cells: CellResult[];
  /** Scenario × cell items this run will run (a shard may hold fewer than scenarios × cells). */
  items?: number;
}

/**
 * Hooks a reporter may implement (after Playwright's reporter interface):
 * every hook is optional, and several reporters are fanned out by Reporters.
 */
export interface Reporter {
  onRunStart?(info: RunStartInfo): void | Promise<void>;
  /** A target of the cell is starting; `instance` tells apart the targets of parallel or repeated boots. */
  onCellStart?(cell: string, describe: string, instance?: number): void;
  onCellReady?(cell: CellResult, instance?: number): void;
  onScenarioStart?(scenario: string, cell: string): void;
  onPhase?(scenario: string, cell: string, phase: Phase): void;
  onScenarioEnd?(result: ScenarioResult): void | Promise<void>;
  onRunEnd?(run: RunResult): void | Promise<void>;
  /** Free-form progress (image build lines, accelerator choice). */
  onLog?(message: string): void;
}

type Hook = keyof Reporter;

/** A reporter's hook that threw: the run went on without it. */
export interface ReporterFailure {
  reporter: string;
  hook: Hook;
  message: string;
}

/**
 * Fans every hook out to a list of reporters, as Playwright's multiplexer
 * does: a reporter that throws (a full disk under summary.md, a bug in one
 * renderer) must not end the run nor keep the others from their hook. The
 * failure is recorded, said through the other reporters' onLog, and the
 * reporter gets its later hooks as usual.
 */
export class Reporters implements Reporter {
  readonly failures: ReporterFailure[] = [];
  constructor(private readonly list: Reporter[]) {}

  private failed(r: Reporter, hook: Hook, e: unknown): void {
    const f = {
      reporter: r.constructor?.name || 'reporter',
      hook,
      message: e instanceof Error ? e.message : String(e),
    };
    this.failures.push(f);
    // Said by the others: the failing one may be the one that would print it.
    for (const o of this.list) {
      if (o === r) continue;
      try {
        o.onLog?.(`reporter ${f.reporter} failed in ${hook}: ${f.message}; the run goes on without it`);
      } catch {
        /* a second failure while reporting the first: recorded above already */
      }
    }
  }

  private each(hook: Hook, call: (r: Reporter) => void): void {
    for (const r of this.list) {
      try {
        call(r);
      } catch (e) {
        this.failed(r, hook, e);
      }
    }
  }

  private async eachAsync(hook: Hook, call: (r: Reporter) => void | Promise<void>): Promise<void> {
    for (const r of this.list) {
      try {
        await call(r);
      } catch (e) {
        this.failed(r, hook, e);
      }
    }
  }

  onRunStart(info: RunStartInfo): Promise<void> {
    return this.eachAsync('onRunStart', (r) => r.onRunStart?.(info));
  }
  onCellStart(cell: string, describe: string, instance?: number): void {
    this.each('onCellStart', (r) => r.onCellStart?.(cell, describe, instance));
  }
  onCellReady(cell: CellResult, instance?: number): void {
    this.each('onCellReady', (r) => r.onCellReady?.(cell, instance));
  }
  onScenarioStart(scenario: string, cell: string): void {
    this.each('onScenarioStart', (r) => r.onScenarioStart?.(scenario, cell));
  }
  onPhase(scenario: string, cell: string, phase: Phase): void {
    this.each('onPhase', (r) => r.onPhase?.(scenario, cell, phase));
  }
  onScenarioEnd(result: ScenarioResult): Promise<void> {
    return this.eachAsync('onScenarioEnd', (r) => r.onScenarioEnd?.(result));
  }
  onRunEnd(run: RunResult): Promise<void> {
    return this.eachAsync('onRunEnd', (r) => r.onRunEnd?.(run));
  }
  onLog(message: string): void {
    this.each('onLog', (r) => r.onLog?.(message));
  }
}
