import type { CriuAnswer, GuestClient } from '../target/guest-client.js';
import type { GuestPlan } from '../plan/plan.js';
import { classifyEngineFailure, type EngineFailure } from './criu-log.js';

/** One criu invocation and what it left behind. */
export interface EngineRun {
  phase: 'dump' | 'restore';
  ok: boolean;
  /** What criu (or the guest's limit on it) printed on stderr. */
  stderr: string;
  log: string;
  failure?: EngineFailure;
  /** restore only: the restored tree's root pid in the guest. */
  pid?: number;
}

export async function criuDump(guest: GuestClient, plan: GuestPlan, pid: number): Promise<EngineRun> {
  return judgeDump(await guest.dump(plan, pid));
}

export async function criuRestore(guest: GuestClient, plan: GuestPlan): Promise<EngineRun> {
  return judgeRestore(await guest.restore(plan));
}

/** What a dump the guest ran says: ok, or how it failed. */
export function judgeDump(answer: CriuAnswer): EngineRun {
  return finish('dump', answer);
}

/** What a restore the guest ran says; a restore that names no restored tree failed. */
export function judgeRestore(answer: CriuAnswer & { pid?: number }): EngineRun {
  const run = finish('restore', answer);
  if (run.ok && answer.pid !== undefined) run.pid = answer.pid;
  else if (run.ok) {
    run.ok = false;
    run.failure = { kind: 'failed', headline: 'criu restore exited 0 but wrote no pid file' };
  }
  return run;
}

function finish(phase: 'dump' | 'restore', a: CriuAnswer): EngineRun {
  const ok = a.code === 0 && a.signal === undefined;
  const run: EngineRun = { phase, ok, stderr: a.stderr, log: a.log };
  if (!ok) run.failure = classifyEngineFailure(phase, a.code, a.signal, a.log, a.stderr);
  return run;
}
