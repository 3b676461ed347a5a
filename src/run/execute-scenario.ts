import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MountlabError, TimeoutError } from '../errors.js';
import { parseCapture, type Capture } from '../capture/capture-file.js';
import type { Difference } from '../compare/compare.js';
import { compareWithDropped, setAside } from '../compare/dropped-mounts.js';
import { judgeFdProbes, planFdProbes } from '../compare/fd-probe.js';
import { judgePropagationProbes, planPropagationProbes } from '../compare/propagation-probe.js';
import { HELPER } from '../plan/steps.js';
import { criuDump, criuRestore, type EngineRun } from '../engine/criu.js';
import { kernelTrouble, logExcerpt } from '../engine/criu-log.js';
import { compileScenario } from '../plan/compile.js';
import type { GuestPlan } from '../plan/plan.js';
import { LABCTL } from '../target/guest-facts.js';
import type { StartedTarget } from '../target/target.js';
import type { Reporter } from '../report/reporter.js';
import type { Guest } from './guest.js';
import {
  applyKnownBug,
  describeExpectation,
  expectationOf,
  judgePhase,
  unmetFailure,
  type Expectation,
} from './expectation.js';
import { inRange } from '../versions.js';
import type { Scenario } from '../scenario/scenario.generated.js';
import type { Outcome } from '../results/outcome.js';
import type { ScenarioRun } from './variants.js';
import type { DifferenceRecord, Phase, PhaseTiming, ProbeSummary, ScenarioResult } from '../results/result.js';
import { SCENARIO_FILES, scenarioDir } from '../results/artifacts.js';

export interface ScenarioContext {
  cell: string;
  runDir: string;
  reporter: Reporter;
  signal: AbortSignal;
  /** Unique per scenario within a guest. */
  guestId: string;
  /** Live probes after a clean comparison (--no-probes turns them off). */
  probes: boolean;
  /** --repeat: attempts after the first keep their artifacts in attempt-K/ under the scenario's directory. */
  attempt?: number;
  /**
   * Build and capture only (`mountlab import --verify`): the verdict is
   * `pass` once before.capture is saved; nothing is dumped.
   */
  stopAfter?: 'capture-before';
}

/** Raised inside the pipeline to end a scenario with a verdict other than pass. */
class Verdict extends Error {
  constructor(
    readonly outcome: Outcome,
    readonly reason: string,
    readonly phase?: Phase,
    readonly excerpt?: string,
    /** CRIU did not finish in its limit and was killed. */
    readonly hung?: boolean,
  ) {
    super(reason);
  }
}

/** Phases whose hang says more about the cell than about the scenario (the runner counts them). */
const ENGINE_PHASES: ReadonlySet<Phase> = new Set(['dump', 'restore', 'restore-again']);

/**
 * Runs one scenario on a started target: set up, capture, dump, restore,
 * capture, compare. The verdict comes only from what the guest did. A guest
 * that oopsed or was left dirty is retired: no further scenario runs on it.
 */
export async function executeScenario(guest: Guest, run: ScenarioRun, ctx: ScenarioContext): Promise<ScenarioResult> {
  const t = guest.target;
  const { loaded, mountEngine } = run;
  const s = loaded.scenario;
  const started = Date.now();
  const dir = join(ctx.runDir, scenarioDir(ctx.cell, run.name, ctx.attempt));
  await mkdir(dir, { recursive: true });
  const artifacts: Record<string, string> = {};
  const save = async (name: string, content: string, encoding: BufferEncoding = 'utf8') => {
    await writeFile(join(dir, name), content, encoding);
    artifacts[name] = relative(ctx.runDir, join(dir, name));
  };
  const phases: PhaseTiming[] = [];
  const expectation = expectationOf(s, mountEngine, t.facts);
  const plan = compileScenario(s, { id: ctx.guestId, file: loaded.file, mountEngine });
  await save(SCENARIO_FILES.treeScript, plan.treeScript);
  const consoleMark = t.consoleMark();

  const result: ScenarioResult = {
    scenario: run.name,
    mountEngine,
    file: loaded.file,
    cell: ctx.cell,
    outcome: 'error',
    reason: '',
    expected: describeExpectation(expectation),
    phases,
    differences: [],
    filtered: [],
    leaks: [],
    artifacts,
    durationMs: 0,
  };

  let current: Phase = 'setup';
  const phase = async <T>(p: Phase, fn: () => Promise<T>): Promise<T> => {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    current = p;
    ctx.reporter.onPhase?.(run.name, ctx.cell, p);
    const t0 = Date.now();
    try {
      const v = await fn();
      phases.push({ phase: p, ms: Date.now() - t0, ok: true });
      return v;
    } catch (e) {
      phases.push({ phase: p, ms: Date.now() - t0, ok: false });
      throw e;
    }
  };

  const dropped = expectation.kind === 'identical' ? (expectation.dropped ?? []) : [];
  try {
    const unmet = await unmetRequirement(t, s);
    if (unmet) throw new Verdict('skip', unmet, 'setup');
    const pid = await phase('setup', () => setup(t, plan, save));
    const before = await phase('capture-before', async () => {
      if (plan.leak.length) {
        const l = await t.exec([LABCTL, 'leak', plan.id, String(pid), plan.leak.join(',')], {
          timeoutMs: 30_000,
          label: 'start the leaking task',
        });
        if (l.code !== 0)
          throw new Verdict('error', `cannot start the task that leaks ${plan.leak.join(',')}: ${l.stderr.trim()}`);
      }
      result.leaks = await findLeaks(t, plan, pid);
      return capture(t, pid, plan);
    });
    await save(SCENARIO_FILES.before, before.text, 'latin1');
    if (ctx.stopAfter === 'capture-before')
      throw new Verdict('pass', 'built and captured; stopped before the dump as asked', 'capture-before');
    const dump = await phase('dump', () => criuDump(t, plan, pid));
    await save(SCENARIO_FILES.dumpLog, dump.log);
    engineVerdict(dump, expectation, 'dump');
    const restore = await phase('restore', () => criuRestore(t, plan));
    await save(SCENARIO_FILES.restoreLog, restore.log);
    engineVerdict(restore, expectation, 'restore');
    const after = await phase('capture-after', () => capture(t, restore.pid!, plan));
    await save(SCENARIO_FILES.after, after.text, 'latin1');
    await phase('compare', async () => {
      const cmp = compareWithDropped(before.capture, after.capture, dropped);
      result.differences = records(cmp.differences);
      result.filtered = cmp.filtered;
      if (!cmp.equivalent) throw new Verdict('fail', result.differences[0]?.sentence ?? 'topology differs', 'compare');
    });
    if (ctx.probes) {
      await phase('probe', async () => {
        // Mounts CRIU dropped as expected have nothing to probe after restore.
        const found = await probe(t, plan.id, setAside(before.capture, dropped), after.capture, save);
        result.probes = found.summary;
        result.differences = records(found.differences);
        if (found.differences.length) throw new Verdict('fail', found.differences[0]!.sentence, 'probe');
      });
    }
    if (s.engine?.['restore-twice']) {
      // Seed 004: a restore must leave the images (and what they point at,
      // such as link-remap files) able to restore again.
      const killed = await t.exec([LABCTL, 'kill', plan.id], { timeoutMs: 30_000, label: 'end the restored tree' });
      if (killed.code !== 0)
        throw new Verdict('error', `cannot end the first restored tree: ${killed.stderr.trim()}`, 'restore-again');
      const again = await phase('restore-again', () => criuRestore(t, plan));
      await save(SCENARIO_FILES.restoreAgainLog, again.log);
      if (!again.ok) {
        throw new Verdict(
          again.failure?.kind === 'failed' ? 'fail' : 'error',
          `the second restore of the same images failed: ${again.failure?.headline ?? 'criu restore failed'}`,
          'restore-again',
          logExcerpt(`${again.log}\n${again.exec.stderr}`),
          again.failure?.kind === 'timeout',
        );
      }
      const second = await phase('capture-again', () => capture(t, again.pid!, plan));
      await save(SCENARIO_FILES.afterAgain, second.text, 'latin1');
      const cmp = compareWithDropped(before.capture, second.capture, dropped);
      result.differences = records(cmp.differences, 'second restore: ');
      if (!cmp.equivalent)
        throw new Verdict('fail', result.differences[0]?.sentence ?? 'second restore differs', 'capture-again');
    }
    const unmetWhy = unmetFailure(expectation);
    if (unmetWhy) throw new Verdict('fail', unmetWhy, 'compare');
    result.outcome = 'pass';
    result.reason = 'restored topology is identical up to renumbering';
    if (dropped.length) result.reason += `, but for the mounts CRIU drops as expected: ${dropped.join(', ')}`;
  } catch (e) {
    if (e instanceof Verdict) {
      result.outcome = e.outcome;
      result.reason = e.reason;
      if (e.outcome === 'error' || e.excerpt) {
        result.error = {
          phase: e.phase ?? current,
          message: e.reason,
          ...(e.excerpt ? { excerpt: e.excerpt } : {}),
          ...(e.hung ? { hung: true } : {}),
        };
      }
    } else if (ctx.signal.aborted) {
      throw e;
    } else {
      const msg = e instanceof MountlabError || e instanceof Error ? e.message : String(e);
      result.outcome = 'error';
      result.reason = `${current}: ${msg}`;
      result.error = { phase: current, message: msg };
      if (e instanceof TimeoutError) {
        result.reason = `${current}: hung (${msg})`;
        if (ENGINE_PHASES.has(current)) result.error.hung = true;
      }
    }
  } finally {
    if (phases.length) await cleanup(guest, plan, phases);
  }
  if (result.outcome !== 'skip') {
    const v = applyKnownBug(expectation, t.facts, {
      outcome: result.outcome,
      reason: result.reason,
      sentences: result.differences.map((d) => d.sentence),
    });
    result.outcome = v.outcome;
    result.reason = v.reason;
  }
  // The kernel's own failures override whatever CRIU said.
  const trouble = kernelTrouble(t.consoleSince(consoleMark));
  if (trouble) {
    // A kernel that oopsed is not trusted with the next scenario.
    guest.retire('kernel trouble on the console');
    await save(SCENARIO_FILES.kernelTrouble, trouble);
    result.outcome = 'error';
    result.reason = `kernel oops: ${trouble.split('\n')[0]!.trim()}`;
    result.error = { phase: current, message: result.reason, excerpt: trouble };
  }
  result.durationMs = Date.now() - started;
  return result;
}

async function setup(
  t: StartedTarget,
  plan: GuestPlan,
  save: (n: string, c: string, e?: BufferEncoding) => Promise<void>,
): Promise<number> {
  if (plan.outsideScript) {
    await t.writeFile(`/run/mountlab/${plan.id}/outside.sh`, plan.outsideScript);
    await save(SCENARIO_FILES.outsideScript, plan.outsideScript);
  }
  // One round trip: labctl makes the root, takes tree.sh on stdin and waits for the tree.
  const r = await t.exec([LABCTL, 'setup', plan.id, String(plan.limits.setup)], {
    stdin: plan.treeScript,
    timeoutMs: plan.limits.setup * 1000 + 30_000,
    label: 'build topology',
  });
  const pid = r.stdout.match(/^pid=(\d+)$/m);
  if (r.code === 0 && pid) return Number(pid[1]);
  const err = await t.exec([LABCTL, 'err', plan.id], { timeoutMs: 10_000, label: 'read setup errors' });
  await save(SCENARIO_FILES.setupErr, err.stdout);
  const failed = r.stdout.match(/failed (\d+) (\d+)/);
  const last = r.stdout.match(/^last step (\d+)/m);
  const stderrTail = err.stdout.trim().split('\n').slice(-5).join('\n');
  const message = lastMessage(stderrTail);
  const outside = r.stdout.match(/^outside-failed (\d+)/m);
  if (outside) {
    const n = Number(outside[1]);
    const which = n === 0 ? 'before the first outside step' : `outside step ${n} (${plan.outsideLabels[n - 1] ?? '?'})`;
    throw new Verdict('error', `${which} failed: ${message || 'no message'}`, 'setup', stderrTail);
  }
  if (failed) {
    const n = Number(failed[1]);
    const label = n === 0 ? 'entering the scenario root' : `${plan.stepLabels[n - 1] ?? '?'}`;
    throw new Verdict(
      'error',
      `setup failed at step ${n} (${label}): ${message || `exit ${failed[2]}`}`,
      'setup',
      stderrTail,
    );
  }
  if (r.code === 124 || /setup-timeout/.test(r.stdout)) {
    const n = last ? Number(last[1]) : 0;
    throw new Verdict(
      'error',
      `setup hung at step ${n} (${plan.stepLabels[n - 1] ?? '?'}) and was stopped after ${plan.limits.setup} s`,
      'setup',
      stderrTail,
    );
  }
  throw new Verdict('error', `setup failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`, 'setup', stderrTail);
}

/** Differences as results.json records them; `prefix` says which restore they are about. */
function records(differences: Difference[], prefix = ''): DifferenceRecord[] {
  return differences.map((d) => ({
    kind: d.kind,
    sentence: `${prefix}${d.sentence}`,
    ...(d.mount ? { mount: d.mount } : {}),
    ...(d.task ? { task: d.task } : {}),
  }));
}

/**
 * The line of a failed step's stderr that says what went wrong: the last
 * one, skipping util-linux's "dmesg(1) may have more information after
 * failed mount system call" footnote, which follows every mount error.
 */
export function lastMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^dmesg\(1\) may have more information/.test(l));
  return lines[lines.length - 1] ?? '';
}

async function capture(t: StartedTarget, pid: number, plan: GuestPlan): Promise<{ capture: Capture; text: string }> {
  const r = await t.exec([LABCTL, 'capture', String(pid)], {
    timeoutMs: plan.limits.capture * 1000,
    label: 'capture',
    encoding: 'latin1',
  });
  if (r.code !== 0) throw new Verdict('error', `capture failed: ${r.stderr.trim()}`);
  return { capture: parseCapture(r.stdout, 'guest capture'), text: r.stdout };
}

/** Decides what a failed or successful engine phase means under the expectation. */
function engineVerdict(run: EngineRun, x: Expectation, phase: 'dump' | 'restore'): void {
  const v = judgePhase(x, phase, {
    ok: run.ok,
    ...(run.failure ? { failure: run.failure } : {}),
    log: run.log,
    stderr: run.exec.stderr,
  });
  if (!v) return;
  // A met expectation ends the scenario there: nothing after the failed phase can be compared.
  const excerpt = v.outcome === 'pass' ? undefined : logExcerpt(`${run.log}\n${run.exec.stderr}`);
  throw new Verdict(v.outcome, v.reason, phase, excerpt, v.outcome === 'error' && run.failure?.kind === 'timeout');
}

/**
 * The live probes on the restored tree: propagation (a marker mount per
 * propagating mount) and writes through restored fds. Both change the
 * restored tree, so they come after every capture of it.
 */
async function probe(
  t: StartedTarget,
  id: string,
  before: Capture,
  after: Capture,
  save: (n: string, c: string, e?: BufferEncoding) => Promise<void>,
): Promise<{ summary: ProbeSummary; differences: Difference[] }> {
  const pp = planPropagationProbes(before, after, id);
  let prop = { differences: [] as Difference[], checks: 0, copiesChecked: 0, notes: [] as string[] };
  if (pp.probes.length) {
    const r = await t.exec([LABCTL, 'probe', id], {
      stdin: pp.input,
      timeoutMs: 60_000 + pp.probes.length * 5_000,
      label: 'propagation probes',
      encoding: 'latin1',
    });
    await save(SCENARIO_FILES.probes, r.stdout, 'latin1');
    if (r.code !== 0)
      throw new Verdict('error', `propagation probes failed: ${r.stderr.trim() || `exit ${r.code}`}`, 'probe');
    prop = judgePropagationProbes(pp, r.stdout);
  } else {
    prop.notes = judgePropagationProbes(pp, '').notes;
  }
  const fp = planFdProbes(before, after, id);
  let fd = { differences: [] as Difference[], notes: fp.notes, checks: 0, probed: 0 };
  if (fp.input) {
    const r = await t.exec([HELPER, 'fd-probe'], {
      stdin: fp.input,
      timeoutMs: 60_000,
      label: 'fd write probes',
      encoding: 'latin1',
    });
    await save(SCENARIO_FILES.fdProbes, r.stdout, 'latin1');
    if (r.code !== 0)
      throw new Verdict('error', `fd write probes failed: ${r.stderr.trim() || `exit ${r.code}`}`, 'probe');
    fd = judgeFdProbes(fp, r.stdout);
  }
  return {
    summary: {
      propagation: prop.checks,
      copies: prop.copiesChecked,
      fdWrites: fd.probed,
      fdChecks: fd.checks,
      notes: [...prop.notes, ...fd.notes],
    },
    differences: [...prop.differences, ...fd.differences],
  };
}

/** Tasks outside the tree sharing its namespaces, said in a line each. */
async function findLeaks(t: StartedTarget, plan: GuestPlan, pid: number): Promise<string[]> {
  const r = await t.exec([LABCTL, 'leaks', plan.id, String(pid)], { timeoutMs: 30_000, label: 'look for leaks' });
  if (r.code !== 0) throw new Verdict('error', `cannot look for namespace leaks: ${r.stderr.trim()}`);
  return r.stdout
    .split('\n')
    .map((l) => l.match(/^@leak (\S+) pid=(\d+) comm=(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => `the tree's ${m[1]} namespace is shared with pid ${m[2]} (${m[3]}), outside the tree`);
}

/** criu check --feature answers, per target: they cost an exec each. */
const featureCache = new WeakMap<StartedTarget, Map<string, boolean>>();

/** The first requirement the target does not meet, said plainly; undefined when all are met. */
async function unmetRequirement(t: StartedTarget, s: Scenario): Promise<string | undefined> {
  const r = s.requires;
  if (!r) return undefined;
  if (r.kernel && !inRange(t.facts.kernel, r.kernel))
    return `needs kernel ${r.kernel}; this guest runs ${t.facts.kernel}`;
  if (r.criu && !inRange(t.facts.criu, r.criu)) return `needs criu ${r.criu}; this guest has ${t.facts.criu}`;
  if (r.targets && !r.targets.includes(t.facts.target))
    return `runs only on the ${r.targets.join(' or ')} target; this is ${t.facts.target}`;
  if (r.paths?.length) {
    const c = await t.exec(['sh', '-c', 'for p; do [ -e "$p" ] || printf "%s\\n" "$p"; done', 'sh', ...r.paths], {
      timeoutMs: 30_000,
      label: 'check required paths',
    });
    const missing = c.stdout.split('\n').filter(Boolean);
    if (missing.length) return `needs ${missing.join(', ')}, which this guest (kernel ${t.facts.kernel}) does not have`;
  }
  let cache = featureCache.get(t);
  if (!cache) featureCache.set(t, (cache = new Map()));
  for (const f of r.features ?? []) {
    if (!cache.has(f)) {
      const c = await t.exec(['criu', 'check', '--feature', f], {
        timeoutMs: 60_000,
        label: `criu check --feature ${f}`,
      });
      cache.set(f, c.code === 0);
    }
    if (!cache.get(f))
      return `criu check --feature ${f} fails on this guest (kernel ${t.facts.kernel}, criu ${t.facts.criu})`;
  }
  return undefined;
}

async function cleanup(guest: Guest, plan: GuestPlan, phases: PhaseTiming[]): Promise<void> {
  if (!guest.usable) return;
  const t0 = Date.now();
  try {
    const r = await guest.target.exec([LABCTL, 'cleanup', plan.id], { timeoutMs: 30_000, label: 'cleanup' });
    phases.push({ phase: 'cleanup', ms: Date.now() - t0, ok: r.code === 0 });
    // A guest the scenario left dirty (a task that would not die, a mount or
    // loop device left over) does not run the next one.
    const dirty = /^dirty (.*)$/m.exec(r.stdout);
    if (r.code !== 0) guest.retire(`cleanup failed (exit ${r.code})`);
    else if (dirty) guest.retire(`left dirty: ${dirty[1]}`);
  } catch {
    phases.push({ phase: 'cleanup', ms: Date.now() - t0, ok: false });
    guest.retire('cleanup did not finish');
  }
}
