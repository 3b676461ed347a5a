import type { ExecResult } from '../target/exec.js';
import type { StartedTarget } from '../target/target.js';
import { LABCTL } from '../target/guest-facts.js';
import type { GuestPlan } from '../plan/plan.js';
import { classifyEngineFailure, type EngineFailure } from './criu-log.js';

/** One criu invocation and what it left behind. */
export interface EngineRun {
  phase: 'dump' | 'restore';
  ok: boolean;
  exec: ExecResult;
  log: string;
  failure?: EngineFailure;
  /** restore only: the restored tree's root pid in the guest. */
  pid?: number;
}

const HOST_SLACK_MS = 30_000;

export async function criuDump(t: StartedTarget, plan: GuestPlan, pid: number): Promise<EngineRun> {
  const exec = await t.exec([LABCTL, 'dump', plan.id, String(pid), String(plan.limits.dump), ...plan.criu.dumpArgs], {
    timeoutMs: plan.limits.dump * 1000 + HOST_SLACK_MS,
    label: 'criu dump',
  });
  return finish('dump', exec, exec.stdout);
}

export async function criuRestore(t: StartedTarget, plan: GuestPlan): Promise<EngineRun> {
  const exec = await t.exec([LABCTL, 'restore', plan.id, String(plan.limits.restore), ...plan.criu.restoreArgs], {
    timeoutMs: plan.limits.restore * 1000 + HOST_SLACK_MS,
    label: 'criu restore',
  });
  const at = exec.stdout.indexOf('@@log\n');
  const head = at >= 0 ? exec.stdout.slice(0, at) : exec.stdout;
  const run = finish('restore', exec, at >= 0 ? exec.stdout.slice(at + 6) : '');
  const m = head.match(/^pid=(\d+)$/m);
  if (run.ok && m) run.pid = Number(m[1]);
  else if (run.ok) {
    run.ok = false;
    run.failure = { kind: 'failed', headline: 'criu restore exited 0 but wrote no pid file' };
  }
  return run;
}

/** labctl prints the log on stdout after criu exits, saving a round trip. */
function finish(phase: 'dump' | 'restore', exec: ExecResult, log: string): EngineRun {
  const ok = exec.code === 0 && exec.signal === undefined;
  const run: EngineRun = { phase, ok, exec, log };
  if (!ok) run.failure = classifyEngineFailure(phase, exec.code, exec.signal, log, exec.stderr);
  return run;
}
