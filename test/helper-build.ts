import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../src/paths.js';

/**
 * Builds vm/helper with the host's gcc into `dir` and returns its path:
 * every .c file of the directory, as vm/build-image.sh builds it (without
 * -static, which the host's libc may lack; -Werror so a warning fails the
 * test). gcc is part of what ./mountlab installs; a missing gcc fails here,
 * loudly, rather than skipping.
 */
export function buildHelper(dir: string): string {
  const out = join(dir, 'mountlab-helper');
  const sources = readdirSync(assetPath('vm', 'helper'))
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => assetPath('vm', 'helper', f));
  execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', out, ...sources], { stdio: ['ignore', 'inherit', 'inherit'] });
  return out;
}
