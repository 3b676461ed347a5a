/**
 * Reading CRIU logs: pulling up the lines a person needs first, and telling
 * an engine crash from an ordinary failure.
 */

/** Something went wrong: CRIU's errors and warnings, what it could not do, crashes, kernel BUGs. */
const TROUBLE_LINE =
  /\bError\b|\berr\b|\bBUG\b|Segmentation fault|SIGSEGV|SIGABRT|core dumped|\bWarn\b|Unable to|Can't|Failed to|failed/;
/** The v2 mount engine saying what it decided. */
const MOUNT_ENGINE_LINE = /mnt-v2:/;

export type KeyLine = 'trouble' | 'mount-engine';

/**
 * Whether a log line is worth reading first, and why: every report that
 * pulls lines out of a CRIU log (the excerpt in results.json, junit.xml and
 * summary.md; the key lines of index.html) asks this one question. A line
 * that is both trouble and a mount engine decision is trouble.
 */
export function keyLine(line: string): KeyLine | undefined {
  if (TROUBLE_LINE.test(line)) return 'trouble';
  if (MOUNT_ENGINE_LINE.test(line)) return 'mount-engine';
  return undefined;
}

/**
 * An excerpt for a report: the first lines that say what went wrong (the
 * mount engine's decisions, a restore log's bulk, are left to the log),
 * then the last lines of the log.
 */
export function logExcerpt(log: string, maxRelevant = 20, tail = 10): string {
  const rel = log
    .split('\n')
    .filter((l) => keyLine(l) === 'trouble')
    .slice(0, maxRelevant)
    .map((l) => l.trimEnd());
  const lines = log.trimEnd().split('\n');
  const last = lines.slice(-tail);
  const parts: string[] = [];
  if (rel.length) parts.push(...rel, '...');
  parts.push(...last.filter((l) => !rel.includes(l.trimEnd())));
  return parts.join('\n');
}

export type EngineFailureKind = 'crash' | 'timeout' | 'failed';

export interface EngineFailure {
  kind: EngineFailureKind;
  /** One line: "criu restore crashed: BUG at criu/mount.c:48". */
  headline: string;
}

/**
 * A crash is an engine bug (BUG_ON, SIGSEGV, abort), worth its own verdict
 * text; a timeout means something hung; anything else is an orderly failure.
 */
export function classifyEngineFailure(
  phase: string,
  code: number,
  signal: string | undefined,
  log: string,
  stderr: string,
): EngineFailure {
  const text = `${log}\n${stderr}`;
  if (code === 124 || code === 137 || signal === 'KILL' || signal === 'TERM') {
    return { kind: 'timeout', headline: `criu ${phase} did not finish in time and was killed` };
  }
  const bug = text.match(/BUG at [^\s]+|\bBUG\b[^\n]*/);
  const segv = text.match(/SIGSEGV|Segmentation fault|SIGABRT|Aborted|core dumped/);
  if (bug || segv || code === 139 || code === 134) {
    return { kind: 'crash', headline: `criu ${phase} crashed: ${(bug?.[0] ?? segv?.[0] ?? `exit ${code}`).trim()}` };
  }
  const cause = rootCause(text);
  return {
    kind: 'failed',
    headline: `criu ${phase} failed (exit ${code})${cause ? `: ${stripLogPrefix(cause)}` : ''}`,
  };
}

/**
 * Error lines that do not explain a failure, each with why: CRIU logs them
 * and carries on, or they only wrap the error logged before them.
 */
export const NOT_A_CAUSE: { pattern: RegExp; why: string }[] = [
  { pattern: /tun: Unable to create tun/, why: 'kerndat probes for tun support at start-up and carries on without it' },
  { pattern: /Dumping FAILED|Restoring FAILED/, why: 'the final summary line' },
  {
    pattern: /\(criu\/util\.c:\d+\): exited, status=\d+$/,
    why:
      'a helper command criu ran exited non-zero (at start-up: the modprobe probes of sock_diag modules); ' +
      'where it matters criu logs its own error after it',
  },
  {
    pattern: /rlimit: Can't setup RLIMIT_NOFILE/,
    why: 'in a container without CAP_SYS_RESOURCE criu cannot raise its fd limit, logs this and carries on',
  },
  {
    pattern: /\(pid: \d+\) failed with -?\d+|failed with -1$/,
    why: 'a wrapper around the error logged just before it',
  },
];

const notACause = (l: string) => NOT_A_CAUSE.some((n) => n.pattern.test(l));

/**
 * The first Error line that explains the failure; CRIU logs the cause before
 * its wrappers. Some causes are logged without "Error" (pr_warn, a child's
 * plain message): when only wrappers and the summary say Error, the last
 * line of trouble before the summary is the cause, not "Restoring FAILED.".
 */
export function rootCause(text: string): string | undefined {
  const lines = text.split('\n');
  const errors = lines.filter((l) => /\bError\b|\berror\b/.test(l));
  const cause = errors.find((l) => !notACause(l));
  if (cause) return cause;
  const summary = lines.findIndex((l) => /Dumping FAILED|Restoring FAILED/.test(l));
  const before = summary < 0 ? [] : lines.slice(0, summary);
  const trouble = before.filter((l) => keyLine(l) === 'trouble' && !/\bWarn\b/.test(l) && !notACause(l));
  return trouble.at(-1) ?? errors[0];
}

/** "(00.012345) Error (criu/mount.c:123): foo" -> "Error (criu/mount.c:123): foo" */
export function stripLogPrefix(line: string): string {
  return line.replace(/^\(\s*[\d.]+\)\s*(\d+:\s*)?/, '').trim();
}

/** Kernel trouble on the console: any of these makes the scenario an error, whatever CRIU said. */
const KERNEL_TROUBLE = /(Oops[:\s]|BUG: |WARNING: CPU|Kernel panic|general protection fault|Call Trace:|kernel BUG at)/;

export function kernelTrouble(consoleText: string): string | undefined {
  const lines = consoleText.replace(/\r/g, '').split('\n');
  const i = lines.findIndex((l) => KERNEL_TROUBLE.test(l));
  if (i < 0) return undefined;
  return lines.slice(i, i + 25).join('\n');
}
