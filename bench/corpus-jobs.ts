/**
 * The corpus through the real CLI at -j1 and then -j2: wall time of each,
 * the speedup, per-phase totals and the per-scenario time by phase (from
 * each run's results.json).
 *
 *   npx tsc -p . && node dist/bench/corpus-jobs.js [--jobs 1,2] [--out DIR] [paths...]
 *
 * Default paths: scenarios/ (the whole corpus: about 86 runs, several
 * minutes per -j under TCG: run it on a quiet machine). Both runs share one
 * reports directory (default: a temp dir, removed at the end; --out keeps
 * it), so the second run schedules longest-first from the first one's
 * times, as `mountlab run` does with reports/. Runs `node bin/mountlab.js
 * run PATHS -j N --out DIR -q`. Prints figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunResult } from '../src/results/result.js';
import { RUN_FILES } from '../src/results/artifacts.js';
import { assetPath } from '../src/paths.js';
import { PHASES, loadContext, parseArgs, sec, waitForVmSlot } from './lib.js';

const { opts, rest } = parseArgs(process.argv.slice(2));
const jobsList = (opts.get('jobs') ?? '1,2').split(',').map(Number);
const paths = rest.length ? rest : ['scenarios/'];
const keep = opts.has('out');
const out = keep ? resolve(opts.get('out')!) : mkdtempSync(join(tmpdir(), 'mountlab-bench-jobs-'));
mkdirSync(out, { recursive: true });

function runCli(jobs: number): Promise<{ code: number | null; wallMs: number; stderr: string }> {
  return new Promise((res) => {
    const t0 = Date.now();
    const child = spawn(
      process.execPath,
      [assetPath('bin', 'mountlab.js'), 'run', ...paths, '-j', String(jobs), '--out', out, '-q'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    child.on('exit', (code) => res({ code, wallMs: Date.now() - t0, stderr }));
  });
}

/** The run directory the CLI just made: the newest one with a results.json. */
function newestRun(): RunResult {
  const runs = readdirSync(out)
    .map((n) => join(out, n, RUN_FILES.results))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    })
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!runs[0]) throw new Error(`no results.json under ${out}`);
  return JSON.parse(readFileSync(runs[0], 'utf8')) as RunResult;
}

const ph = (r: RunResult['results'][number], p: string) =>
  r.phases.filter((x) => x.phase === p).reduce((a, x) => a + x.ms, 0);

try {
  const runs: { jobs: number; wallMs: number; code: number | null; run: RunResult; ctx: string }[] = [];
  for (const jobs of jobsList) {
    // The machine is shared: wait while 2+ qemu-system processes (anyone's) run.
    await waitForVmSlot();
    const ctx = loadContext();
    console.error(`running -j${jobs} ...`);
    const r = await runCli(jobs);
    const run = newestRun();
    runs.push({ jobs, wallMs: r.wallMs, code: r.code, run, ctx });
    if (r.code !== 0 && r.code !== 1)
      console.error(`mountlab exited ${r.code}: ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  }

  for (const { jobs, wallMs, code, run, ctx } of runs) {
    const counts = Object.entries(run.counts)
      .filter(([, n]) => n)
      .map(([o, n]) => `${n} ${o}`)
      .join(', ');
    console.log(
      `\n=== -j${jobs}: wall ${sec(wallMs)} (CLI process), run.durationMs ${sec(run.durationMs)}, exit ${code}, ` +
        `${run.results.length} results: ${counts}`,
    );
    console.log(`    load at start: ${ctx}`);
    const cells = run.cells.map((c) => `${c.id} ready ${sec(c.facts.readyMs)}`).join('; ');
    console.log(`    cells: ${cells}`);
    const totals = PHASES.map((p) => [p, run.results.reduce((a, r) => a + ph(r, p), 0)] as const).filter(
      ([, ms]) => ms > 0,
    );
    const sum = run.results.reduce((a, r) => a + r.durationMs, 0);
    console.log(
      `    per-phase totals (summed over scenarios): ${totals.map(([p, ms]) => `${p} ${sec(ms)}`).join(', ')}; ` +
        `scenarios' own time ${sec(sum)}`,
    );
    console.log(
      `    wall - sum/jobs = ${sec(wallMs - sum / jobs)} not inside a scenario ` +
        '(boots, reports, process start, idle VMs at the end)',
    );
    const header = [
      'scenario'.padEnd(40),
      'verdict'.padEnd(8),
      'total'.padEnd(8),
      ...PHASES.map((p) => p.slice(0, 7).padEnd(8)),
    ];
    console.log(`\n    ${header.join('')}`);
    for (const r of run.results) {
      const phaseCells = PHASES.map((p) => (r.phases.some((x) => x.phase === p) ? sec(ph(r, p)) : '-').padEnd(8));
      const cells = [
        r.scenario.slice(0, 39).padEnd(40),
        r.outcome.padEnd(8),
        sec(r.durationMs).padEnd(8),
        ...phaseCells,
      ];
      console.log(`    ${cells.join('')}`);
    }
  }
  if (runs.length >= 2) {
    const base = runs[0]!;
    console.log('');
    for (const r of runs.slice(1))
      console.log(
        `speedup -j${r.jobs} over -j${base.jobs}: ${(base.wallMs / r.wallMs).toFixed(2)}x ` +
          `(${sec(base.wallMs)} -> ${sec(r.wallMs)})`,
      );
  }
  console.log(`load at the end: ${loadContext()}`);
  if (keep) console.log(`reports kept in ${out}`);
} finally {
  if (!keep) rmSync(out, { recursive: true, force: true });
}
