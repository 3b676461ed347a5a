import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { scratchDir } from '../scratch.js';
import { join } from 'node:path';
import { assetPath } from '../../src/paths.js';
import type { RunResult } from '../../src/results/result.js';

export const BIN = assetPath('bin', 'mountlab.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The CLI's pid: its qemus are named mountlab-<pid>. */
  pid: number;
}

/** Runs the real CLI in a child process, as a user would. */
export function runCli(
  args: string[],
  opts: {
    onStderr?: (chunk: string, child: ReturnType<typeof spawn>) => void;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mountlab ${args.join(' ')} did not finish in ${opts.timeoutMs} ms\n${stderr}`));
    }, opts.timeoutMs ?? 600_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr, child);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid ?? 0 });
    });
  });
}

export function tempOut(prefix: string): string {
  return scratchDir(prefix);
}

/** The single run directory the CLI created under an --out dir. */
export function readRun(outDir: string): { dir: string; run: RunResult } {
  const runs = readdirSync(outDir);
  if (runs.length !== 1) throw new Error(`expected one run in ${outDir}, found ${runs.join(', ')}`);
  const dir = join(outDir, runs[0]!);
  return { dir, run: JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResult };
}

/**
 * qemu processes started by mountlab (named mountlab-<pid>): of one CLI run
 * when its pid is given, so a test is not confused by other runs on the
 * machine; of any mountlab otherwise.
 */
export function mountlabQemus(pid?: number): string[] {
  try {
    return execFileSync(
      'pgrep',
      ['-a', '-f', '--', `qemu-system-x86_64 -name mountlab-${pid ?? ''}${pid ? '\\b' : ''}`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch (e) {
    if ((e as { status?: number }).status !== 1) throw e;
    return [];
  }
}
