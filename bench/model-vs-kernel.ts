/**
 * The mount model against one VM's kernel (issue 19): random scenarios
 * (src/plan/random-scenario.testutil.ts, the generator the host test
 * model-check.kernel.test.ts uses) are built by the guest helper's
 * run-tree in the default cell (trixie, Debian's 6.12 kernel), and every
 * answer is held against the model (src/plan/model-check.ts): the model
 * must never refuse a scenario the kernel builds, and where it refuses a
 * step the kernel must have failed at that very step.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/model-vs-kernel.js [--count 240] [--seed 19] [--timeout 20] [--list]
 *
 * One VM, one ssh command for all the scenarios: their wire programs go
 * in on stdin (concatenated; the guest splits them at each
 * `mountlab-plan` line), and a loop in the guest runs each as the host
 * test does, in fresh mount and pid namespaces (`unshare -m -p --fork
 * --propagation private`) on a fresh tmpfs root with /usr bound in:
 * `run-outside` first when there are outside steps, then `run-tree`, whose
 * status lines are read until `ready`, `failed N ...`, or --timeout
 * seconds without a line; leaving the namespace ends the tree. One block
 * of result lines per scenario comes back. Prints the count, the kernel,
 * how many the kernel built, how many the model refused and whether the
 * kernel failed at each refused step, every disagreement in full (the
 * scenario's YAML and both answers), the seed, the boot time and the
 * wall time of the run. Exits 1 if the property is broken, 2 if the
 * guest loop did not answer for every scenario, 3 if the run did not
 * exercise both sides (fewer than count/24 built or count/12 refused).
 * --list prints each scenario's answers, one line each.
 * Waits while 2+ qemu-system processes run (the machine is shared).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '../src/scenario/load.js';
import { modelProblems, type ModelProblem } from '../src/plan/model-check.js';
import { compileProgram } from '../src/plan/program.js';
import { serialiseProgram } from '../src/plan/wire.js';
import { HELPER } from '../src/plan/steps.js';
import { shJoin } from '../src/plan/shell.js';
import { judge, prng, randomScenario, type Judgement } from '../src/plan/random-scenario.testutil.js';
import { VmTarget } from '../src/target/vm/vm-target.js';
import { defaultGuest, loadContext, parseArgs, sec, waitForVmSlot } from './lib.js';

const { opts } = parseArgs(process.argv.slice(2), ['list']);
const list = opts.has('list');
const count = Number(opts.get('count') ?? 240);
const seed = Number(opts.get('seed') ?? 19);
const lineTimeout = Number(opts.get('timeout') ?? 20);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed) || !(lineTimeout > 0))
  throw new Error('usage: model-vs-kernel [--count N] [--seed N] [--timeout SECONDS] [--list]');

/** The guest's work directory (/run is a tmpfs there). */
const WORK = '/run/mountlab-model-vs-kernel';

/**
 * One scenario, as pid 1 of its own pid namespace in its own mount
 * namespace: what run-tree.testutil.ts's driver does up to the status,
 * with the status read from a fifo instead of polled. $1 the plan, $2 its
 * output directory, $3 1 when it has outside steps.
 */
const DRIVER = [
  'set -u',
  `H=${HELPER} P=$1 O=$2 OUTSIDE=$3 R=$2/root`,
  '# Only stdio reaches the tree, as from labctl.',
  'for f in /proc/$$/fd/*; do',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion
  '  fd=${f##*/}',
  '  if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null; fi',
  'done',
  'mount -t tmpfs mountlab-model-root "$R" || exit 0',
  'mkdir "$R/usr" "$R/proc"',
  "# The guest root's top-level symlinks (bin, lib...), found once by the loop: cp -d copies them as links.",
  'if [ -n "$LINKS" ]; then cp -d $LINKS "$R/"; fi',
  'mount --rbind /usr "$R/usr" || exit 0',
  'if [ "$OUTSIDE" = 1 ]; then',
  '  "$H" run-outside "$R" "$P" 9>"$O/outside-status" 2>"$O/outside-err" </dev/null || exit 0',
  'fi',
  '"$H" run-tree "$R" "$P" 9>"$O/fifo" 2>"$O/err" </dev/null &',
  `while IFS= read -r -t ${lineTimeout} line; do`,
  '  printf \'%s\\n\' "$line" >> "$O/status"',
  '  case $line in ready | failed*) break ;; esac',
  'done < "$O/fifo"',
  'exit 0',
  '',
].join('\n');

/**
 * All the scenarios: split stdin into plans/0..N-1, run each through the
 * driver, print `@ I` then its lines (o outside status, s tree status,
 * e stderr), and `@end MS` with the guest's time for the loop.
 */
function guestLoop(outside: number[]): string {
  return [
    'set -u',
    `W=${WORK}`,
    'rm -rf "$W" && mkdir -p "$W/plans" || exit 1',
    'LINKS=; for d in bin sbin lib lib32 lib64 libx32; do if [ -L "/$d" ]; then LINKS="$LINKS /$d"; fi; done',
    'export LINKS',
    "# Every scenario's directory, root and status fifo made at once (a process costs under TCG).",
    `mkdir "$W/out" && cd "$W/out" && seq -f %g/root 0 ${count - 1} | xargs mkdir -p && ` +
      `seq -f %g/fifo 0 ${count - 1} | xargs mkfifo && cd / || exit 1`,
    `awk -v d="$W/plans" '/^mountlab-plan /{ if (f) close(f); f = d "/" n++ } { print > f }' || exit 1`,
    `OUTSIDE=" ${outside.join(' ')} "`,
    `DRIVER=${shJoin([DRIVER])}`,
    'pre() {',
    '  [ -f "$2" ] || return 0',
    String.raw`  while IFS= read -r l || [ -n "$l" ]; do printf '%s %s\n' "$1" "$l"; done < "$2"`,
    '}',
    't0=$EPOCHREALTIME',
    `for ((i = 0; i < ${count}; i++)); do`,
    '  O="$W/out/$i"',
    '  o=0; case $OUTSIDE in *" $i "*) o=1 ;; esac',
    '  unshare -m -p --fork --mount-proc --propagation private bash -c "$DRIVER" driver "$W/plans/$i" "$O" "$o" ' +
      '</dev/null >/dev/null 2>"$O/driver-err"',
    '  echo "@ $i"',
    '  pre o "$O/outside-status"; pre s "$O/status"; pre e "$O/outside-err"; pre e "$O/err"; pre e "$O/driver-err"',
    'done',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash expansions (microseconds)
    'echo "@end $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))"',
    'rm -rf "$W"',
    '',
  ].join('\n');
}

interface KernelAnswer {
  outside: string[];
  status: string[];
  err: string[];
}

function parseAnswers(stdout: string): { answers: Map<number, KernelAnswer>; guestMs?: number } {
  const answers = new Map<number, KernelAnswer>();
  let cur: KernelAnswer | undefined;
  let guestMs: number | undefined;
  for (const line of stdout.split('\n')) {
    const at = /^@ (\d+)$/.exec(line);
    const end = /^@end (\d+)$/.exec(line);
    if (at) answers.set(Number(at[1]), (cur = { outside: [], status: [], err: [] }));
    else if (end) guestMs = Number(end[1]);
    else if (cur && line.length > 1) {
      const rest = line.slice(2);
      if (line.startsWith('o ')) cur.outside.push(rest);
      else if (line.startsWith('s ')) cur.status.push(rest);
      else if (line.startsWith('e ')) cur.err.push(rest);
    }
  }
  return { answers, ...(guestMs !== undefined ? { guestMs } : {}) };
}

interface Case {
  yaml: string;
  problems: ModelProblem[];
  outside: boolean;
  wire: string;
}

const say = (s: string) => process.stdout.write(`${s}\n`);

// The scenarios and the model's answers first: nothing here needs the VM.
const r = prng(seed);
const cases: Case[] = [];
for (let i = 0; i < count; i++) {
  const yaml = randomScenario(r);
  const scenario = parseScenario(yaml, `random-${i}.yaml`).scenario;
  const program = compileProgram(scenario, `m${i}`);
  cases.push({
    yaml,
    problems: modelProblems(scenario),
    outside: program.outside.length > 0,
    wire: serialiseProgram(program),
  });
}

const dir = mkdtempSync(join(tmpdir(), 'mountlab-bench-model-'));
let exitCode = 0;
try {
  await waitForVmSlot();
  say(`load: ${loadContext()}`);
  const image = await defaultGuest();
  const target = new VmTarget({
    image,
    accel: 'auto',
    machine: 'microvm',
    memoryMiB: 1024,
    runDir: join(dir, 'vm'),
    log: () => {},
  });
  const tBoot = Date.now();
  await using vm = await target.start(new AbortController().signal);
  const bootMs = Date.now() - tBoot;
  say(`VM ready in ${sec(bootMs)} (${vm.facts.accel}, kernel ${vm.facts.kernel}, criu ${vm.facts.criu})`);

  const outside = cases.flatMap((c, i) => (c.outside ? [i] : []));
  const t0 = Date.now();
  const res = await vm.exec(['bash', '-c', guestLoop(outside)], {
    stdin: cases.map((c) => c.wire).join(''),
    timeoutMs: 600_000 + count * (lineTimeout + 30) * 1000,
    label: 'model-vs-kernel loop',
  });
  const runMs = Date.now() - t0;
  const { answers, guestMs } = parseAnswers(res.stdout);
  if (res.code !== 0) say(`the guest loop exited ${res.code}: ${res.stderr.trim()}`);

  const tally = { ready: 0, failed: 0, neither: 0, refused: 0, refusedSameStep: 0, disagree: 0, missing: 0 };
  for (let i = 0; i < count; i++) {
    const c = cases[i]!;
    const a = answers.get(i);
    if (!a) {
      tally.missing++;
      continue;
    }
    const j: Judgement = judge(c.problems, a.outside, a.status);
    tally[j.verdict]++;
    if (j.refused) tally.refused++;
    if (j.refused && !j.disagreements.length) tally.refusedSameStep++;
    if (list)
      say(
        `${i}: kernel ${j.verdict} ${a.outside.length ? `outside [${a.outside.join(' | ')}] ` : ''}` +
          `tree [${a.status.join(' | ')}], model ` +
          (c.problems.length ? c.problems.map((p) => p.message).join(' | ') : 'accepts'),
      );
    if (j.disagreements.length) {
      tally.disagree++;
      say(`\nDISAGREEMENT in scenario ${i} (seed ${seed}): ${j.disagreements.join('; ')}`);
      say(c.yaml.trimEnd());
      say(`model: ${c.problems.length ? c.problems.map((p) => `${p.path}: ${p.message}`).join(' | ') : 'accepts'}`);
      say(`kernel: outside [${a.outside.join(' | ')}] tree [${a.status.join(' | ')}]`);
      if (a.err.length) say(`kernel stderr: ${a.err.join(' | ')}`);
    }
  }

  say(`\nscenarios: ${count} (seed ${seed}), kernel ${vm.facts.kernel} (${vm.facts.accel})`);
  say(
    `kernel: built ${tally.ready}, failed at a step ${tally.failed}, neither (no line in ${lineTimeout} s) ` +
      `${tally.neither}${tally.missing ? `, no answer ${tally.missing}` : ''}`,
  );
  say(
    `model: refused ${tally.refused}, the kernel failed at the refused step in ${tally.refusedSameStep} of them; ` +
      `accepted ${count - tally.refused - tally.missing}`,
  );
  say(`agree: ${count - tally.disagree - tally.missing} of ${count}; disagree: ${tally.disagree}`);
  say(
    `time: boot ${sec(bootMs)}; the run ${sec(runMs)} in one ssh command (guest loop ${sec(guestMs ?? NaN)}, ` +
      `${sec(runMs / count)} per scenario)`,
  );
  say(`load at the end: ${loadContext()}`);
  if (tally.disagree) exitCode = 1;
  else if (tally.missing) exitCode = 2;
  else if (tally.ready < count / 24 || tally.refused < count / 12) {
    say('the run did not exercise both sides of the property (too few built or refused)');
    exitCode = 3;
  } else say('the property holds: the model accepts every scenario the kernel accepts');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = exitCode;
