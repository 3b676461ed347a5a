import type { CellResult, ScenarioResult } from '../results/result.js';
import { duration } from './end-summary.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/**
 * A cell's target by instance: "vm-x" for the first boot of the run,
 * "vm-x #3" for later ones (parallel or fresh targets).
 */
export function instanceLabel(cell: string, instance: number): string {
  return instance > 1 ? `${cell} #${instance}` : cell;
}

export function cellReadyText(c: CellResult, instance = 1): string {
  const f = c.facts;
  return (
    `${instanceLabel(c.id, instance)}: ready in ${(f.readyMs / 1000).toFixed(1)} s: ` +
    `kernel ${f.kernel}, criu ${f.criu}${f.accel ? `, ${f.accel.toUpperCase()}` : ''}` +
    `${f.criuCheck === 'ok' ? '' : ' (criu check failed)'}`
  );
}

export function scenarioEndText(r: ScenarioResult, multiCell: boolean): string {
  return (
    `${r.outcome.toUpperCase()} ${r.scenario}${multiCell ? ` (${r.cell})` : ''} in ${duration(r.durationMs)}` +
    `${r.outcome === 'pass' ? '' : `: ${r.reason.split('\n')[0]}`}`
  );
}
