import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/**
 * A temporary directory that removeScratch() deletes. Every test that needs
 * one uses this, and calls removeScratch in an `after` hook, so a test run
 * leaves nothing in /tmp (the lab promises that of itself; its tests too).
 */
export function scratchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `mountlab-${prefix}-`));
  made.push(d);
  return d;
}

export function removeScratch(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
