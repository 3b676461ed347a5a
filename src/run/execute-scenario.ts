import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MountlabError, TimeoutError } from '../errors.js';
import { parseCapture, type Capture } from '../capture/capture-file.js';
import type { Difference } from '../compare/compare.js';
import { compareWithDropped, setAside } from '../compare/dropped-mounts.js';
import { judgeFdProbes, planFdProbes } from '../compare/fd-probe.js';
import { judgePropagationProbes, planPropagationProbes } from '../compare/propagation-probe.js';
import { criuRestore, judgeDump, judgeRestore, type EngineRun } from '../engine/criu.js';
import { kernelTrouble, logExcerpt } from '../engine/criu-log.js';
import { compileScenario } from '../plan/compile.js';
import type { GuestPlan } from '../plan/plan.js';
import type {
  Answer,
  BuildAnswer,
  CleanupAnswer,
  EngineAnswer,
  FinishAnswer,
  FinishProbes,
  GuestClient,
  Leak,
  SetupAnswer,
} from '../target/guest-client.js';
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
import type {
  DifferenceRecord,
  Phase,
  PhaseTiming,
  ProbeSummary,
  ScenarioResult,
  TargetFacts,
} from '../results/result.js';
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
  const client = guest.client;
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
  const plan = compileScenario(s, { id: ctx.guestId, mountEngine, flavor: run.flavor });
  // What the guest runs: the program in words, for people, and as sent.
  await save(SCENARIO_FILES.program, plan.program.rendering);
  await save(SCENARIO_FILES.wirePlan, plan.program.wire);
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
  /**
   * Runs and times phase `p`. A phase whose guest call also ran the phases
   * after it (build, engine) gives their guest-measured time as `later`:
   * its own time is the call's less theirs, the round trip included.
   * `ms`, when given, is the phase's time as the guest measured it.
   */
  const phase = async <T>(p: Phase, fn: () => Promise<T>, time: { later?: () => number; ms?: number } = {}) => {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    current = p;
    ctx.reporter.onPhase?.(run.name, ctx.cell, p);
    const t0 = Date.now();
    const took = () => time.ms ?? Math.max(0, Date.now() - t0 - (time.later?.() ?? 0));
    try {
      const v = await fn();
      phases.push({ phase: p, ms: took(), ok: true });
      return v;
    } catch (e) {
      phases.push({ phase: p, ms: took(), ok: false });
      throw e;
    }
  };

  const dropped = expectation.kind === 'identical' ? (expectation.dropped ?? []) : [];
  /** The clean-up, when the last call (the probes') did it already. */
  let finished: CleanedUp | undefined;
  /** The scenario's last call, opened during the dump and restore (unless it restores again). */
  let last: OpenedFinish | undefined;
  try {
    const unmet = unmetFlavor(s, run.flavor) ?? (await unmetRequirement(client, t.facts, s));
    if (unmet) throw new Verdict('skip', unmet, 'setup');
    // One guest call: setup, the leaking task, the leak scan, the capture.
    let built: BuildAnswer | undefined;
    const pid = await phase(
      'setup',
      async () => {
        built = await client.build(plan);
        return setup(built.setup, plan, save);
      },
      { later: () => built?.captureMs ?? 0 },
    );
    const before = await phase(
      'capture-before',
      async () => {
        const b = built!;
        if (b.leak && !b.leak.ok)
          throw new Verdict(
            'error',
            `cannot start the task that leaks ${plan.leak.join(',')}: ${b.leak.stderr.trim()}`,
          );
        result.leaks = leakSentences(answered(b.leaks, 'the leak scan'));
        return captured(answered(b.capture, 'the capture'));
      },
      { ms: built!.captureMs },
    );
    await save(SCENARIO_FILES.before, before.text, 'latin1');
    if (ctx.stopAfter === 'capture-before')
      throw new Verdict('pass', 'built and captured; stopped before the dump as asked', 'capture-before');
    // One guest call: dump, restore, the capture of the restored tree.
    let engine: EngineAnswer | undefined;
    if (!s.engine?.['restore-twice']) last = openFinish(client, plan);
    const dump = await phase(
      'dump',
      async () => {
        engine = await client.engine(plan, pid);
        return judgeDump(engine.dump);
      },
      { later: () => (engine?.restore?.durationMs ?? 0) + (engine?.captureMs ?? 0) },
    );
    await save(SCENARIO_FILES.dumpLog, dump.log);
    engineVerdict(dump, expectation, 'dump');
    const ran = engine!;
    const restore = await phase('restore', async () => judgeRestore(answered(ran.restore, 'the restore')), {
      ms: ran.restore?.durationMs ?? 0,
    });
    await save(SCENARIO_FILES.restoreLog, restore.log);
    engineVerdict(restore, expectation, 'restore');
    const after = await phase('capture-after', async () => captured(answered(ran.capture, 'the capture')), {
      ms: ran.captureMs,
    });
    await save(SCENARIO_FILES.after, after.text, 'latin1');
    await phase('compare', async () => {
      const cmp = compareWithDropped(before.capture, after.capture, dropped);
      result.differences = records(cmp.differences);
      result.filtered = cmp.filtered;
      if (!cmp.equivalent) throw new Verdict('fail', result.differences[0]?.sentence ?? 'topology differs', 'compare');
    });
    if (ctx.probes) {
      await phase(
        'probe',
        async () => {
          // Mounts CRIU dropped as expected have nothing to probe after restore.
          const found = await probe(client, plan, setAside(before.capture, dropped), after.capture, save, {
            last,
            cleanedUp: (c) => (finished = c),
          });
          result.probes = found.summary;
          result.differences = records(found.differences);
          if (found.differences.length) throw new Verdict('fail', found.differences[0]!.sentence, 'probe');
        },
        { later: () => finished?.ms ?? 0 },
      );
    }
    if (s.engine?.['restore-twice']) {
      // Seed 004: a restore must leave the images (and what they point at,
      // such as link-remap files) able to restore again.
      const killed = await client.kill(plan);
      if (!killed.ok)
        throw new Verdict('error', `cannot end the first restored tree: ${killed.stderr.trim()}`, 'restore-again');
      const again = await phase('restore-again', () => criuRestore(client, plan));
      await save(SCENARIO_FILES.restoreAgainLog, again.log);
      if (!again.ok) {
        throw new Verdict(
          again.failure?.kind === 'failed' ? 'fail' : 'error',
          `the second restore of the same images failed: ${again.failure?.headline ?? 'criu restore failed'}`,
          'restore-again',
          logExcerpt(`${again.log}\n${again.stderr}`),
          again.failure?.kind === 'timeout',
        );
      }
      const second = await phase('capture-again', () => capture(client, again.pid!, plan));
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
    if (last && !last.sent) {
      // Nothing to probe: the opened call only cleans up.
      finished = await last.send({}).then(
        (f) => ({ answer: f.cleanup, ms: f.cleanupMs }),
        () => undefined,
      );
    }
    if (phases.length) await cleanup(guest, plan, phases, finished);
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

/** The tree's init pid from what setup answered, or the verdict on why it is not there. */
async function setup(
  r: SetupAnswer,
  plan: GuestPlan,
  save: (n: string, c: string, e?: BufferEncoding) => Promise<void>,
): Promise<number> {
  if (r.ok) return r.pid;
  await save(SCENARIO_FILES.setupErr, r.stderr);
  const stderrTail = r.stderr.trim().split('\n').slice(-5).join('\n');
  const message = lastMessage(stderrTail);
  switch (r.kind) {
    case 'outside-failed': {
      const n = r.step;
      const label = plan.outsideLabels[n - 1] ?? '?';
      const which = n === 0 ? 'before the first outside step' : `outside step ${n} (${label})`;
      const said = withoutStep(message, n, label);
      throw new Verdict('error', `${which} failed: ${said || 'no message'}`, 'setup', stderrTail);
    }
    case 'step-failed': {
      const n = r.step;
      const label = n === 0 ? 'entering the scenario root' : `${plan.stepLabels[n - 1] ?? '?'}`;
      throw new Verdict(
        'error',
        `setup failed at step ${n} (${label}): ${withoutStep(message, n, label) || `exit ${r.rc}`}`,
        'setup',
        stderrTail,
      );
    }
    case 'timeout': {
      const n = r.lastStep;
      throw new Verdict(
        'error',
        `setup hung at step ${n} (${plan.stepLabels[n - 1] ?? '?'}) and was stopped after ${plan.limits.setup} s`,
        'setup',
        stderrTail,
      );
    }
    case 'other':
      throw new Verdict('error', `setup failed: ${r.message}`, 'setup', stderrTail);
  }
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
/**
 * The helper names the failing step itself ("mountlab-helper: step N
 * (LABEL): ..."); the verdict names it already, so it is said once.
 */
function withoutStep(message: string, n: number, label: string): string {
  const prefix = `mountlab-helper: step ${n} (${label}): `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

export function lastMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^dmesg\(1\) may have more information/.test(l));
  return lines[lines.length - 1] ?? '';
}

async function capture(client: GuestClient, pid: number, plan: GuestPlan): Promise<{ capture: Capture; text: string }> {
  return captured(await client.capture(plan, pid));
}

function captured(r: Answer<{ text: string }>): { capture: Capture; text: string } {
  if (!r.ok) throw new Verdict('error', `capture failed: ${r.stderr.trim()}`);
  return { capture: parseCapture(r.text, 'guest capture'), text: r.text };
}

/** A part of a batched call that the guest should have run, since the part before it succeeded. */
function answered<T>(part: T | undefined, what: string): T {
  if (part === undefined) throw new Error(`the guest did not run ${what}`);
  return part;
}

/** Decides what a failed or successful engine phase means under the expectation. */
function engineVerdict(run: EngineRun, x: Expectation, phase: 'dump' | 'restore'): void {
  const v = judgePhase(x, phase, {
    ok: run.ok,
    ...(run.failure ? { failure: run.failure } : {}),
    log: run.log,
    stderr: run.stderr,
  });
  if (!v) return;
  // A met expectation ends the scenario there: nothing after the failed phase can be compared.
  const excerpt = v.outcome === 'pass' ? undefined : logExcerpt(`${run.log}\n${run.stderr}`);
  throw new Verdict(v.outcome, v.reason, phase, excerpt, v.outcome === 'error' && run.failure?.kind === 'timeout');
}

/**
 * The live probes on the restored tree: propagation (a marker mount per
 * propagating mount) and writes through restored fds. Both change the
 * restored tree, so they come after every capture of it.
 */
async function probe(
  client: GuestClient,
  plan: GuestPlan,
  before: Capture,
  after: Capture,
  save: (n: string, c: string, e?: BufferEncoding) => Promise<void>,
  { last, cleanedUp }: { last: OpenedFinish | undefined; cleanedUp: (c: CleanedUp) => void },
): Promise<{ summary: ProbeSummary; differences: Difference[] }> {
  const pp = planPropagationProbes(before, after, plan.id);
  const fp = planFdProbes(before, after, plan.id);
  const want: FinishProbes = {
    ...(pp.probes.length ? { propagation: { input: pp.input, count: pp.probes.length } } : {}),
    ...(fp.input ? { fds: fp.input } : {}),
  };
  let asked: Pick<FinishAnswer, 'propagation' | 'fds'>;
  if (last) {
    const f = await last.send(want);
    cleanedUp({ answer: f.cleanup, ms: f.cleanupMs });
    asked = f;
  } else {
    asked = {
      ...(want.propagation
        ? { propagation: await client.probePropagation(plan, want.propagation.input, want.propagation.count) }
        : {}),
      ...(want.fds ? { fds: await client.probeFds(want.fds) } : {}),
    };
  }
  let prop = { differences: [] as Difference[], checks: 0, copiesChecked: 0, notes: [] as string[] };
  if (asked.propagation) {
    const r = asked.propagation;
    await save(SCENARIO_FILES.probes, r.output, 'latin1');
    if (!r.ok) throw new Verdict('error', `propagation probes failed: ${r.stderr.trim() || `exit ${r.code}`}`, 'probe');
    prop = judgePropagationProbes(pp, r.replies);
  } else {
    prop.notes = judgePropagationProbes(pp, new Map()).notes;
  }
  let fd = { differences: [] as Difference[], notes: fp.notes, checks: 0, probed: 0 };
  if (asked.fds) {
    const r = asked.fds;
    await save(SCENARIO_FILES.fdProbes, r.output, 'latin1');
    if (!r.ok) throw new Verdict('error', `fd write probes failed: ${r.stderr.trim() || `exit ${r.code}`}`, 'probe');
    fd = judgeFdProbes(fp, r.replies);
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
function leakSentences(r: Answer<{ leaks: Leak[] }>): string[] {
  if (!r.ok) throw new Verdict('error', `cannot look for namespace leaks: ${r.stderr.trim()}`);
  return r.leaks.map(
    (l) => `the tree's ${l.namespace} namespace is shared with pid ${l.pid} (${l.comm}), outside the tree`,
  );
}

/** criu check --feature answers, per guest: they cost an exec each. */
const featureCache = new WeakMap<GuestClient, Map<string, boolean>>();

/** `requires.flavors` without this run's flavour (zdtm's ns, uns). */
function unmetFlavor(s: Scenario, flavor: ScenarioRun['flavor']): string | undefined {
  const want = s.requires?.flavors;
  return want && !want.includes(flavor)
    ? `runs only in the ${want.join(' or ')} flavour; this run is ${flavor}`
    : undefined;
}

/** The first requirement the guest does not meet, said plainly; undefined when all are met. */
async function unmetRequirement(
  client: GuestClient,
  facts: Readonly<TargetFacts>,
  s: Scenario,
): Promise<string | undefined> {
  const r = s.requires;
  if (!r) return undefined;
  if (r.kernel && !inRange(facts.kernel, r.kernel)) return `needs kernel ${r.kernel}; this guest runs ${facts.kernel}`;
  if (r.criu && !inRange(facts.criu, r.criu)) return `needs criu ${r.criu}; this guest has ${facts.criu}`;
  if (r.targets && !r.targets.includes(facts.target))
    return `runs only on the ${r.targets.join(' or ')} target; this is ${facts.target}`;
  if (r.paths?.length) {
    const missing = await client.missingPaths(r.paths);
    if (missing.length) return `needs ${missing.join(', ')}, which this guest (kernel ${facts.kernel}) does not have`;
  }
  let cache = featureCache.get(client);
  if (!cache) featureCache.set(client, (cache = new Map()));
  for (const f of r.features ?? []) {
    if (!cache.has(f)) cache.set(f, await client.criuFeature(f));
    if (!cache.get(f))
      return `criu check --feature ${f} fails on this guest (kernel ${facts.kernel}, criu ${facts.criu})`;
  }
  return undefined;
}

/** The last guest call of a scenario, opened before it knows what to probe. */
interface OpenedFinish {
  /** Gives the probes (the first time only) and waits for the answer. */
  send(probes: FinishProbes): Promise<FinishAnswer>;
  readonly sent: boolean;
}

/**
 * Opens the finish call now: under TCG its ssh channel, sshd's fork and the
 * helper's exec then happen while the guest dumps and restores, not after.
 */
function openFinish(client: GuestClient, plan: GuestPlan): OpenedFinish {
  let give: (p: FinishProbes) => void = () => {};
  const answer = client.finish(
    plan,
    new Promise<FinishProbes>((resolve) => {
      give = resolve;
    }),
  );
  // Judged where it is awaited; a connection lost meanwhile must not be an unhandled rejection.
  answer.catch(() => {});
  let sent = false;
  return {
    send(probes) {
      if (!sent) give(probes);
      sent = true;
      return answer;
    },
    get sent() {
      return sent;
    },
  };
}

/** A clean-up done by the last guest call of a scenario, and how long it took there. */
interface CleanedUp {
  answer: CleanupAnswer;
  ms: number;
}

async function cleanup(guest: Guest, plan: GuestPlan, phases: PhaseTiming[], done?: CleanedUp): Promise<void> {
  if (!guest.usable) return;
  const t0 = Date.now();
  try {
    const r = done?.answer ?? (await guest.client.cleanup(plan));
    phases.push({ phase: 'cleanup', ms: done?.ms ?? Date.now() - t0, ok: r.ok });
    // A guest the scenario left dirty (a task that would not die, a mount or
    // loop device left over) does not run the next one.
    if (!r.ok) guest.retire(`cleanup failed (exit ${r.code})`);
    else if (r.dirty !== undefined) guest.retire(`left dirty: ${r.dirty}`);
  } catch {
    phases.push({ phase: 'cleanup', ms: Date.now() - t0, ok: false });
    guest.retire('cleanup did not finish');
  }
}
