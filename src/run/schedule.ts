import { availableParallelism, freemem } from 'node:os';
import { BadInputError } from '../errors.js';
import type { ScenarioRun } from './variants.js';

/** One unit of work: a scenario run in one cell. */
export interface WorkItem<Cell> {
  cell: Cell;
  cellId: string;
  run: ScenarioRun;
  /** Position in plan order (cells, then scenarios as found): results are reported in this order. */
  order: number;
  estimateMs: number;
}

export interface Shard {
  index: number;
  count: number;
}

/** "2/3" → { index: 2, count: 3 }; anything else is bad input that names the flag. */
export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > 10_000) {
    throw new BadInputError(
      [{ file: '--shard', line: 1, col: 1, path: '', message: `expected K/N with 1 <= K <= N, got '${s}'` }],
      'e.g. --shard 2/3 runs the second of three equal parts',
    );
  }
  return { index, count };
}

/**
 * The items of shard K of N. The split is over scenario × cell, sorted by
 * cell id and scenario name rather than by file order or timing, so N jobs
 * on N machines, given the same scenarios and cells, cover every item
 * exactly once whatever order each machine found the files in; dealing
 * round-robin from that order keeps the shards' sizes within one item.
 */
export function shardItems<T extends { cellId: string; run: ScenarioRun }>(items: T[], shard: Shard | undefined): T[] {
  if (!shard || shard.count === 1) return items;
  const key = (i: T) => `${i.cellId}\u0000${i.run.name}`;
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const mine = new Set(sorted.filter((_, i) => i % shard.count === shard.index - 1));
  return items.filter((i) => mine.has(i));
}

/**
 * A guess at a scenario's duration, for longest-first scheduling: the last
 * run's time when a previous results.json has it, else a rough cost from
 * what the scenario does (every run pays setup, dump, restore and compare;
 * a second restore and each step add to it).
 */
export function estimateMs(run: ScenarioRun, history: ReadonlyMap<string, number>): number {
  const seen = history.get(run.name);
  if (seen !== undefined) return seen;
  const s = run.loaded.scenario;
  return 4000 + 120 * (s.steps?.length ?? 0) + (s.engine?.['restore-twice'] ? 3000 : 0);
}

/**
 * Longest first within each cell, cells in the order given: with several
 * VMs the long scenarios start early and the short ones fill in at the end,
 * instead of one VM finishing a long scenario while the others stand idle.
 */
export function scheduleOrder<T extends { order: number; estimateMs: number; cellIndex: number }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.cellIndex - b.cellIndex || b.estimateMs - a.estimateMs || a.order - b.order);
}

export interface JobBudget {
  jobs: number;
  /** Why this many: printed, so a user who expected more knows what limited it. */
  reason: string;
}

/**
 * Memory a VM costs beyond its guest RAM: qemu itself and TCG's 64 MiB
 * translation cache, measured (bench/peak-rss).
 */
export const VM_OVERHEAD_MIB = 256;
/** Left for the host: the lab, ssh, and whatever else the machine is doing. */
const HOST_RESERVE_MIB = 1024;

/**
 * How many VMs at once by default: one per core (each guest has one vCPU,
 * and under TCG a vCPU is a busy host thread), as many as free memory holds.
 */
export function defaultJobs(
  guestMemoryMiB: number,
  cores = availableParallelism(),
  freeMiB = Math.floor(freemem() / 2 ** 20),
): JobBudget {
  const byMemory = Math.max(1, Math.floor((freeMiB - HOST_RESERVE_MIB) / (guestMemoryMiB + VM_OVERHEAD_MIB)));
  const jobs = Math.max(1, Math.min(cores, byMemory));
  const reason =
    jobs === cores
      ? `${cores} core${cores === 1 ? '' : 's'}`
      : `${freeMiB} MiB free at ${guestMemoryMiB + VM_OVERHEAD_MIB} MiB per VM`;
  return { jobs, reason };
}
