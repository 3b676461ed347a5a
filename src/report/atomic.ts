import { rename, rm, writeFile } from 'node:fs/promises';

/** Writes in flight per path: parallel scenarios end at the same time and rewrite the same reports. */
const pending = new Map<string, Promise<void>>();
let serial = 0;

/**
 * Write-then-rename, so a reader (or a killed run) never sees half a file.
 * Writes to one path are queued, so the last one asked for is the one that
 * stays, and each has its own temporary name, so two never rename the same.
 */
export function writeAtomic(path: string, content: string): Promise<void> {
  const previous = pending.get(path) ?? Promise.resolve();
  const tmp = `${path}.tmp-${process.pid}-${++serial}`;
  const mine = previous
    .catch(() => {})
    .then(async () => {
      try {
        await writeFile(tmp, content);
        await rename(tmp, path);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    });
  pending.set(path, mine);
  void mine
    .finally(() => {
      if (pending.get(path) === mine) pending.delete(path);
    })
    .catch(() => {});
  return mine;
}
