import { randomBytes } from 'node:crypto';

/**
 * A run's id and directory name: its start time in UTC to the second, then
 * 4 hex digits so that two runs started in the same second differ
 * ("20261203-171236-36a3"). Sorting names sorts runs by start time, which
 * `mountlab diff-runs` and the history of durations rely on. `kind` marks
 * runs that are not plain `run`s ("merged-...", "verify-...").
 */
export function newRunId(kind?: 'merged' | 'verify', at = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${kind ? `${kind}-` : ''}${stamp}-${randomBytes(2).toString('hex')}`;
}
