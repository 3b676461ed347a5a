import { rename, writeFile } from 'node:fs/promises';

/** Write-then-rename, so a reader (or a killed run) never sees half a file. */
export async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}
