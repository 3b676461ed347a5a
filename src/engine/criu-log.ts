/**
 * Reading CRIU logs: pulling up the lines a person needs first, and telling
 * an engine crash from an ordinary failure.
 */

/** Lines worth reading first: errors, BUGs, crashes, and the mount engine's decisions. */
const RELEVANT = /\bError\b|\bBUG\b|Segmentation fault|SIGSEGV|SIGABRT|core dumped|\bWarn\b|mnt-v2:|mnt: |Unable to|Can't|Failed to|failed/;

export function relevantLines(log: string, max = 40): string[] {
  const lines = log.split('\n');
  const out: string[] = [];
  for (const l of lines) {
    if (RELEVANT.test(l)) {
      out.push(l.trimEnd());
      if (out.length >= max) break;
    }
  }
  return out;
}

/** An excerpt for a report: the relevant lines, then the last lines of the log. */
export function logExcerpt(log: string, maxRelevant = 20, tail = 10): string {
  const rel = relevantLines(log, maxRelevant).filter((l) => !/mnt-v2:|mnt: /.test(l) || /Error|Fail|fail|Can't|Unable/.test(l));
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
export function classifyEngineFailure(phase: string, code: number, signal: string | undefined, log: string, stderr: string): EngineFailure {
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
  return { kind: 'failed', headline: `criu ${phase} failed (exit ${code})${cause ? `: ${stripLogPrefix(cause)}` : ''}` };
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
    why: 'a helper command criu ran exited non-zero (at start-up: the modprobe probes of sock_diag modules); where it matters criu logs its own error after it',
  },
  { pattern: /rlimit: Can't setup RLIMIT_NOFILE/, why: 'in a container without CAP_SYS_RESOURCE criu cannot raise its fd limit, logs this and carries on' },
  { pattern: /\(pid: \d+\) failed with -?\d+|failed with -1$/, why: 'a wrapper around the error logged just before it' },
];

/** The first Error line that explains the failure; CRIU logs the cause before its wrappers. */
export function rootCause(text: string): string | undefined {
  const errors = text.split('\n').filter((l) => /\bError\b|\berror\b/.test(l));
  return errors.find((l) => !NOT_A_CAUSE.some((n) => n.pattern.test(l))) ?? errors[0];
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
