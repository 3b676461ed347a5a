import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A small JSON file of measured answers by key (the KVM probe's, the CRIU
 * preflight's): what is costly to measure and holds for as long as its key
 * does. A missing or unreadable file is an empty cache.
 */
export function readAnswer<T>(file: string, key: string): T | undefined {
  return readAll<T>(file)[key];
}

/** Adds one answer; written to a temp file and renamed, so a killed run leaves the old file whole. */
export async function storeAnswer<T>(file: string, key: string, answer: T): Promise<void> {
  const all = readAll<T>(file);
  all[key] = answer;
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(all, null, 2));
  await rename(tmp, file);
}

function readAll<T>(file: string): Record<string, T> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, T>;
  } catch {
    return {};
  }
}
