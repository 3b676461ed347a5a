import { HELPER } from '../plan/steps.js';
import type { ExecResult } from './exec.js';
import { LABCTL } from './guest-facts.js';
import type { CriuAnswer, GuestClient, Leak, Refused, SetupAnswer } from './guest-client.js';
import type { StartedTarget } from './target.js';

/** The host's slack over a limit the guest enforces itself (`timeout --kill-after`). */
const HOST_SLACK_MS = 30_000;

const refused = (r: ExecResult): Refused => ({ ok: false, code: r.code, stderr: r.stderr });

/**
 * The guest client over labctl (vm/runtime/labctl): one ssh exec per call,
 * its text output read here and nowhere else.
 */
export function labctlClient(t: Pick<StartedTarget, 'exec' | 'writeFile'>): GuestClient {
  return {
    async setup(plan) {
      const limit = String(plan.limits.setup);
      const opts = { timeoutMs: plan.limits.setup * 1000 + 30_000, label: 'build topology' };
      let r: ExecResult;
      if (plan.executor === 'helper') {
        if (!plan.program) throw new Error(`the plan of ${plan.scenario} has no program for the helper`);
        // One round trip: labctl makes the root, takes the program on stdin and has the helper build it.
        r = await t.exec([LABCTL, 'setup', plan.id, limit, 'helper'], { ...opts, stdin: plan.program.wire });
      } else {
        if (plan.outsideScript) await t.writeFile(`/run/mountlab/${plan.id}/outside.sh`, plan.outsideScript);
        // One round trip: labctl makes the root, takes tree.sh on stdin and waits for the tree.
        r = await t.exec([LABCTL, 'setup', plan.id, limit], { ...opts, stdin: plan.treeScript });
      }
      const pid = r.stdout.match(/^pid=(\d+)$/m);
      if (r.code === 0 && pid) return { ok: true, pid: Number(pid[1]) };
      const err = await t.exec([LABCTL, 'err', plan.id], { timeoutMs: 10_000, label: 'read setup errors' });
      return setupFailure(r, err.stdout);
    },

    async leak(plan, pid) {
      const r = await t.exec([LABCTL, 'leak', plan.id, String(pid), plan.leak.join(',')], {
        timeoutMs: 30_000,
        label: 'start the leaking task',
      });
      return r.code === 0 ? { ok: true } : refused(r);
    },

    async leaks(plan, pid) {
      const r = await t.exec([LABCTL, 'leaks', plan.id, String(pid)], { timeoutMs: 30_000, label: 'look for leaks' });
      if (r.code !== 0) return refused(r);
      const leaks: Leak[] = r.stdout
        .split('\n')
        .map((l) => l.match(/^@leak (\S+) pid=(\d+) comm=(.*)$/))
        .filter((m): m is RegExpMatchArray => m !== null)
        .map((m) => ({ namespace: m[1]!, pid: Number(m[2]), comm: m[3]! }));
      return { ok: true, leaks };
    },

    async capture(plan, pid) {
      const r = await t.exec([LABCTL, 'capture', String(pid)], {
        timeoutMs: plan.limits.capture * 1000,
        label: 'capture',
        encoding: 'latin1',
      });
      return r.code === 0 ? { ok: true, text: r.stdout } : refused(r);
    },

    async dump(plan, pid) {
      const r = await t.exec([LABCTL, 'dump', plan.id, String(pid), String(plan.limits.dump), ...plan.criu.dumpArgs], {
        timeoutMs: plan.limits.dump * 1000 + HOST_SLACK_MS,
        label: 'criu dump',
      });
      // labctl prints the log on stdout after criu exits, saving a round trip.
      return criuAnswer(r, r.stdout);
    },

    async restore(plan) {
      const r = await t.exec([LABCTL, 'restore', plan.id, String(plan.limits.restore), ...plan.criu.restoreArgs], {
        timeoutMs: plan.limits.restore * 1000 + HOST_SLACK_MS,
        label: 'criu restore',
      });
      // "pid=N" (on success), a line "@@log", then the restore log.
      const at = r.stdout.indexOf('@@log\n');
      const head = at >= 0 ? r.stdout.slice(0, at) : r.stdout;
      const pid = head.match(/^pid=(\d+)$/m);
      return { ...criuAnswer(r, at >= 0 ? r.stdout.slice(at + 6) : ''), ...(pid ? { pid: Number(pid[1]) } : {}) };
    },

    async probePropagation(plan, input, count) {
      const r = await t.exec([LABCTL, 'probe', plan.id], {
        stdin: input,
        timeoutMs: 60_000 + count * 5_000,
        label: 'propagation probes',
        encoding: 'latin1',
      });
      return { ok: r.code === 0, code: r.code, stderr: r.stderr, output: r.stdout };
    },

    async probeFds(input) {
      const r = await t.exec([HELPER, 'fd-probe'], {
        stdin: input,
        timeoutMs: 60_000,
        label: 'fd write probes',
        encoding: 'latin1',
      });
      return { ok: r.code === 0, code: r.code, stderr: r.stderr, output: r.stdout };
    },

    async kill(plan) {
      const r = await t.exec([LABCTL, 'kill', plan.id], { timeoutMs: 30_000, label: 'end the restored tree' });
      return r.code === 0 ? { ok: true } : refused(r);
    },

    async cleanup(plan) {
      const r = await t.exec([LABCTL, 'cleanup', plan.id], { timeoutMs: 30_000, label: 'cleanup' });
      const dirty = /^dirty (.*)$/m.exec(r.stdout);
      return { ok: r.code === 0, code: r.code, ...(dirty ? { dirty: dirty[1]! } : {}) };
    },

    async missingPaths(paths) {
      const r = await t.exec(['sh', '-c', 'for p; do [ -e "$p" ] || printf "%s\\n" "$p"; done', 'sh', ...paths], {
        timeoutMs: 30_000,
        label: 'check required paths',
      });
      return r.stdout.split('\n').filter(Boolean);
    },

    async criuFeature(name) {
      const r = await t.exec(['criu', 'check', '--feature', name], {
        timeoutMs: 60_000,
        label: `criu check --feature ${name}`,
      });
      return r.code === 0;
    },
  };
}

function criuAnswer(r: ExecResult, log: string): CriuAnswer {
  return {
    code: r.code,
    ...(r.signal !== undefined ? { signal: r.signal } : {}),
    stderr: r.stderr,
    log,
    durationMs: r.durationMs,
  };
}

/**
 * labctl setup's stdout on failure: `outside-failed N`; `setup-failed
 * failed N RC` and `last step N`; `setup-timeout` (exit 124) and `last
 * step N`. `err` is what the tree and the outside steps printed.
 */
function setupFailure(r: ExecResult, err: string): SetupAnswer {
  const base = { ok: false as const, stderr: err };
  const outside = r.stdout.match(/^outside-failed (\d+)/m);
  if (outside) return { ...base, kind: 'outside-failed', step: Number(outside[1]) };
  const failed = r.stdout.match(/failed (\d+) (\d+)/);
  if (failed) return { ...base, kind: 'step-failed', step: Number(failed[1]), rc: Number(failed[2]) };
  if (r.code === 124 || /setup-timeout/.test(r.stdout)) {
    const last = r.stdout.match(/^last step (\d+)/m);
    return { ...base, kind: 'timeout', lastStep: last ? Number(last[1]) : 0 };
  }
  return { ...base, kind: 'other', message: (r.stderr || r.stdout).trim() || `exit ${r.code}` };
}
