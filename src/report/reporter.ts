import type { CellResult, Phase, RunResult, ScenarioResult } from '../run/result.js';

export interface RunStartInfo {
  runId: string;
  runDir: string;
  scenarios: { name: string; file: string }[];
  cells: string[];
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

export class Reporters implements Reporter {
  constructor(private readonly list: Reporter[]) {}

  async onRunStart(info: RunStartInfo): Promise<void> {
    for (const r of this.list) await r.onRunStart?.(info);
  }
  onCellStart(cell: string, describe: string, instance?: number): void {
    for (const r of this.list) r.onCellStart?.(cell, describe, instance);
  }
  onCellReady(cell: CellResult, instance?: number): void {
    for (const r of this.list) r.onCellReady?.(cell, instance);
  }
  onScenarioStart(scenario: string, cell: string): void {
    for (const r of this.list) r.onScenarioStart?.(scenario, cell);
  }
  onPhase(scenario: string, cell: string, phase: Phase): void {
    for (const r of this.list) r.onPhase?.(scenario, cell, phase);
  }
  async onScenarioEnd(result: ScenarioResult): Promise<void> {
    for (const r of this.list) await r.onScenarioEnd?.(result);
  }
  async onRunEnd(run: RunResult): Promise<void> {
    for (const r of this.list) await r.onRunEnd?.(run);
  }
  onLog(message: string): void {
    for (const r of this.list) r.onLog?.(message);
  }
}
