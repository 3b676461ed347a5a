import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PreflightError } from '../../errors.js';
import type { ExecOptions, ExecResult } from '../exec.js';
import { readAnswer, storeAnswer } from '../answer-cache.js';
import { cacheRoot } from '../vm/image.js';

/**
 * The CRIU preflight of targets that run on the host kernel.
 *
 * On some hosts of this project's kind (an AMD EPYC with kernel 6.18, seen
 * 2026-12) `criu check` says "Looks good", and then every `criu dump` hangs:
 * its log stops after `pie: N: new_sp=... ip ...` and the task is never
 * trapped. The same criu works in a TCG guest on the same host. So `criu
 * check` proves nothing; only a real dump and restore does. This one takes
 * a sleeping task, under a deadline short enough that a refused cell costs
 * seconds instead of a 120 s dump limit per scenario.
 */

/** The whole preflight's deadline: the dump gets most of it, the restore the rest. */
export const PREFLIGHT_DEADLINE_S = 15;
export const PREFLIGHT_DUMP_S = 10;
export const PREFLIGHT_RESTORE_S = PREFLIGHT_DEADLINE_S - PREFLIGHT_DUMP_S;

/**
 * MOUNTLAB_CRIU_PREFLIGHT, for the test suite only:
 *  - `fresh`: ignore a cached answer (the new one is cached);
 *  - `fault-hang`: the dump is replaced by a command that never returns,
 *    so a host where CRIU works can prove the refusal path end to end;
 *    its answer is never cached.
 */
export type PreflightMode = 'normal' | 'fresh' | 'fault-hang';

export function preflightMode(env: NodeJS.ProcessEnv = process.env): PreflightMode {
  const v = env.MOUNTLAB_CRIU_PREFLIGHT;
  return v === 'fresh' || v === 'fault-hang' ? v : 'normal';
}

export interface PreflightAnswer {
  ok: boolean;
  /** One line: "ok in 0.6 s (dump 0.4 s, restore 0.2 s)" or what failed. */
  detail: string;
  /** The last lines of the failing criu's log. */
  logTail?: string;
  /** criu --version of the build that was tried. */
  criu: string;
  /** When it was measured (ISO). */
  at: string;
}

/** What the answer depends on: a cached answer holds for exactly these. */
export interface PreflightHost {
  /** uname -r, as the container sees it (the engine's kernel, which is not always this machine's). */
  kernel: string;
  /** The CPU model, with a hash of its flags: one model name covers CPUs with different features. */
  cpu: string;
  /** The image, which fixes the criu build. */
  image: string;
}

export function preflightKey(h: PreflightHost): string {
  return `${h.kernel}|${h.cpu}|${h.image}`;
}

/** "AMD EPYC [flags 1a2b3c4d]" from /proc/cpuinfo's first processor. */
export function cpuModel(cpuinfo: string): string {
  const field = (name: string) => cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  const model = field('model name') ?? field('vendor_id') ?? 'unknown cpu';
  const flags = field('flags');
  return flags ? `${model} [flags ${createHash('sha256').update(flags).digest('hex').slice(0, 8)}]` : model;
}

export function cacheFile(): string {
  return join(cacheRoot(), 'criu-preflight.json');
}

export function readCachedAnswer(key: string, file = cacheFile()): PreflightAnswer | undefined {
  const a = readAnswer<PreflightAnswer>(file, key);
  return a && typeof a.ok === 'boolean' && typeof a.detail === 'string' ? a : undefined;
}

export function cacheAnswer(key: string, answer: PreflightAnswer, file = cacheFile()): Promise<void> {
  return storeAnswer(file, key, answer);
}

/**
 * The in-container half. $1 dump limit, $2 restore limit, $3 `criu` or
 * `hang` (fault injection). The sleeper is started from a subshell that
 * exits at once, so it is the init's child: a dumped task is killed by
 * criu, and its pid must be reaped (by docker-init) before the restore can
 * take the same pid again.
 */
export const PREFLIGHT_SCRIPT = [
  'set -u',
  'D=$(mktemp -d /run/mountlab-preflight.XXXXXX) || exit 125',
  '( setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $! >"$D/sleeper" )',
  'p=$(cat "$D/sleeper")',
  'i=0',
  'while [ "$(cat /proc/$p/comm 2>/dev/null)" != sleep ] && [ $i -lt 200 ]; do sleep 0.01; i=$((i+1)); done',
  'ms() { echo $(( $(date +%s%N) / 1000000 )); }',
  'fin() { kill -KILL "$p" 2>/dev/null; ' +
    '[ -s "$D/pid" ] && kill -KILL "$(cat "$D/pid")" 2>/dev/null; rm -rf "$D"; exit 0; }',
  't0=$(ms); rc=0',
  'if [ "$3" = hang ]; then',
  '  printf "pie: 1: new_sp=0x0 ip 0x0 (a hang injected by MOUNTLAB_CRIU_PREFLIGHT=fault-hang)\\n" >"$D/dump.log"',
  '  timeout -s KILL "$1" sleep 3600 || rc=$?',
  'else',
  '  timeout -s KILL "$1" criu dump -t "$p" -D "$D" -o dump.log -v4 || rc=$?',
  'fi',
  'echo "@dump $rc $(( $(ms) - t0 ))"',
  'if [ $rc -ne 0 ]; then echo @log; tail -n 15 "$D/dump.log" 2>/dev/null; fin; fi',
  'i=0; while [ -e /proc/$p ] && [ $i -lt 200 ]; do sleep 0.01; i=$((i+1)); done',
  't0=$(ms); rc=0',
  'timeout -s KILL "$2" criu restore -D "$D" -o restore.log -v4 -d --pidfile "$D/pid" || rc=$?',
  'echo "@restore $rc $(( $(ms) - t0 ))"',
  'if [ $rc -ne 0 ]; then echo @log; tail -n 15 "$D/restore.log" 2>/dev/null; fin; fi',
  'echo @ok',
  'fin',
].join('\n');

interface Execer {
  exec(cmd: readonly string[] | string, opts: ExecOptions): Promise<ExecResult>;
}

/** Runs the preflight in a started target and says what happened. */
export async function runPreflight(t: Execer, criu: string, mode: PreflightMode): Promise<PreflightAnswer> {
  const r = await t.exec(
    [
      'sh',
      '-c',
      PREFLIGHT_SCRIPT,
      'mountlab-preflight',
      String(PREFLIGHT_DUMP_S),
      String(PREFLIGHT_RESTORE_S),
      mode === 'fault-hang' ? 'hang' : 'criu',
    ],
    {
      timeoutMs: (PREFLIGHT_DEADLINE_S + 5) * 1000,
      label: 'criu preflight',
    },
  );
  return judgePreflight(r.stdout, r.code, criu);
}

/** Reads the script's output. Exported for tests: every branch of the judgement is pinned there. */
export function judgePreflight(stdout: string, code: number, criu: string, at = new Date()): PreflightAnswer {
  const base = { criu, at: at.toISOString() };
  const phase = (name: 'dump' | 'restore') => {
    const m = stdout.match(new RegExp(`^@${name} (\\d+) (\\d+)$`, 'm'));
    return m ? { rc: Number(m[1]), ms: Number(m[2]) } : undefined;
  };
  const at2 = stdout.indexOf('@log\n');
  const tail = at2 >= 0 ? stdout.slice(at2 + 5).trimEnd() : undefined;
  const dump = phase('dump');
  const restore = phase('restore');
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (dump && restore && dump.rc === 0 && restore.rc === 0 && /^@ok$/m.test(stdout)) {
    return {
      ...base,
      ok: true,
      detail: `ok in ${s(dump.ms + restore.ms)} (dump ${s(dump.ms)}, restore ${s(restore.ms)})`,
    };
  }
  const failed =
    dump && dump.rc !== 0
      ? { name: 'dump', ...dump, limit: PREFLIGHT_DUMP_S }
      : restore && restore.rc !== 0
        ? { name: 'restore', ...restore, limit: PREFLIGHT_RESTORE_S }
        : undefined;
  if (!failed) {
    return {
      ...base,
      ok: false,
      detail: `the preflight script did not finish (exit ${code})`,
      ...(stdout.trim() ? { logTail: stdout.trim().split('\n').slice(-15).join('\n') } : {}),
    };
  }
  // timeout -s KILL: 137 once the limit killed it.
  const what =
    failed.rc === 137 || failed.rc === 124
      ? `criu ${failed.name} of a sleeping task did not finish in ${failed.limit} s and was killed`
      : `criu ${failed.name} of a sleeping task failed (exit ${failed.rc}) after ${s(failed.ms)}`;
  return { ...base, ok: false, detail: what, ...(tail ? { logTail: tail } : {}) };
}

/** The refusal, said so that a user knows what failed, how long it had, and what to do. */
export function refusal(
  answer: PreflightAnswer,
  host: PreflightHost,
  cached: boolean,
  file = cacheFile(),
): PreflightError {
  const when = cached ? ` (a cached answer from ${answer.at}; delete ${file} to check again)` : '';
  return new PreflightError(
    `CRIU preflight failed: criu ${answer.criu} cannot checkpoint and restore on this host's kernel ` +
      `(${host.kernel}, ${host.cpu})${when}: ${answer.detail}, within a deadline of ${PREFLIGHT_DEADLINE_S} s. ` +
      'The container target runs CRIU on the host kernel: use --target vm (CRIU runs in a guest kernel there), ' +
      'or a host with another kernel.',
    answer.logTail,
    { hint: 'use --target vm, or run the container target on a host with another kernel' },
  );
}
