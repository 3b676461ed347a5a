/**
 * More import round trips than the e2e test runs, with figures:
 *
 *   node dist/bench/import-roundtrip.js [CASES] [SEED]
 *
 * First the kernel model (src/plan/mount-model.ts) on random possible
 * tables (fast: thousands), then one VM on random topologies the guest's
 * kernel makes (CASES, default 40): each built, captured, imported, rebuilt
 * and captured again. Prints counts, timings per phase and every failure;
 * exits 1 if any round trip is not equivalent.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { prng } from '../src/compare/gen.testutil.js';
import { genTable, randomStyle, renderPaste } from '../src/import/gen-paste.testutil.js';
import { genGuestScenario, roundTrip, startGuest, type RoundTrip } from '../src/import/guest-roundtrip.testutil.js';
import { importText } from '../src/import/import-command.js';
import { MountModel } from '../src/plan/mount-model.js';
import { checkImport } from '../src/import/verify.js';

const cases = Number(process.argv[2]) || 40;
const seed = Number(process.argv[3]) || Date.now() % 1_000_000;
const say = (s: string) => process.stdout.write(`${s}\n`);

function model(n: number): number {
  const t0 = performance.now();
  let bad = 0;
  let mounts = 0;
  const r = prng(seed);
  for (let i = 0; i < n; i++) {
    const table = genTable(r);
    const { plan, scenario } = importText(renderPaste(table, randomStyle(r, table.tasks.length), r), `model-${i}`, {});
    mounts += plan.counts.mounts;
    const c = checkImport(plan, MountModel.runScenario(scenario).capture);
    if (!c.equivalent) {
      bad++;
      say(`model case ${i}: ${[...c.differences.map((d) => d.sentence), ...c.leftovers].join('; ')}`);
    }
  }
  const ms = performance.now() - t0;
  say(
    `kernel model: ${n} tables (${mounts} mounts), ${n - bad} equivalent, ${(ms / n).toFixed(1)} ms per table ` +
      '(parse, plan, emit, validate, simulate, compare)',
  );
  return bad;
}

async function vm(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mountlab-bench-import-'));
  try {
    const t0 = Date.now();
    const g = await startGuest(join(dir, 'run'), () => {});
    const boot = Date.now() - t0;
    const results: RoundTrip[] = [];
    try {
      const r = prng(seed);
      for (let i = 0; i < cases; i++) {
        const name = `bench-${seed}-${i + 1}`;
        results.push(await roundTrip(g, join(dir, 'scenarios'), name, genGuestScenario(r, name)));
      }
    } finally {
      await g.dispose();
    }
    const ok = results.filter((x) => x.check?.equivalent);
    const unbuilt = results.filter((x) => x.unbuilt);
    const tooBig = results.filter((x) => x.tooBig);
    for (const x of results) {
      if (x.unbuilt || x.tooBig || x.check?.equivalent) continue;
      const why = x.error ?? [...x.check!.differences.map((d) => d.sentence), ...x.check!.leftovers].join('; ');
      say(`VM ${x.name}: ${why}\n${x.original}`);
    }
    const done = results.filter((x) => !x.unbuilt && !x.tooBig);
    const sum = (f: (x: RoundTrip) => number) => done.reduce((s, x) => s + f(x), 0);
    const mean = (f: (x: RoundTrip) => number) => (sum(f) / Math.max(1, done.length) / 1000).toFixed(1);
    const stepsNeeded = tooBig.map((x) => x.tooBig!.replace(/.*need (\d+) steps.*/s, '$1 steps')).join(', ');
    const seconds = ((Date.now() - t0) / 1000).toFixed(0);
    say(
      `VM (seed ${seed}): ${results.length} random scenarios, ${unbuilt.length} stopped by their own propagation, ` +
        `${tooBig.length} too big for one scenario (${stepsNeeded}), ` +
        `${done.length} round trips, ${ok.length} equivalent, in ${seconds} s (boot ${(boot / 1000).toFixed(1)} s)`,
    );
    const twoNamespaces = done.filter((x) => (x.counts?.namespaces ?? 0) > 1).length;
    say(
      `  topologies: ${sum((x) => x.counts?.mounts ?? 0)} mounts, ` +
        `${sum((x) => x.counts?.peerGroups ?? 0)} peer groups, ` +
        `${sum((x) => x.counts?.slaves ?? 0)} slaves, ${twoNamespaces} with two namespaces`,
    );
    say(`  per round trip: build ${mean((x) => x.ms.build)} s, rebuild from the import ${mean((x) => x.ms.rebuild)} s`);
    return done.length - ok.length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bad = model(Math.max(1000, cases * 50)) + (await vm());
process.exitCode = bad ? 1 : 0;
