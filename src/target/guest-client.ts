import type { GuestPlan } from '../plan/plan.js';
import type { FdProbeReplies, PropagationProbeReplies } from '../capture/probe-answers.js';

/**
 * What the host asks of a guest for one scenario, and what it gets back,
 * typed (issue 18). run/execute-scenario.ts speaks only this; how the
 * request travels and how the answer is read (today: labctl over one ssh
 * exec per call, labctl-client.ts) is the implementation's business, in
 * one place. Tests fake this interface, not the guest's text.
 *
 * An answer says what the guest did; what that means for the scenario
 * (a verdict, a message) is the caller's judgement. A guest that stops
 * answering makes the call throw (the host's backstop, TimeoutError).
 */
export interface GuestClient {
  /** Builds the scenario root and the tree, and waits until every task holds. */
  setup(plan: GuestPlan): Promise<SetupAnswer>;
  /**
   * In one call: setup, then the leaking task (when plan.leak has
   * namespaces), the leak scan and the capture of the ready tree.
   */
  build(plan: GuestPlan): Promise<BuildAnswer>;
  /** In one call: dump, restore and the capture of the restored tree. */
  engine(plan: GuestPlan, pid: number): Promise<EngineAnswer>;
  /** A task outside the tree joins plan.leak's namespaces of `pid` (seed 003). */
  leak(plan: GuestPlan, pid: number): Promise<Done>;
  /** Tasks outside the tree sharing one of its namespaces. */
  leaks(plan: GuestPlan, pid: number): Promise<Answer<{ leaks: Leak[] }>>;
  /** The capture of the tree whose init is `pid`: the capture format's text, every byte one latin1 character. */
  capture(plan: GuestPlan, pid: number): Promise<Answer<{ text: string }>>;
  dump(plan: GuestPlan, pid: number): Promise<CriuAnswer>;
  /** Restores plan's images; `pid` is the restored tree's init when criu said so. */
  restore(plan: GuestPlan): Promise<CriuAnswer & { pid?: number }>;
  /**
   * The live propagation probes: `input` is what compare/propagation-probe.ts
   * planned, `output` what the guest said of each (judged there too).
   */
  probePropagation(
    plan: GuestPlan,
    input: string,
    count: number,
  ): Promise<ProbeAnswer & { replies: PropagationProbeReplies }>;
  /** The fd write probes (compare/fd-probe.ts plans and judges them). */
  probeFds(input: string): Promise<ProbeAnswer & { replies: FdProbeReplies }>;
  /** Ends the restored tree and waits until it is gone. */
  kill(plan: GuestPlan): Promise<Done>;
  /** Removes everything of the scenario and says whether the guest is as clean as before. */
  cleanup(plan: GuestPlan): Promise<CleanupAnswer>;
  /**
   * In one call, a scenario's last: the probes planned (either may be
   * absent), then the clean-up. One round trip instead of three. `probes`
   * may come later: the call is then opened at once and waits for them in
   * the guest, so it can be opened while the guest still dumps and restores.
   */
  finish(plan: GuestPlan, probes: FinishProbes | Promise<FinishProbes>): Promise<FinishAnswer>;
  /** Which of `paths` the guest lacks. */
  missingPaths(paths: readonly string[]): Promise<string[]>;
  /** Whether `criu check --feature NAME` passes. */
  criuFeature(name: string): Promise<boolean>;
}

/** A call the guest refused or failed: its exit status and what it said on stderr. */
export interface Refused {
  ok: false;
  code: number;
  stderr: string;
}

export type Answer<T> = ({ ok: true } & T) | Refused;
export type Done = Answer<object>;

/** A task outside the tree holding one of its namespaces. */
export interface Leak {
  namespace: string;
  pid: number;
  comm: string;
}

export type SetupAnswer = { ok: true; pid: number } | ({ ok: false; stderr: string } & SetupFailure);

/**
 * Why a setup did not get ready. `stderr` (above) is what the tree and the
 * outside steps printed, as setup.err keeps it; `step` numbers as
 * GuestPlan.stepLabels and outsideLabels do, from 1 (0: before the first).
 */
export type SetupFailure =
  | { kind: 'outside-failed'; step: number }
  | { kind: 'step-failed'; step: number; rc: number }
  | { kind: 'timeout'; lastStep: number }
  /** Anything else: what the setup call itself said, or its exit status. */
  | { kind: 'other'; message: string };

/**
 * What build did, each part after the one before it succeeded; times are
 * measured in the guest.
 */
export interface BuildAnswer {
  setup: SetupAnswer;
  setupMs: number;
  leak?: Done;
  leaks?: Answer<{ leaks: Leak[] }>;
  capture?: Answer<{ text: string }>;
  /** The leaking task, the leak scan and the capture together: the capture-before phase. */
  captureMs: number;
}

/** What engine did, each part after the one before it succeeded (durationMs measured in the guest). */
export interface EngineAnswer {
  dump: CriuAnswer;
  restore?: CriuAnswer & { pid?: number };
  capture?: Answer<{ text: string }>;
  captureMs: number;
}

/** One criu run, as engine/criu.ts classifies it. */
export interface CriuAnswer {
  /** criu's exit status; 124/137 when the guest's limit killed it. */
  code: number;
  /** Set when the call died of a signal. */
  signal?: string;
  stderr: string;
  /** criu's log (dump.log, restore.log), whatever criu wrote before it ended. */
  log: string;
  durationMs: number;
}

export interface ProbeAnswer {
  ok: boolean;
  code: number;
  stderr: string;
  /** The guest's answer, kept as an artifact and judged by compare/ (latin1: it holds paths). */
  output: string;
}

export interface CleanupAnswer {
  /** The clean-up itself ran to its end. */
  ok: boolean;
  code: number;
  /** What was left behind (a task, a mount, a loop device), when something was. */
  dirty?: string;
}

/** What `finish` is asked to probe: the planned inputs of compare/propagation-probe.ts and compare/fd-probe.ts. */
export interface FinishProbes {
  propagation?: { input: string; count: number };
  fds?: string;
}

export interface FinishAnswer {
  propagation?: ProbeAnswer & { replies: PropagationProbeReplies };
  fds?: ProbeAnswer & { replies: FdProbeReplies };
  /** The probes' time together, measured in the guest where it can be. */
  probeMs: number;
  cleanup: CleanupAnswer;
  cleanupMs: number;
}

/** finish made of the single calls, timed on the host. */
export async function finishInSteps(
  c: Pick<GuestClient, 'probePropagation' | 'probeFds' | 'cleanup'>,
  plan: GuestPlan,
  later: FinishProbes | Promise<FinishProbes>,
): Promise<FinishAnswer> {
  const probes = await later;
  let t0 = Date.now();
  const answer: Partial<FinishAnswer> = {};
  if (probes.propagation)
    answer.propagation = await c.probePropagation(plan, probes.propagation.input, probes.propagation.count);
  if (probes.fds) answer.fds = await c.probeFds(probes.fds);
  const probeMs = Date.now() - t0;
  t0 = Date.now();
  const cleanup = await c.cleanup(plan);
  return { ...answer, probeMs, cleanup, cleanupMs: Date.now() - t0 };
}

type Calls = Pick<GuestClient, 'setup' | 'leak' | 'leaks' | 'capture' | 'dump' | 'restore'>;

/** build made of the single calls, timed on the host: what a client without a batched call does. */
export async function buildInSteps(c: Calls, plan: GuestPlan): Promise<BuildAnswer> {
  let t0 = Date.now();
  const setup = await c.setup(plan);
  const setupMs = Date.now() - t0;
  t0 = Date.now();
  const answer: BuildAnswer = { setup, setupMs, captureMs: 0 };
  if (!setup.ok) return answer;
  if (plan.leak.length) {
    answer.leak = await c.leak(plan, setup.pid);
    if (!answer.leak.ok) return { ...answer, captureMs: Date.now() - t0 };
  }
  answer.leaks = await c.leaks(plan, setup.pid);
  if (answer.leaks.ok) answer.capture = await c.capture(plan, setup.pid);
  return { ...answer, captureMs: Date.now() - t0 };
}

/** engine made of the single calls, timed on the host. */
export async function engineInSteps(c: Calls, plan: GuestPlan, pid: number): Promise<EngineAnswer> {
  const dump = await c.dump(plan, pid);
  if (dump.code !== 0 || dump.signal !== undefined) return { dump, captureMs: 0 };
  const restore = await c.restore(plan);
  if (restore.code !== 0 || restore.signal !== undefined || restore.pid === undefined)
    return { dump, restore, captureMs: 0 };
  const t0 = Date.now();
  const capture = await c.capture(plan, restore.pid);
  return { dump, restore, capture, captureMs: Date.now() - t0 };
}
