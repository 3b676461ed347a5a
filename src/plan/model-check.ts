import { BadInputError } from '../errors.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { Scenario, Step } from '../scenario/scenario.generated.js';
import { MountModel, Refusal, SimError, type Task } from './mount-model.js';
import { stepLabel } from './program.js';

/**
 * The model pre-check: runs a scenario's steps through the mount model
 * (mount-model.ts) before anything boots, and refuses the steps certain to
 * fail whatever the guest image holds: a bind of a source that does not
 * exist, make-slave, umount or pivot-root of what is not a mount, a move
 * into its own subtree, rmdir of a mountpoint, and waits that can never
 * end. Where the model is unsure (the guest image's own paths, filesystems
 * and options it does not know, tasks that race, anything after a step it
 * cannot follow) it stops and says nothing: it must never refuse a
 * scenario the kernel accepts.
 */
export interface ModelProblem {
  /** A JSON pointer to the step. */
  path: string;
  message: string;
  suggestion: string;
}

/** Where a step sits: its pointer, its number and label as compile.ts and the helper give them, its task. */
interface StepPlace {
  path: string;
  n: number;
  task: string;
  label: string;
}

/** Numbers steps as compileProgram does: scenario-wide, a spawned task's steps right after its spawn. */
function placeSteps(s: Scenario): Map<Step, StepPlace> {
  const places = new Map<Step, StepPlace>();
  let n = 0;
  const walk = (steps: Step[], base: string, task: string) => {
    steps.forEach((step, i) => {
      places.set(step, { path: `${base}/${i}`, n: ++n, task, label: stepLabel(step) });
      if (step.spawn) walk(step.spawn.steps, `${base}/${i}/spawn/steps`, step.spawn.name);
    });
  };
  walk(s.steps, '/steps', 'init');
  (s.outside ?? []).forEach((step, i) => {
    places.set(step, { path: `/outside/${i}`, n: i + 1, task: 'outside', label: stepLabel(step) });
  });
  return places;
}

/** "step 3 (kid: bind /a -> /b)", as the helper and the reports name a step. */
function stepText(p: StepPlace): string {
  if (p.task === 'outside') return `outside step ${p.n} (${p.label})`;
  return `step ${p.n} (${p.task === 'init' ? '' : `${p.task}: `}${p.label})`;
}

interface SyncTask {
  name: string;
  steps: Step[];
  pc: number;
}

/**
 * Waits that never end. Signals are sticky and each task runs its steps in
 * order, so however the tasks interleave, every task ends at the same
 * place: run each as far as it goes until nothing moves. A task left at a
 * wait is stuck in every run. Waits for a name no step signals are
 * semantics.ts's to refuse; here the signal exists but is never reached.
 */
function stuckWaits(s: Scenario, places: Map<Step, StepPlace>): ModelProblem[] {
  const tasks: SyncTask[] = [{ name: 'init', steps: s.steps, pc: 0 }];
  const signals = new Set<string>();
  for (let moved = true; moved; ) {
    moved = false;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      for (; t.pc < t.steps.length; t.pc++) {
        const step = t.steps[t.pc]!;
        if (step.wait !== undefined && !signals.has(step.wait)) break;
        if (step.signal !== undefined) signals.add(step.signal);
        if (step.spawn) tasks.push({ name: step.spawn.name, steps: step.spawn.steps, pc: 0 });
        moved = true;
      }
    }
  }
  const signallers = new Map<string, Step[]>();
  for (const [step] of places)
    if (step.signal !== undefined) signallers.set(step.signal, [...(signallers.get(step.signal) ?? []), step]);
  const stuckAt = new Map<string, Step>();
  for (const t of tasks) if (t.pc < t.steps.length) stuckAt.set(t.name, t.steps[t.pc]!);
  const problems: ModelProblem[] = [];
  for (const [, wait] of stuckAt) {
    const name = wait.wait!;
    const by = signallers.get(name);
    if (!by) continue;
    const waiter = places.get(wait)!.task;
    const why = by.map((sig) => {
      const p = places.get(sig)!;
      const blocker = stuckAt.get(p.task);
      if (p.task === waiter) return `${stepText(p)} comes after it, in the same task`;
      return blocker
        ? `${stepText(p)} comes after ${stepText(places.get(blocker)!)}, which waits for '${blocker.wait!}'`
        : `${stepText(p)} is in task ${p.task}, which is never started`;
    });
    const cycle = by.some((sig) => places.get(sig)!.task !== waiter && stuckAt.has(places.get(sig)!.task));
    problems.push({
      path: places.get(wait)!.path,
      message:
        `${stepText(places.get(wait)!)} waits for '${name}' forever` +
        `${cycle ? ' (a cycle of waits between tasks)' : ''}: ${why.join('; ')}`,
      suggestion: `signal '${name}' before any wait that depends on this task, or reorder the waits`,
    });
  }
  return problems;
}

/**
 * Runs the steps through the model: the outside steps in the guest's
 * namespace (with labctl's /proc, /sys and /dev), then the tree in a copy
 * of it with /proc mounted. Tasks run one at a time, only while exactly one
 * can run: where two could race, the order is not the model's to choose.
 */
function modelRun(s: Scenario, places: Map<Step, StepPlace>): ModelProblem | undefined {
  const k = new MountModel({ check: true });
  const refused = (e: unknown, step: Step): ModelProblem | 'unsure' => {
    if (e instanceof Refusal) {
      const p = places.get(step)!;
      return { path: p.path, message: `${stepText(p)} is certain to fail: ${e.message}`, suggestion: e.advice };
    }
    if (e instanceof SimError) return 'unsure';
    throw e;
  };
  const noSpawn = () => {
    throw new SimError('spawn outside the tree');
  };
  if (s.outside?.length) {
    const host: Task = { name: 'outside', ns: k.host, steps: s.outside, pc: 0, fds: new Map() };
    for (const [dir, fsType] of [
      ['/proc', 'proc'],
      ['/sys', 'sysfs'],
      ['/dev', 'devtmpfs'],
    ] as const)
      k.provide(k.host, dir, fsType);
    for (const step of host.steps) {
      try {
        k.run(host, step, noSpawn);
      } catch (e) {
        const r = refused(e, step);
        return r === 'unsure' ? undefined : r;
      }
    }
    if (!['/proc', '/sys', '/dev'].every((d) => k.withdraw(k.host, d))) return undefined;
  }
  const init: Task = { name: 'init', ns: k.copyNs(k.host), steps: s.steps, pc: 0, fds: new Map() };
  k.provide(init.ns, '/proc', 'proc');
  const tasks = [init];
  for (;;) {
    const runnable = tasks.filter((t) => {
      const step = t.steps[t.pc];
      return step !== undefined && (step.wait === undefined || k.signals.has(step.wait));
    });
    if (runnable.length !== 1) return undefined;
    const t = runnable[0]!;
    const step = t.steps[t.pc]!;
    try {
      k.run(t, step, (name, steps) => {
        const child: Task = { name, ns: t.ns, steps, pc: 0, fds: new Map(t.fds) };
        if (t.root) child.root = t.root;
        tasks.push(child);
      });
    } catch (e) {
      const r = refused(e, step);
      return r === 'unsure' ? undefined : r;
    }
    t.pc++;
  }
}

/** The problems of a scenario the schema and semantics.ts accept; none where the model is unsure. */
export function modelProblems(s: Scenario): ModelProblem[] {
  const places = placeSteps(s);
  const problems = stuckWaits(s, places);
  const refusal = modelRun(s, places);
  if (refusal && !problems.some((p) => p.path === refusal.path)) problems.push(refusal);
  return problems;
}

/** Refuses, at file:line:col, a loaded scenario with steps certain to fail. */
export function checkModel(loaded: LoadedScenario): void {
  const problems = modelProblems(loaded.scenario);
  if (problems.length === 0) return;
  throw new BadInputError(
    problems.map((p) => ({
      file: loaded.file,
      ...loaded.positionOf(p.path),
      path: p.path,
      message: p.message,
      suggestion: p.suggestion,
    })),
  );
}
