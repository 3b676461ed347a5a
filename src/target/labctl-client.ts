import { HELPER } from '../plan/steps.js';
import { readFdProbeOutput, readPropagationProbeOutput } from '../capture/probe-answers.js';
import type { ExecOptions, ExecResult } from './exec.js';
import { LABCTL } from './guest-facts.js';
import { type Frame, parseFrames } from './frames.js';
import type {
  Answer,
  CleanupAnswer,
  CriuAnswer,
  GuestClient,
  Leak,
  ProbeAnswer,
  Refused,
  SetupAnswer,
} from './guest-client.js';
import type { StartedTarget } from './target.js';

/** The host's slack over a limit the guest enforces itself (`timeout --kill-after`). */
const HOST_SLACK_MS = 30_000;

const refused = (r: ExecResult): Refused => ({ ok: false, code: r.code, stderr: r.stderr });

/**
 * The guest client over labctl (vm/runtime/labctl) and the helper: one ssh
 * exec per call, its text output read here and nowhere else. The calls of
 * every scenario (setup or build, engine, probe, cleanup) go to the helper
 * itself: labctl would only check the id and exec it, one shell more per
 * call under TCG; the helper checks the id the same way.
 */
export function labctlClient(t: Pick<StartedTarget, 'exec' | 'execHelper' | 'writeFile'>): GuestClient {
  // The helper's own calls go through the target's kept channel where it has one.
  const helper = (args: string[], opts: ExecOptions) =>
    t.execHelper ? t.execHelper(args, opts) : t.exec([HELPER, ...args], opts);
  const client: GuestClient = {
    async setup(plan) {
      const opts = { timeoutMs: plan.limits.setup * 1000 + 30_000, label: 'build topology' };
      // One round trip: labctl makes the root, takes the tree on stdin and waits for it.
      const r = await helper(['setup', plan.id, String(plan.limits.setup)], {
        ...opts,
        stdin: plan.program.wire,
      });
      const pid = setupPid(r);
      if (pid !== undefined) return { ok: true, pid };
      const err = await t.exec([LABCTL, 'err', plan.id], { timeoutMs: 10_000, label: 'read setup errors' });
      return setupFailure(r, err.stdout);
    },

    async build(plan) {
      const argv = ['build', plan.id, String(plan.limits.setup), plan.leak.join(',') || '-'];
      const r = await helper(argv, {
        stdin: plan.program.wire,
        timeoutMs: (plan.limits.setup + plan.limits.capture) * 1000 + 60_000,
        label: 'build topology and capture it',
        encoding: 'latin1',
      });
      const frames = framesOf(r);
      const setupFrame = frames.get('setup');
      if (!setupFrame)
        throw new Error(`labctl build said nothing of the setup: ${r.stderr.trim() || `exit ${r.code}`}`);
      const setupRun = { code: setupFrame.code, stdout: part(setupFrame, 'stdout'), stderr: r.stderr, durationMs: 0 };
      const pid = setupPid(setupRun);
      const setup: SetupAnswer =
        pid !== undefined ? { ok: true, pid } : setupFailure(setupRun, utf8(part(setupFrame, 'err')));
      const captureMs = ['leak', 'leaks', 'capture'].reduce((ms, c) => ms + (frames.get(c)?.ms ?? 0), 0);
      const leak = frames.get('leak');
      const leaks = frames.get('leaks');
      const capture = frames.get('capture');
      return {
        setup,
        setupMs: setupFrame.ms,
        captureMs,
        ...(leak
          ? { leak: leak.code === 0 ? { ok: true } : refusedFrame(leak) }
          : setup.ok && plan.leak.length
            ? { leak: cutShort(r) }
            : {}),
        ...(leaks
          ? { leaks: leakAnswer(leaks) }
          : setup.ok && (!plan.leak.length || leak?.code === 0)
            ? { leaks: cutShort(r) }
            : {}),
        ...(capture ? { capture: captureAnswer(capture) } : leaks?.code === 0 ? { capture: cutShort(r) } : {}),
      };
    },

    async engine(plan, pid) {
      const { dump, restore, capture } = plan.limits;
      const { dumpArgs, restoreArgs } = plan.criu;
      const argv = ['engine', plan.id, String(pid), String(dump), String(restore), String(dumpArgs.length)];
      const r = await helper([...argv, ...dumpArgs, ...restoreArgs], {
        timeoutMs: (dump + restore + capture) * 1000 + 2 * HOST_SLACK_MS,
        label: 'criu dump and restore',
        encoding: 'latin1',
      });
      const frames = framesOf(r);
      const d = frames.get('dump');
      if (!d) throw new Error(`labctl engine said nothing of the dump: ${r.stderr.trim() || `exit ${r.code}`}`);
      const dumped: CriuAnswer = {
        code: d.code,
        stderr: utf8(part(d, 'stderr')),
        log: utf8(part(d, 'log')),
        durationMs: d.ms,
      };
      const rs = frames.get('restore');
      const c = frames.get('capture');
      return {
        dump: dumped,
        ...(rs
          ? {
              restore: restoreAnswer({
                code: rs.code,
                stdout: utf8(part(rs, 'stdout')),
                stderr: utf8(part(rs, 'stderr')),
                durationMs: rs.ms,
              }),
            }
          : {}),
        ...(c ? { capture: captureAnswer(c) } : rs?.code === 0 ? { capture: cutShort(r) } : {}),
        captureMs: c?.ms ?? 0,
      };
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
      return r.code === 0 ? { ok: true, leaks: parseLeaks(r.stdout) } : refused(r);
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
      return restoreAnswer(r);
    },

    async probePropagation(plan, input, count) {
      const r = await helper(['probe', plan.id], {
        stdin: input,
        timeoutMs: 60_000 + count * 5_000,
        label: 'propagation probes',
        encoding: 'latin1',
      });
      const replies = readPropagationProbeOutput(r.stdout);
      return { ok: r.code === 0, code: r.code, stderr: r.stderr, output: r.stdout, replies };
    },

    async probeFds(input) {
      const r = await helper(['fd-probe'], {
        stdin: input,
        timeoutMs: 60_000,
        label: 'fd write probes',
        encoding: 'latin1',
      });
      const replies = readFdProbeOutput(r.stdout);
      return { ok: r.code === 0, code: r.code, stderr: r.stderr, output: r.stdout, replies };
    },

    async kill(plan) {
      const r = await t.exec([LABCTL, 'kill', plan.id], { timeoutMs: 30_000, label: 'end the restored tree' });
      return r.code === 0 ? { ok: true } : refused(r);
    },

    async cleanup(plan) {
      const r = await helper(['cleanup', plan.id], { timeoutMs: 30_000, label: 'cleanup' });
      return cleanupAnswer(r.code, r.stdout);
    },

    async finish(plan, later) {
      // The guest's finish reads all its input before it does anything, so it may wait for it.
      const asked = Promise.resolve(later);
      const input = asked.then((p) => ({
        stdin: (p.propagation?.input ?? '') + (p.fds ? `@fd-probes\n${p.fds}` : ''),
        timeoutMs: 120_000 + (p.propagation?.count ?? 0) * 5_000,
      }));
      const r = await helper(['finish', plan.id], {
        deferred: input,
        // Waiting for the input is the host's time, not the guest's: the dump, restore and captures it
        // may be opened ahead of, and then some; the input's own limit starts when it is written.
        timeoutMs: (plan.limits.dump + plan.limits.restore + 2 * plan.limits.capture) * 1000 + 10 * 60_000,
        label: 'probes and cleanup',
        encoding: 'latin1',
      });
      const probes = await asked;
      const frames = framesOf(r);
      const done = frames.get('cleanup');
      if (!done) throw new Error(`the guest said nothing of the cleanup: ${r.stderr.trim() || `exit ${r.code}`}`);
      const probe = (f: Frame | undefined) =>
        f && { ok: f.code === 0, code: f.code, stderr: utf8(part(f, 'stderr')), output: part(f, 'stdout') };
      const prop = probe(frames.get('probe'));
      const fds = probe(frames.get('fd-probe'));
      const missing = (what: string): ProbeAnswer => ({
        ok: false,
        code: r.code,
        stderr: `no answer to the ${what}`,
        output: '',
      });
      return {
        ...(probes.propagation
          ? {
              propagation: {
                ...(prop ?? missing('propagation probes')),
                replies: readPropagationProbeOutput(prop?.output ?? ''),
              },
            }
          : {}),
        ...(probes.fds
          ? { fds: { ...(fds ?? missing('fd probes')), replies: readFdProbeOutput(fds?.output ?? '') } }
          : {}),
        probeMs: (frames.get('probe')?.ms ?? 0) + (frames.get('fd-probe')?.ms ?? 0),
        cleanup: cleanupAnswer(done.code, part(done, 'stdout')),
        cleanupMs: done.ms,
      };
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
  return client;
}

/** The helper's cleanup: exit 0, and "dirty ..." when something was left behind. */
function cleanupAnswer(code: number, stdout: string): CleanupAnswer {
  const dirty = /^dirty (.*)$/m.exec(stdout);
  return { ok: code === 0, code, ...(dirty ? { dirty: dirty[1]! } : {}) };
}

const setupPid = (r: Pick<ExecResult, 'code' | 'stdout'>): number | undefined => {
  const pid = r.stdout.match(/^pid=(\d+)$/m);
  return r.code === 0 && pid ? Number(pid[1]) : undefined;
};

/** Frames by call; a guest that could not frame its answer is a lab error. */
function framesOf(r: ExecResult): Map<string, Frame> {
  try {
    return new Map(parseFrames(r.stdout).map((f) => [f.call, f]));
  } catch (e) {
    throw new Error(`labctl's answer is unreadable (${(e as Error).message}): ${r.stderr.trim() || `exit ${r.code}`}`);
  }
}

const part = (f: Frame, name: string) => f.attachments.get(name) ?? '';
/** Frames are read as latin1; text that was read as UTF-8 before is decoded again. */
const utf8 = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8');

/** A part the guest should have run next and did not: labctl itself ended (its own stderr says why). */
function cutShort(r: ExecResult): Refused {
  return { ok: false, code: r.code, stderr: r.stderr.trim() || `labctl ended (exit ${r.code}) before it` };
}

function refusedFrame(f: Frame): Refused {
  return { ok: false, code: f.code, stderr: utf8(part(f, 'stderr')) };
}

function leakAnswer(f: Frame): Answer<{ leaks: Leak[] }> {
  return f.code === 0 ? { ok: true, leaks: parseLeaks(utf8(part(f, 'stdout'))) } : refusedFrame(f);
}

function captureAnswer(f: Frame): Answer<{ text: string }> {
  return f.code === 0 ? { ok: true, text: part(f, 'stdout') } : refusedFrame(f);
}

/** labctl restore's stdout: "pid=N" (on success), a line "@@log", then the restore log. */
function restoreAnswer(r: ExecResult): CriuAnswer & { pid?: number } {
  const at = r.stdout.indexOf('@@log\n');
  const head = at >= 0 ? r.stdout.slice(0, at) : r.stdout;
  const pid = head.match(/^pid=(\d+)$/m);
  return { ...criuAnswer(r, at >= 0 ? r.stdout.slice(at + 6) : ''), ...(pid ? { pid: Number(pid[1]) } : {}) };
}

function parseLeaks(text: string): Leak[] {
  return text
    .split('\n')
    .map((l) => l.match(/^@leak (\S+) pid=(\d+) comm=(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ namespace: m[1]!, pid: Number(m[2]), comm: m[3]! }));
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
