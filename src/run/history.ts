import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readResultsFile } from '../results/read-results.js';
import { RUN_FILES } from '../results/artifacts.js';

/**
 * How long each scenario took last time, from the newest results.json under
 * the reports directory, for longest-first scheduling. Only a guide: no
 * earlier run, or an unreadable one, just means estimates from the
 * scenarios themselves.
 */
export async function loadHistory(outDir: string, newest = 8): Promise<Map<string, number>> {
  const history = new Map<string, number>();
  let dirs: { path: string; mtime: number }[];
  try {
    const names = await readdir(outDir);
    const runs = names.map((n) => join(outDir, n, RUN_FILES.results));
    const mtimeOf = (path: string) =>
      stat(path).then(
        (s) => s.mtimeMs,
        () => -1,
      );
    const stamped = await Promise.all(runs.map(async (path) => ({ path, mtime: await mtimeOf(path) })));
    dirs = stamped.filter((d) => d.mtime >= 0);
  } catch {
    return history;
  }
  // Newest first; an older run only fills in scenarios the newer ones did not run.
  dirs.sort((a, b) => b.mtime - a.mtime);
  for (const d of dirs.slice(0, newest)) {
    try {
      const run = await readResultsFile(d.path);
      const seen = new Map<string, number>();
      for (const r of run.results) {
        // One attempt's time: a --repeat run sums its attempts.
        const ms = r.durationMs / (r.attempts?.length ?? 1);
        seen.set(r.scenario, Math.max(seen.get(r.scenario) ?? 0, ms));
      }
      for (const [k, v] of seen) if (!history.has(k)) history.set(k, v);
    } catch {
      // A run killed mid-write leaves its last complete file; anything else unreadable or
      // not a results file this mountlab reads is skipped.
    }
  }
  return history;
}
