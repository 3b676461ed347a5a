import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root, found by walking up from this module. Code runs from
 * dist/, but assets (the schema, vm/ scripts, guest files) are read from the
 * source tree so there is one copy of each.
 */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'vm'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`mountlab: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();

export const assetPath = (...parts: string[]): string => join(packageRoot, ...parts);

/** Whether `p` is a regular file (following symlinks); false when it cannot be looked at. */
export async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Whether `p` is a directory (following symlinks); false when it cannot be looked at. */
export async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
