/**
 * What a VM costs the corpus: boot-to-ready over N cold boots, and
 * reset-to-ready on a kept VM (what the runner pays between two scenarios:
 * the scenario's `labctl cleanup`, the host's reports and the next
 * scenario's preamble, and the fixed part of `labctl setup`, the per-scenario
 * overlay root and namespaces). From those, the VM overhead per scenario for
 * a corpus of R scenario runs at -j1 and -j2.
 *
 *   npx tsc -p . && node dist/bench/boot.js [--boots 3] [--resets 5] [--runs 86] [scenario paths...]
 *
 * The scenario paths (default: four small ones) run on the kept VM through
 * runCorpus with the real reporters, to measure a real setup against the
 * empty one and the host-side gap between scenarios; the empty setups and
 * cleanups (--resets rounds), a guest-side breakdown of the workspace and
 * one traced (bash -x) labctl setup and cleanup come after them, on warm
 * caches as between two scenarios of a run. Needs the image built
 * (./mountlab image build). Boots at most one VM at a time, after waiting
 * while 2+ qemu-system processes run. Prints figures; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmTarget, type StartedVm } from '../src/target/vm/vm-target.js';
import { parseScenario } from '../src/scenario/load.js';
import { compileScenario } from '../src/plan/compile.js';
import { LABCTL } from '../src/target/guest-facts.js';
import { runCorpus } from '../src/run/runner.js';
import { Reporters, type Reporter } from '../src/report/reporter.js';
import { JsonReporter } from '../src/report/json.js';
import { JunitReporter } from '../src/report/junit.js';
import { TapReporter } from '../src/report/tap.js';
import { MarkdownReporter } from '../src/report/markdown.js';
import { HtmlReporter } from '../src/report/html.js';
import type { ScenarioResult } from '../src/results/result.js';
import {
  KeptTarget,
  defaultGuest,
  fmtStats,
  loadContext,
  loadScenarios,
  parseArgs,
  sec,
  stats,
  waitForVmSlot,
} from './lib.js';

const { opts, rest } = parseArgs(process.argv.slice(2));
const boots = Number(opts.get('boots') ?? 3);
const resets = Number(opts.get('resets') ?? 5);
const corpusRuns = Number(opts.get('runs') ?? 86);
const paths = rest.length
  ? rest
  : [
      'scenarios/propagation/slave-chain-3.yaml',
      'scenarios/binds/rbind-tree.yaml',
      'scenarios/binds/two-tmpfs.yaml',
      'scenarios/propagation/shared-peers-children.yaml',
    ];

const exec = (vm: StartedVm, cmd: string | string[], label: string, stdin?: string) =>
  vm.exec(cmd, { timeoutMs: 120_000, label, ...(stdin !== undefined ? { stdin } : {}) });

/**
 * The smallest scenario the schema admits: its setup is labctl's fixed cost (overlay root, namespaces, tree
 * launch).
 */
const EMPTY = parseScenario(
  [
    'name: bench-empty',
    'description: The fixed cost of a scenario.',
    'source: bench/boot.ts',
    'steps:',
    '  - mkdir: /bench-empty',
    'expect: identical',
    '',
  ].join('\n'),
  'bench-empty.yaml',
);

/** labctl setup's workspace, step by step, timed in the guest with bash's $EPOCHREALTIME (no forks for the clock). */
const BREAKDOWN = String.raw`
set -eu
W=/run/mountlab/bench-ws
ts() { printf '%s %s\n' "$1" "$EPOCHREALTIME"; }
ts start
mkdir -p "$W/root" "$W/img" "$W/upper" "$W/work"
mount --make-private -t overlay -o "lowerdir=/,upperdir=$W/upper,workdir=$W/work,xino=on" mountlab-root "$W/root"
ts overlay-root
setsid unshare -m -p --fork --propagation unchanged bash -c 'exit 0'
ts namespaces+bash
umount -l "$W/root"
rm -rf "$W"
ts teardown
`;

const dir = mkdtempSync(join(tmpdir(), 'mountlab-bench-boot-'));
try {
  console.log(`load: ${loadContext()}`);
  const image = await defaultGuest();
  let logLine = '';
  const target = new VmTarget({
    image,
    accel: 'auto',
    machine: 'microvm',
    memoryMiB: 1024,
    runDir: dir,
    log: (m) => void (logLine = m),
  });

  // ---- cold boots ---------------------------------------------------------
  const consoleMs: number[] = [];
  const sshMs: number[] = [];
  const readyMs: number[] = [];
  let kept: StartedVm | undefined;
  try {
    for (let i = 0; i < boots; i++) {
      await waitForVmSlot();
      const ctx = loadContext();
      const vm = await target.start(new AbortController().signal);
      const c = logLine.match(/console ready ([\d.]+) s/);
      if (c) consoleMs.push(Number(c[1]) * 1000);
      sshMs.push(vm.facts.bootMs ?? NaN);
      readyMs.push(vm.facts.readyMs);
      const consoleReady = c ? `${c[1]} s` : '?';
      console.log(
        `boot ${i + 1}: console ${consoleReady}, ssh ${sec(vm.facts.bootMs ?? NaN)}, ` +
          `ready ${sec(vm.facts.readyMs)} (${vm.facts.accel})   load: ${ctx}`,
      );
      if (i < boots - 1) await vm[Symbol.asyncDispose]();
      else kept = vm;
    }
    if (!kept) throw new Error('--boots must be at least 1');
    const vm = kept;
    console.log(`\nboot-to-ready over ${boots} cold boots (qemu start to ...):`);
    console.log(`  console MOUNTLAB-READY  ${fmtStats(stats(consoleMs))}`);
    console.log(`  ssh logged in           ${fmtStats(stats(sshMs))}`);
    console.log(`  facts ready             ${fmtStats(stats(readyMs))}`);

    // ---- real scenarios through runCorpus on the kept VM -----------------------
    const scenarios = await loadScenarios(paths);
    const runDir = join(dir, 'run');
    const marks: { name: string; start?: number; setup?: number; endFirst?: number; endLast?: number }[] = [];
    const cur = () => marks[marks.length - 1]!;
    const first: Reporter = {
      onScenarioStart: (name) => void marks.push({ name, start: Date.now() }),
      onPhase: (_s, _c, p) => {
        if (p === 'setup') cur().setup = Date.now();
      },
      onScenarioEnd: () => void (cur().endFirst = Date.now()),
    };
    const last: Reporter = { onScenarioEnd: () => void (cur().endLast = Date.now()) };
    const results: ScenarioResult[] = [];
    const collect: Reporter = { onScenarioEnd: (r) => void results.push(r) };
    const reporter = new Reporters([
      first,
      new JsonReporter(runDir),
      new JunitReporter(runDir),
      new TapReporter(runDir),
      new MarkdownReporter(runDir),
      new HtmlReporter(runDir),
      collect,
      last,
    ]);
    console.log(
      `\n${scenarios.length} scenario(s) via runCorpus on the kept VM, with the real reporters; load: ${loadContext()}`,
    );
    const wall0 = Date.now();
    await runCorpus(scenarios, [{ id: 'bench', target: new KeptTarget(vm) }], {
      runId: 'bench-boot',
      runDir,
      reporter,
      signal: new AbortController().signal,
      probes: true,
    });
    const wall = Date.now() - wall0;
    const ph = (r: ScenarioResult, p: string) => r.phases.find((x) => x.phase === p)?.ms ?? NaN;
    const realSetup = results.map((r) => ph(r, 'setup'));
    const realCleanup = results.map((r) => ph(r, 'cleanup'));
    console.log('  scenario                       verdict  total    setup    dump     restore  cleanup');
    for (const r of results) {
      const cells = [
        r.scenario.padEnd(31),
        r.outcome.padEnd(9),
        sec(r.durationMs).padEnd(9),
        ...['setup', 'dump', 'restore'].map((p) => sec(ph(r, p)).padEnd(9)),
        sec(ph(r, 'cleanup')),
      ];
      console.log(`  ${cells.join('')}`);
    }
    // Host-side gap: from the end of one scenario (its cleanup done, first reporter called) to the next one's
    // setup phase.
    const gaps: number[] = [];
    const reports: number[] = [];
    const preamble: number[] = [];
    for (let i = 0; i < marks.length; i++) {
      const m = marks[i]!;
      if (m.endFirst !== undefined && m.endLast !== undefined) reports.push(m.endLast - m.endFirst);
      if (m.start !== undefined && m.setup !== undefined) preamble.push(m.setup - m.start);
      const next = marks[i + 1];
      if (next?.setup !== undefined && m.endFirst !== undefined) gaps.push(next.setup - m.endFirst);
    }
    console.log(`  wall for ${results.length}: ${sec(wall)}`);
    console.log(`  real setup phase                  ${fmtStats(stats(realSetup))}`);
    console.log(`  real cleanup phase                ${fmtStats(stats(realCleanup))}`);
    console.log(`  host: reporters per scenario      ${fmtStats(stats(reports))}`);
    console.log(
      `  host: preamble (start -> setup)   ${fmtStats(stats(preamble))}   (requirements check, compile, program saved)`,
    );
    console.log(`  host: gap end -> next setup       ${fmtStats(stats(gaps))}`);
    const dumps = results.map((r) => ph(r, 'dump'));
    const firstPenalty = dumps.length > 1 ? dumps[0]! - stats(dumps.slice(1)).median : NaN;
    console.log(
      `  first dump after boot ${sec(dumps[0] ?? NaN)} against later ${fmtStats(stats(dumps.slice(1)))}: ` +
        `cold-cache penalty ${sec(firstPenalty)} once per VM`,
    );

    // ---- reset pieces on the kept VM, after the scenarios (warm caches, as between two scenarios of a run) ----
    console.log(`\nreset on the kept VM (${resets} rounds each); load: ${loadContext()}`);
    const rtt: number[] = [];
    for (let i = 0; i < resets; i++) rtt.push((await exec(vm, 'true', 'ssh round trip')).durationMs);
    const emptySetup: number[] = [];
    const emptyCleanup: number[] = [];
    for (let i = 0; i < resets; i++) {
      const plan = compileScenario(EMPTY.scenario, { id: `bench-e${i}` });
      const setupArgv = [LABCTL, 'setup', plan.id, String(plan.limits.setup)];
      const s = await exec(vm, setupArgv, 'setup (empty)', plan.program.wire);
      if (s.code !== 0 || !/^pid=\d+$/m.test(s.stdout)) throw new Error(`empty setup failed: ${s.stdout} ${s.stderr}`);
      emptySetup.push(s.durationMs);
      emptyCleanup.push((await exec(vm, [LABCTL, 'cleanup', plan.id], 'cleanup (empty)')).durationMs);
    }
    const parts = new Map<string, number[]>();
    for (let i = 0; i < resets; i++) {
      const r = await exec(vm, ['bash', '-c', BREAKDOWN], 'workspace breakdown');
      if (r.code !== 0) throw new Error(`breakdown failed: ${r.stderr}`);
      const marks = r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([k, v]) => [k!, Number(v) * 1000] as const);
      for (let k = 1; k < marks.length; k++) {
        const name = marks[k]![0];
        parts.set(name, [...(parts.get(name) ?? []), marks[k]![1] - marks[k - 1]![1]]);
      }
    }
    console.log(`  ssh round trip (true)             ${fmtStats(stats(rtt))}`);
    console.log(`  labctl setup, empty scenario      ${fmtStats(stats(emptySetup))}   (host-side, one ssh command)`);
    console.log(`  labctl cleanup, empty scenario    ${fmtStats(stats(emptyCleanup))}`);
    console.log('  guest-side pieces of the workspace (bash $EPOCHREALTIME):');
    for (const [k, v] of parts) console.log(`    ${k.padEnd(30)} ${fmtStats(stats(v))}`);
    // Where labctl's own time goes: one traced setup and cleanup (bash -x, a timestamp per command).
    {
      const plan = compileScenario(EMPTY.scenario, { id: 'bench-trace' });
      const trace = async (args: string[], stdin?: string) => {
        // bash ignores PS4 from the environment when run as root: set it inside, then source labctl with the arguments.
        const r = await exec(
          vm,
          ['bash', '-c', `PS4='+\${EPOCHREALTIME} '; set -x; . ${LABCTL} "$@"`, 'labctl', ...args],
          `traced labctl ${args[0]}`,
          stdin,
        );
        const lines = [...r.stderr.matchAll(/^(\++)(\d+\.\d+) (.*)$/gm)].map((m) => ({
          depth: m[1]!.length,
          t: Number(m[2]) * 1000,
          cmd: m[3]!.slice(0, 70),
        }));
        lines.sort((a, b) => a.t - b.t);
        const costs = lines.slice(0, -1).map((l, i) => ({ ...l, ms: lines[i + 1]!.t - l.t }));
        const total = lines.length ? lines[lines.length - 1]!.t - lines[0]!.t : NaN;
        console.log(
          `  traced labctl ${args[0]}: ${sec(r.durationMs)} host-side, ` +
            `${sec(total)} from first to last traced command; slowest:`,
        );
        for (const c of costs.sort((a, b) => b.ms - a.ms).slice(0, 8))
          console.log(`    ${sec(c.ms).padEnd(8)} ${'+'.repeat(c.depth)} ${c.cmd}`);
      };
      await trace(['setup', plan.id, String(plan.limits.setup)], plan.program.wire);
      await trace(['cleanup', plan.id]);
    }

    // ---- the derived figures -------------------------------------------------
    const setupFixed = stats(emptySetup).median;
    const cleanup = stats(realCleanup).median;
    const gap = stats(gaps).median;
    const resetToReady = cleanup + (Number.isFinite(gap) ? gap : 0) + setupFixed;
    const stepsCost = stats(realSetup).median - setupFixed;
    const ready = stats(readyMs).median;
    console.log('\nreset-to-ready (kept VM, between two scenarios):');
    console.log(
      `  cleanup ${sec(cleanup)} + host gap ${sec(gap)} + fixed setup (empty scenario) ${sec(setupFixed)} ` +
        `= ${sec(resetToReady)}`,
    );
    console.log(
      `  (of the real setup phases' median ${sec(stats(realSetup).median)}, ` +
        `the scenario's own steps are about ${sec(stepsCost)})`,
    );
    console.log(
      '\nVM overhead per scenario = reset-to-ready + boot-to-ready / scenarios-per-VM ' +
        `(+ first-dump penalty / scenarios-per-VM), ${corpusRuns} scenario runs:`,
    );
    for (const [label, perVm] of [
      ['-j1 (one VM)', corpusRuns],
      ['-j2 (two VMs)', Math.ceil(corpusRuns / 2)],
      ['--fresh-vm', 1],
    ] as const) {
      const base = resetToReady + ready / perVm;
      const pen = Number.isFinite(firstPenalty) ? Math.max(0, firstPenalty) / perVm : 0;
      console.log(
        `  ${label.padEnd(14)} ${String(perVm).padStart(3)} per VM: ` +
          `${sec(resetToReady)} + ${sec(ready)}/${perVm} = ${sec(base)}   (+ ${sec(pen)} cold first dump); ` +
          `${sec((base + pen) * corpusRuns)} of guest time over the corpus`,
      );
    }
    console.log(
      '  (--fresh-vm still runs cleanup and the fixed setup in each fresh guest, ' +
        'so the same formula holds with 1 per VM)',
    );
    console.log(`\nload at the end: ${loadContext()}`);
  } finally {
    await kept?.[Symbol.asyncDispose]();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
