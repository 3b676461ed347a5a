/**
 * Shared pieces of the bench scripts (not a bench itself): the cached guest,
 * statistics, the load context printed with every figure, a wait for a free
 * VM slot on a shared machine, and /proc readers.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cachedImage, ensureImage, type VmImage } from '../src/target/vm/image.js';
import { composeGuest, ensureKernel } from '../src/target/vm/kernel-artifact.js';
import { discoverScenarioFiles, loadScenarioFile, type LoadedScenario } from '../src/scenario/load.js';
import { assetPath } from '../src/paths.js';
import type { StartedTarget, Target } from '../src/target/target.js';

/** The default guest: trixie's rootfs (criu 4.1.1) on Debian's 6.12 kernel, built once and cached. */
export async function defaultGuest(log: (l: string) => void = (l) => console.error(l)): Promise<VmImage> {
  const rootfs = cachedImage({ suite: 'trixie' }) ?? (await ensureImage({ suite: 'trixie' }, log));
  const kernel = await ensureKernel({ kind: 'debian', name: 'debian-6.12', suite: 'trixie' }, log);
  return composeGuest(rootfs, kernel);
}

export async function loadScenarios(paths: string[]): Promise<LoadedScenario[]> {
  const files = await discoverScenarioFiles(paths.length ? paths : [assetPath('scenarios')]);
  return Promise.all(files.map((f) => loadScenarioFile(f)));
}

export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
  mean: number;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n: 0, median: NaN, min: NaN, max: NaN, mean: NaN };
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return { n, median, min: s[0]!, max: s[n - 1]!, mean: s.reduce((a, b) => a + b, 0) / n };
}

/** Seconds with two decimals. */
export const sec = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '-');
/** "median 6.71 s (min 6.50 s, max 7.02 s, n=3)". */
export const fmtStats = (s: Stats, f: (ms: number) => string = sec): string =>
  s.n === 0 ? 'no samples' : `median ${f(s.median)} (min ${f(s.min)}, max ${f(s.max)}, n=${s.n})`;
export const mib = (kb: number): string => `${(kb / 1024).toFixed(0)} MiB`;

/** The load context recorded with every figure. */
export function loadContext(): string {
  let up = '';
  try {
    up = execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    up = `loadavg ${readFileSync('/proc/loadavg', 'utf8').trim()}`;
  }
  return `${new Date().toISOString()}  ${up}  [qemu-system running: ${qemuCount()}]`;
}

/** qemu-system processes on the machine, anyone's. */
export function qemuCount(): number {
  try {
    return Number(execFileSync('pgrep', ['-c', 'qemu-system'], { encoding: 'utf8' }).trim());
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
}

/**
 * This machine is shared: before booting, wait while `busy` or more
 * qemu-system processes run (anyone's), checking every minute.
 */
export async function waitForVmSlot(busy = 2, log: (m: string) => void = (m) => console.error(m)): Promise<void> {
  for (;;) {
    const n = qemuCount();
    if (n < busy) return;
    log(`${n} qemu-system processes running; waiting 60 s for a slot`);
    await sleep(60_000);
  }
}

/** Fields of /proc/PID/status in kB (VmRSS, VmHWM, ...); undefined when the process is gone. */
export function procStatusKb(pid: number | 'self'): Record<string, number> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(Vm\w+|Rss\w+):\s+(\d+) kB$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** qemu processes that are direct children of this process (setpriv execs qemu, so qemu's parent is us). */
export function ownQemuPids(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may hold spaces or parentheses, so split after the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === process.pid && comm.startsWith('qemu-system')) pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/**
 * A target that hands out an already started guest and does not end it:
 * lets runCorpus run on a VM the bench keeps (and measures) across calls.
 * The bench disposes the real one.
 */
export class KeptTarget implements Target {
  readonly kind = 'vm' as const;
  constructor(
    private readonly started: StartedTarget,
    readonly describe = 'kept vm',
  ) {}
  async start(): Promise<StartedTarget> {
    const s = this.started;
    return {
      get facts() {
        return s.facts;
      },
      get alive() {
        return s.alive;
      },
      exec: (a, o) => s.exec(a, o),
      writeFile: (p, c, m) => s.writeFile(p, c, m),
      consoleMark: () => s.consoleMark(),
      consoleSince: (m) => s.consoleSince(m),
      [Symbol.asyncDispose]: async () => {},
    };
  }
}

/** Parses `--name value` and `--flag` options; the rest are positional. */
export function parseArgs(argv: string[], flags: string[] = []): { opts: Map<string, string>; rest: string[] } {
  const opts = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) opts.set(a.slice(2, eq), a.slice(eq + 1));
      else if (flags.includes(a.slice(2))) opts.set(a.slice(2), 'true');
      else opts.set(a.slice(2), argv[++i] ?? '');
    } else rest.push(a);
  }
  return { opts, rest };
}

export const PHASES = [
  'setup',
  'capture-before',
  'dump',
  'restore',
  'capture-after',
  'compare',
  'probe',
  'restore-again',
  'capture-again',
  'cleanup',
] as const;
