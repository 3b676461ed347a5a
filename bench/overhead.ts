/**
 * The lab's overhead against a bare script doing the same dump and restore
 * in the same guest. For each scenario, on one VM:
 *  (a) the full mountlab scenario through runCorpus (with the real reporters);
 *  (b) one ssh command running a bare script that builds the tree the way
 *      labctl does (overlay root, tree.sh as init of new mount+pid
 *      namespaces, wait until it sleeps), `criu dump -t PID -D DIR` and
 *      `criu restore -d -D DIR --root ROOT` with the scenario's flags, kills
 *      the restored tree and unmounts: nothing else (no capture, compare,
 *      probes, leak check or reports). tree.sh is uploaded beforehand,
 *      untimed;
 *  (c) the fastest bare script: the helper's own `setup` (overlay root,
 *      run-tree and the wait, in C) on the program (uploaded beforehand),
 *      criu dump and restore, and the helper's `cleanup`.
 * Prints both, per phase where they match, and the difference.
 *
 *   npx tsc -p . && node dist/bench/overhead.js [--reps 3] [scenario paths...]
 *
 * Default scenarios: propagation/slave-chain-3 and binds/rbind-tree.
 * Scenarios with outside steps are skipped (the bare script has no host
 * side). One untimed warm-up of each kind first (CRIU's first dump after a
 * boot is cold); (a) and (b) alternate which goes first per rep. Waits while
 * 2+ qemu-system processes run. Prints figures; asserts nothing.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmTarget, type StartedVm } from '../src/target/vm/vm-target.js';
import { compileScenario } from '../src/plan/compile.js';
import { renderTreeScript } from '../src/plan/tree-script.js';
import { shJoin } from '../src/plan/shell.js';
import { HELPER } from '../src/plan/steps.js';
import type { LoadedScenario } from '../src/scenario/load.js';
import { runCorpus } from '../src/run/runner.js';
import { Reporters } from '../src/report/reporter.js';
import { JsonReporter } from '../src/report/json.js';
import { JunitReporter } from '../src/report/junit.js';
import { TapReporter } from '../src/report/tap.js';
import { MarkdownReporter } from '../src/report/markdown.js';
import { HtmlReporter } from '../src/report/html.js';
import type { ScenarioResult } from '../src/results/result.js';
import { SCENARIO_FILES } from '../src/results/artifacts.js';
import { KeptTarget, defaultGuest, loadContext, loadScenarios, parseArgs, sec, stats, waitForVmSlot } from './lib.js';

const { opts, rest } = parseArgs(process.argv.slice(2));
const reps = Number(opts.get('reps') ?? 3);
const paths = rest.length ? rest : ['scenarios/propagation/slave-chain-3.yaml', 'scenarios/binds/rbind-tree.yaml'];

/**
 * The bare script: labctl's way of building the tree, criu dump and restore, teardown; phases timed with
 * $EPOCHREALTIME.
 */
function bareScript(id: string, dumpArgs: string[], restoreArgs: string[], kind: BareKind): string {
  if (kind === 'helper') return bareHelperScript(id, dumpArgs, restoreArgs);
  const W = `/run/bare/${id}`;
  const rargs = restoreArgs.map((a) => a.replaceAll('@ROOT@', `${W}/root`));
  return [
    'set -eu',
    `W=${W}`,
    String.raw`ts() { printf '@t %s %s\n' "$1" "$EPOCHREALTIME"; }`,
    'sleeping() {',
    '  local p=$1 comm t kids k',
    '  comm=; read -r comm < "/proc/$p/comm" || true',
    '  [ "$comm" = sleep ] || return 1',
    '  for t in /proc/"$p"/task/*; do',
    '    kids=; read -r kids < "$t/children" || true',
    '    for k in $kids; do sleeping "$k" || return 1; done',
    '  done',
    '}',
    'ts start',
    'mkdir -p "$W/root" "$W/img" "$W/upper" "$W/work"',
    'mount --make-private -t overlay -o "lowerdir=/,upperdir=$W/upper,workdir=$W/work,xino=on" bare-root "$W/root"',
    'mkfifo "$W/status"',
    'ML_ROOT="$W/root" setsid unshare -m -p --fork --propagation unchanged ' +
      'bash -c "$(cat "$W/tree.sh")" mountlab init 0 9>"$W/status" </dev/null >/dev/null 2>"$W/tree.err" &',
    'upid=$!',
    'while IFS= read -r line; do case $line in ready) break ;; ' +
      'failed*) echo "tree: $line" >&2; cat "$W/tree.err" >&2; exit 3 ;; esac; done < "$W/status"',
    'pid=; read -r pid < "/proc/$upid/task/$upid/children" || true',
    'until sleeping "$pid"; do sleep 0.02; done',
    'ts setup',
    `criu dump -t "$pid" -D "$W/img" -o dump.log -v4 ${shJoin(dumpArgs)} ` +
      `|| { rc=$?; echo "criu dump exited $rc" >&2; grep -E 'Error|Warn' "$W/img/dump.log" | tail -n 5 >&2; exit 4; }`,
    'ts dump',
    'criu restore -D "$W/img" -o restore.log -v4 -d --root "$W/root" --pidfile "$W/restored.pid" ' +
      `${shJoin(rargs)} || { rc=$?; echo "criu restore exited $rc" >&2; ` +
      `grep -E 'Error|Warn' "$W/img/restore.log" | tail -n 5 >&2; exit 5; }`,
    'ts restore',
    'rpid=; read -r rpid < "$W/restored.pid" || true  # no trailing newline',
    'kill -KILL "$rpid" "$upid" 2>/dev/null || true',
    'while [ -d "/proc/$rpid" ]; do st=; read -r _ _ st _ < "/proc/$rpid/stat" 2>/dev/null || true; ' +
      '[ "$st" != Z ] || break; sleep 0.02; done',
    'umount -l "$W/root"',
    'rm -rf "$W"',
    'ts cleanup',
    '',
  ].join('\n');
}

/**
 * The fastest bare script there is: the helper's own setup (overlay root,
 * run-tree, the wait, all in C) and cleanup around criu, with no lab: no
 * capture, compare, probes, leak scan, frames or reports.
 */
function bareHelperScript(id: string, dumpArgs: string[], restoreArgs: string[]): string {
  const wid = `bare-${id}`;
  const W = `/run/mountlab/${wid}`;
  const rargs = restoreArgs.map((a) => a.replaceAll('@ROOT@', `${W}/root`));
  return [
    'set -eu',
    `W=${W} B=/run/bare/${id}`,
    String.raw`ts() { printf '@t %s %s\n' "$1" "$EPOCHREALTIME"; }`,
    'ts start',
    `${HELPER} setup ${wid} 60 < "$B/plan" > "$B/setup.out" || { cat "$B/setup.out" >&2; exit 3; }`,
    String.raw`read -r line < "$B/setup.out"; pid=$` + '{line#pid=}',
    'ts setup',
    `criu dump -t "$pid" -D "$W/img" -o dump.log -v4 ${shJoin(dumpArgs)} ` +
      `|| { rc=$?; echo "criu dump exited $rc" >&2; grep -E 'Error|Warn' "$W/img/dump.log" | tail -n 5 >&2; exit 4; }`,
    'ts dump',
    'criu restore -D "$W/img" -o restore.log -v4 -d --root "$W/root" --pidfile "$W/restored.pid" ' +
      `${shJoin(rargs)} || { rc=$?; echo "criu restore exited $rc" >&2; ` +
      `grep -E 'Error|Warn' "$W/img/restore.log" | tail -n 5 >&2; exit 5; }`,
    'ts restore',
    `${HELPER} cleanup ${wid} > "$B/cleanup.out"`,
    'rm -rf "$B"',
    'ts cleanup',
    '',
  ].join('\n');
}

/** The bare script's way of building the tree: bash running tree.sh, or the helper's run-tree running the program. */
type BareKind = 'bash' | 'helper';

interface Bare {
  wallMs: number;
  phases: Record<string, number>;
}

async function runBare(vm: StartedVm, s: LoadedScenario, id: string, kind: BareKind): Promise<Bare> {
  const plan = compileScenario(s.scenario, { id });
  const tree = renderTreeScript(s.scenario, { id, file: s.file }).tree;
  if (kind === 'bash') await vm.writeFile(`/run/bare/${id}/tree.sh`, tree);
  else await vm.writeFile(`/run/bare/${id}/plan`, plan.program.wire);
  const script = bareScript(id, plan.criu.dumpArgs, plan.criu.restoreArgs, kind);
  const r = await vm.exec(['bash', '-c', script], { timeoutMs: 300_000, label: 'bare script' });
  if (r.code !== 0) {
    const lastErrors = r.stderr.trim().split('\n').slice(-6).join(' | ');
    const reached = [...r.stdout.matchAll(/^@t (\S+)/gm)].map((m) => m[1]).join(' ');
    throw new Error(`bare script failed for ${s.scenario.name} (exit ${r.code}): ${lastErrors}; reached: ${reached}`);
  }
  const marks = [...r.stdout.matchAll(/^@t (\S+) (\S+)$/gm)].map((m) => [m[1]!, Number(m[2]) * 1000] as const);
  const phases: Record<string, number> = {};
  for (let i = 1; i < marks.length; i++) phases[marks[i]![0]] = marks[i]![1] - marks[i - 1]![1];
  phases['guest total'] = marks[marks.length - 1]![1] - marks[0]![1];
  return { wallMs: r.durationMs, phases };
}

interface Lab {
  wallMs: number;
  result: ScenarioResult;
  /** Sizes of the CRIU logs labctl sent back over ssh (bytes). */
  logs: Record<string, number>;
}

async function runLab(vm: StartedVm, s: LoadedScenario, runDir: string): Promise<Lab> {
  const results: ScenarioResult[] = [];
  const reporter = new Reporters([
    new JsonReporter(runDir),
    new JunitReporter(runDir),
    new TapReporter(runDir),
    new MarkdownReporter(runDir),
    new HtmlReporter(runDir),
    { onScenarioEnd: (r) => void results.push(r) },
  ]);
  const t0 = Date.now();
  await runCorpus([s], [{ id: 'lab', target: new KeptTarget(vm) }], {
    runId: 'bench-overhead',
    runDir,
    reporter,
    signal: new AbortController().signal,
    probes: true,
  });
  const result = results[0]!;
  const logs: Record<string, number> = {};
  for (const n of [SCENARIO_FILES.dumpLog, SCENARIO_FILES.restoreLog]) {
    const rel = result.artifacts[n];
    if (rel) logs[n] = statSync(join(runDir, rel)).size;
  }
  return { wallMs: Date.now() - t0, result, logs };
}

const dir = mkdtempSync(join(tmpdir(), 'mountlab-bench-overhead-'));
try {
  const all = await loadScenarios(paths);
  const scenarios = all.filter((s) => {
    if (!s.scenario.outside?.length) return true;
    console.log(`skipping ${s.scenario.name}: it has outside steps, which the bare script does not do`);
    return false;
  });
  await waitForVmSlot();
  console.log(`load: ${loadContext()}`);
  const image = await defaultGuest();
  const target = new VmTarget({
    image,
    accel: 'auto',
    machine: 'microvm',
    memoryMiB: 1024,
    runDir: join(dir, 'vm'),
    log: () => {},
  });
  await using vm = await target.start(new AbortController().signal);
  console.log(
    `VM ready in ${sec(vm.facts.readyMs)} (${vm.facts.accel}, kernel ${vm.facts.kernel}, criu ${vm.facts.criu})`,
  );
  let n = 0;
  // Warm-up: CRIU's first dump after boot is slow (cold caches); neither side should pay it.
  await runBare(vm, scenarios[0]!, `w${n++}`, 'bash');
  await runBare(vm, scenarios[0]!, `w${n++}`, 'helper');
  await runLab(vm, scenarios[0]!, join(dir, `lab-w`));
  const lab = new Map<string, Lab[]>();
  const bare = new Map<string, Bare[]>();
  const bareHelper = new Map<string, Bare[]>();
  for (let rep = 0; rep < reps; rep++) {
    console.log(`rep ${rep + 1}: load ${loadContext()}`);
    for (const s of scenarios) {
      const name = s.scenario.name;
      const doLab = async () => lab.set(name, [...(lab.get(name) ?? []), await runLab(vm, s, join(dir, `lab-${rep}`))]);
      const doBare = async () => {
        bare.set(name, [...(bare.get(name) ?? []), await runBare(vm, s, `b${n++}`, 'bash')]);
        bareHelper.set(name, [...(bareHelper.get(name) ?? []), await runBare(vm, s, `b${n++}`, 'helper')]);
      };
      if (rep % 2 === 0) {
        await doLab();
        await doBare();
      } else {
        await doBare();
        await doLab();
      }
      const l = lab.get(name)!.at(-1)!;
      const b = bare.get(name)!.at(-1)!;
      const h = bareHelper.get(name)!.at(-1)!;
      console.log(
        `  ${name}: mountlab ${l.result.outcome} ${sec(l.wallMs)} (scenario ${sec(l.result.durationMs)}), ` +
          `bare bash ${sec(b.wallMs)} (guest ${sec(b.phases['guest total']!)}), ` +
          `bare helper ${sec(h.wallMs)} (guest ${sec(h.phases['guest total']!)})`,
      );
    }
  }

  const med = (xs: number[]) => stats(xs).median;
  const labPhase = (ls: Lab[], p: string) =>
    med(ls.map((l) => l.result.phases.filter((x) => x.phase === p).reduce((a, x) => a + x.ms, 0)));
  for (const s of scenarios) {
    const name = s.scenario.name;
    const ls = lab.get(name) ?? [];
    const bs = bare.get(name) ?? [];
    const hs = bareHelper.get(name) ?? [];
    const bareP = (p: string) => med(bs.map((b) => b.phases[p] ?? NaN));
    const helperP = (p: string) => med(hs.map((b) => b.phases[p] ?? NaN));
    console.log(
      `\n${name} (medians of ${ls.length}; mountlab phases are host-side, each one or more ssh commands; ` +
        'bare phases are guest-side, inside one ssh command)',
    );
    console.log(
      `  ${'phase'.padEnd(26)}${'mountlab'.padEnd(10)}${'bare bash'.padEnd(11)}${'bare helper'.padEnd(13)}` +
        'difference to bare helper',
    );
    const row = (label: string, a: number, b: number, h: number) => {
      const difference =
        Number.isFinite(a) && Number.isFinite(h) ? sec(a - h) : Number.isFinite(a) ? `${sec(a)} (lab only)` : '';
      console.log(`  ${label.padEnd(26)}${sec(a).padEnd(10)}${sec(b).padEnd(11)}${sec(h).padEnd(13)}${difference}`);
    };
    const both = (p: string): [number, number] => [bareP(p), helperP(p)];
    row('setup (build the tree)', labPhase(ls, 'setup'), ...both('setup'));
    row('capture-before + leaks', labPhase(ls, 'capture-before'), NaN, NaN);
    row('dump', labPhase(ls, 'dump'), ...both('dump'));
    row('restore', labPhase(ls, 'restore'), ...both('restore'));
    row('capture-after', labPhase(ls, 'capture-after'), NaN, NaN);
    row('compare', labPhase(ls, 'compare'), NaN, NaN);
    row('probe', labPhase(ls, 'probe'), NaN, NaN);
    row('cleanup', labPhase(ls, 'cleanup'), ...both('cleanup'));
    const phaseSum = ls.map((l) => l.result.phases.reduce((a, x) => a + x.ms, 0));
    row('between phases (host)', med(ls.map((l, i) => l.result.durationMs - phaseSum[i]!)), NaN, NaN);
    row('scenario total', med(ls.map((l) => l.result.durationMs)), ...both('guest total'));
    row(
      'runCorpus / ssh wall',
      med(ls.map((l) => l.wallMs)),
      med(bs.map((b) => b.wallMs)),
      med(hs.map((b) => b.wallMs)),
    );
    const logKiB = (name: string) => (med(ls.map((l) => l.logs[name] ?? NaN)) / 1024).toFixed(0);
    console.log(
      `  CRIU logs (-v4) labctl prints for the host: dump.log ${logKiB('dump.log')} KiB, ` +
        `restore.log ${logKiB('restore.log')} KiB`,
    );
    const lw = med(ls.map((l) => l.wallMs));
    const bw = med(bs.map((b) => b.wallMs));
    const hw = med(hs.map((b) => b.wallMs));
    const checksMs =
      labPhase(ls, 'capture-before') + labPhase(ls, 'capture-after') + labPhase(ls, 'compare') + labPhase(ls, 'probe');
    console.log(
      `  => the lab costs ${(lw / hw).toFixed(2)}x the bare helper script (${sec(lw - hw)} more per scenario) ` +
        `and ${(lw / bw).toFixed(2)}x the bare bash script (${sec(lw - bw)}); ` +
        `of that, checks the bare scripts do not do (captures, compare, probes): ${sec(checksMs)}`,
    );
  }
  console.log(`\nload at the end: ${loadContext()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
