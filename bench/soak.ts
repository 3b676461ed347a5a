/**
 * Soak (issue 9): the corpus, or the paths given, R rounds back to back in
 * one process through runCorpus, and after each round what could leak:
 * qemu processes (this process's children, and all mountlab ones), docker
 * containers labelled mountlab.run, this process's open fds and RSS, the
 * cache dir's size (MOUNTLAB_CACHE or ~/.cache/mountlab), /tmp/mountlab-*
 * dirs, mounts mentioning mountlab in /proc/mounts, loop devices. A table
 * per round, and a verdict line at the end: "no leak" or what grew.
 *
 *   npx tsc -p . && node dist/bench/soak.js [--rounds 10 | --minutes M] [--jobs 1] [scenario paths...]
 *
 * Default paths: scenarios/. The system-wide counts (all mountlab qemus,
 * containers, /tmp dirs, mounts, loops) include other people's runs on a
 * shared machine; the verdict judges this process's own qemus, fds and RSS
 * strictly and the system-wide counts against the baseline taken before
 * round 1. Each round's reports go to a fresh temp dir, removed after the
 * round (not named mountlab-*, so it does not count itself). Waits while 2+
 * qemu-system processes run before each round. Prints figures; asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmTarget } from '../src/target/vm/vm-target.js';
import { cacheRoot } from '../src/target/vm/image.js';
import { runCorpus } from '../src/run/runner.js';
import type { Outcome } from '../src/results/outcome.js';
import {
  defaultGuest,
  loadContext,
  loadScenarios,
  ownQemuPids,
  parseArgs,
  procStatusKb,
  sec,
  waitForVmSlot,
} from './lib.js';

const { opts, rest } = parseArgs(process.argv.slice(2));
const minutes = opts.has('minutes') ? Number(opts.get('minutes')) : undefined;
const rounds = minutes !== undefined ? Infinity : Number(opts.get('rounds') ?? 10);
const jobs = Number(opts.get('jobs') ?? 1);

const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    return (e as { stdout?: string }).stdout ?? '';
  }
};

interface Probe {
  ownQemu: number;
  allQemu: number;
  containers: number | '-';
  fds: number;
  rssMiB: number;
  cacheMiB: number;
  tmpDirs: number;
  mounts: number;
  loops: number;
}

function probe(): Probe {
  const allQemu = sh('pgrep', ['-f', 'qemu-system.*mountlab']).split('\n').filter(Boolean).length;
  let containers: number | '-' = '-';
  try {
    containers = execFileSync('docker', ['ps', '-aq', '--filter', 'label=mountlab.run'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    })
      .split('\n')
      .filter(Boolean).length;
  } catch {
    /* no docker engine reachable: nothing to count */
  }
  const cache = Number(sh('du', ['-sk', cacheRoot()]).split('\t')[0] || 0);
  return {
    ownQemu: ownQemuPids().length,
    allQemu,
    containers,
    fds: readdirSync('/proc/self/fd').length,
    rssMiB: Math.round((procStatusKb('self')?.VmRSS ?? 0) / 1024),
    cacheMiB: Math.round(cache / 1024),
    tmpDirs: readdirSync(tmpdir()).filter((n) => n.startsWith('mountlab-')).length,
    mounts: readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .filter((l) => l.includes('mountlab')).length,
    loops: sh('losetup', ['-a']).split('\n').filter(Boolean).length,
  };
}

const cols: [keyof Probe, string][] = [
  ['ownQemu', 'own qemu'],
  ['allQemu', 'all ml qemu'],
  ['containers', 'containers'],
  ['fds', 'fds'],
  ['rssMiB', 'RSS MiB'],
  ['cacheMiB', 'cache MiB'],
  ['tmpDirs', '/tmp/ml-*'],
  ['mounts', 'mounts'],
  ['loops', 'loops'],
];
const headings = cols.map(([, h]) => h.padEnd(12)).join('');
const header = `${'round'.padEnd(7)}${'time'.padEnd(9)}${'results'.padEnd(22)}${headings}`;
const line = (label: string, time: string, res: string, p: Probe) =>
  `${label.padEnd(7)}${time.padEnd(9)}${res.padEnd(22)}${cols.map(([k]) => String(p[k]).padEnd(12)).join('')}`;

const scenarios = await loadScenarios(rest);
const image = await defaultGuest();
const howLong = minutes !== undefined ? `${minutes} minutes` : `${rounds} rounds`;
console.log(`soak: ${scenarios.length} scenario file(s), ${howLong}, -j${jobs}`);
console.log(`load: ${loadContext()}`);
const base = probe();
const rows: Probe[] = [];
console.log(header);
console.log(line('before', '', '', base));
const until = minutes !== undefined ? Date.now() + minutes * 60_000 : Infinity;
for (let round = 1; round <= rounds && Date.now() < until; round++) {
  await waitForVmSlot();
  const runDir = mkdtempSync(join(tmpdir(), 'mlsoak-'));
  const t0 = Date.now();
  const counts: Partial<Record<Outcome, number>> = {};
  try {
    const target = new VmTarget({ image, accel: 'auto', machine: 'microvm', memoryMiB: 1024, runDir, log: () => {} });
    await runCorpus(scenarios, [{ id: 'soak', target }], {
      runId: `soak-${round}`,
      runDir,
      signal: new AbortController().signal,
      probes: true,
      jobs,
      reporter: { onScenarioEnd: (r) => void (counts[r.outcome] = (counts[r.outcome] ?? 0) + 1) },
    });
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
  // Disposal is awaited by runCorpus; give the kernel a moment to reap before counting.
  await new Promise((r) => setTimeout(r, 500));
  const p = probe();
  rows.push(p);
  console.log(
    line(
      String(round),
      sec(Date.now() - t0),
      Object.entries(counts)
        .map(([o, n]) => `${n} ${o}`)
        .join(' '),
      p,
    ),
  );
}
console.log(`load at the end: ${loadContext()}`);

// Verdict: own qemus must be 0 after every round; fds must not grow; RSS may wobble (GC) but must not climb
// round after round; system-wide counts are compared with the baseline.
const grew: string[] = [];
if (rows.some((r) => r.ownQemu > 0))
  grew.push(`own qemu processes left after a round (max ${Math.max(...rows.map((r) => r.ownQemu))})`);
const last = rows[rows.length - 1];
if (last) {
  // A first round may open lasting fds once (lazily loaded modules); after it the count must hold.
  if (last.fds > rows[0]!.fds + 1 || rows[0]!.fds > base.fds + 4)
    grew.push(`open fds ${base.fds} -> ${rows[0]!.fds} after round 1 -> ${last.fds}`);
  const half = Math.floor(rows.length / 2);
  const firstHalfMax = Math.max(...rows.slice(0, Math.max(1, half)).map((r) => r.rssMiB));
  // RSS: leak only if the second half's minimum is above the first half's maximum by more than 32 MiB.
  const secondHalfMin = Math.min(...rows.slice(Math.max(1, half)).map((r) => r.rssMiB));
  if (rows.length >= 2 && secondHalfMin > firstHalfMax + 32)
    grew.push(`RSS ${rows[0]!.rssMiB} -> ${last.rssMiB} MiB (second half's minimum above the first half's maximum)`);
  for (const k of ['allQemu', 'containers', 'tmpDirs', 'mounts', 'loops'] as const) {
    const b = base[k];
    const l = last[k];
    if (typeof b === 'number' && typeof l === 'number' && l > b)
      grew.push(`${k} ${b} -> ${l} (system-wide: check whether it is ours)`);
  }
  if (last.cacheMiB > base.cacheMiB + 1) grew.push(`cache dir ${base.cacheMiB} -> ${last.cacheMiB} MiB`);
}
console.log(
  rows.length === 0
    ? 'verdict: no round ran'
    : grew.length
      ? `verdict: grew: ${grew.join('; ')}`
      : `verdict: no leak (${rows.length} round(s))`,
);
