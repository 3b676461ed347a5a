import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TargetError } from '../errors.js';
import { assetPath } from '../paths.js';
import type { ExecOptions, ExecResult } from './exec.js';
import type { TargetFacts, TargetKind } from '../results/result.js';
import { cacheRoot } from './vm/image.js';

/** Where labctl lives in every target. /run is a tmpfs, so it goes with the guest. */
export const LABCTL = '/run/mountlab/labctl';

/** Parses `labctl info` (key=value lines). */
export function parseFacts(text: string, target: TargetKind): TargetFacts {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  // criu's Makefile writes GitID 0 when it was built outside git.
  const gitId = kv.get('criu_gitid');
  return {
    ...(gitId && gitId !== '0' ? { criuGitId: gitId } : {}),
    target,
    kernel: kv.get('kernel') || '?',
    criu: kv.get('criu') || '?',
    criuCheck: kv.get('criu_check') === 'ok' ? 'ok' : 'failed',
    utilLinux: kv.get('util_linux') || '?',
    readyMs: 0,
  };
}

interface Execer {
  exec(cmd: readonly string[] | string, opts: ExecOptions): Promise<ExecResult>;
}

/**
 * Uploads labctl and reads the guest's facts in one round trip (each one
 * costs about 0.2 s under TCG). `criu check` takes 2 s more and gives the
 * same answer for the same kernel and criu, so its answer is cached per
 * image (cacheKey) once measured.
 */
export async function installLabctl(t: Execer, image: { id: string; manifest: { kernelRelease: string } }, kind: TargetKind = 'vm'): Promise<TargetFacts> {
  const cacheFile = join(cacheRoot(), 'criu-check', `${image.id}-${image.manifest.kernelRelease}`);
  let cached: string | undefined;
  try {
    cached = readFileSync(cacheFile, 'utf8').trim();
  } catch {
    /* not measured yet */
  }
  const script = readFileSync(assetPath('vm', 'runtime', 'labctl'));
  const cmd = `mkdir -p /run/mountlab && cat > ${LABCTL} && chmod 0755 ${LABCTL} && ${LABCTL} info${cached ? '' : ' --check'}`;
  const r = await t.exec(cmd, { stdin: script, timeoutMs: 60_000, label: 'install labctl' });
  if (r.code !== 0) throw new TargetError(`cannot install labctl in the guest: ${r.stderr.trim() || `exit ${r.code}`}`);
  const facts = parseFacts(r.stdout, kind);
  if (cached) facts.criuCheck = cached === 'ok' ? 'ok' : 'failed';
  else {
    await mkdir(join(cacheRoot(), 'criu-check'), { recursive: true });
    await writeFile(cacheFile, facts.criuCheck);
  }
  return facts;
}

