/**
 * Prints the walking skeleton's figures: image cache lookup, boot-to-ssh
 * (N cold boots), and per-scenario phase times over the shipped scenarios.
 *   node dist/bench/skeleton.js [boots=3] [scenario paths...]
 * Needs the image built (./mountlab image build). Nothing is asserted: these
 * are measurements for the notes, not tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedImage, ensureImage } from '../src/target/vm/image.js';
import { VmTarget } from '../src/target/vm/vm-target.js';
import { composeGuest, ensureKernel } from '../src/target/vm/kernel-artifact.js';
import { discoverScenarioFiles, loadScenarioFile } from '../src/scenario/load.js';
import { runCorpus } from '../src/run/runner.js';
import type { ScenarioResult } from '../src/results/result.js';
import { assetPath } from '../src/paths.js';

const boots = Number(process.argv[2] ?? 3);
const paths = process.argv.slice(3);
const dir = mkdtempSync(join(tmpdir(), 'mountlab-bench-'));
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

try {
  let t0 = Date.now();
  const rootfs = cachedImage({ suite: 'trixie' }) ?? (await ensureImage({ suite: 'trixie' }, (l) => console.error(l)));
  const kernel = await ensureKernel({ kind: 'debian', name: 'debian-6.12', suite: 'trixie' }, (l) => console.error(l));
  const image = composeGuest(rootfs, kernel);
  console.log(`image and kernel lookup (cached): ${Date.now() - t0} ms  [${image.id}]`);

  const target = new VmTarget({
    image,
    accel: 'auto',
    machine: 'microvm',
    memoryMiB: 1024,
    runDir: dir,
    log: () => {},
  });
  const rows: string[] = [];
  for (let i = 0; i < boots; i++) {
    t0 = Date.now();
    const vm = await target.start(new AbortController().signal);
    rows.push(`boot ${i + 1}: ssh ${fmt(vm.facts.bootMs ?? 0)}, ready ${fmt(vm.facts.readyMs)} (${vm.facts.accel})`);
    await vm[Symbol.asyncDispose]();
  }
  console.log(rows.join('\n'));

  const files = await discoverScenarioFiles(paths.length ? paths : [assetPath('scenarios')]);
  const scenarios = await Promise.all(files.map((f) => loadScenarioFile(f)));
  const results: ScenarioResult[] = [];
  await runCorpus(scenarios, [{ id: 'bench', target }], {
    runId: 'bench',
    probes: true,
    runDir: dir,
    signal: new AbortController().signal,
    reporter: { onScenarioEnd: (r) => void results.push(r) },
  });
  const phases = ['setup', 'capture-before', 'dump', 'restore', 'capture-after', 'compare', 'cleanup'];
  console.log(`\nscenario                    verdict  total   ${phases.map((p) => p.slice(0, 7).padEnd(8)).join('')}`);
  for (const r of results) {
    const ph = (p: string) => fmt(r.phases.find((x) => x.phase === p)?.ms ?? 0).padEnd(8);
    console.log(
      `${r.scenario.padEnd(28)}${r.outcome.padEnd(9)}${fmt(r.durationMs).padEnd(8)}${phases.map(ph).join('')}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
