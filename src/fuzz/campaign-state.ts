/**
 * A campaign directory's state, what `--resume` continues from and
 * `mountlab merge` reads: the seed, the generator version, the shard, the
 * cells, which draws are done, and the tallies. Written atomically after
 * every scenario, so a campaign killed outright loses at most the scenario
 * it was on.
 *
 * Draw j of shard K/N is scenario index (K-1) + j*N of the campaign, so N
 * shards of one seed draw every index once, and the union of their
 * findings is what one long campaign would have found.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadInputError } from '../errors.js';
import { writeAtomic } from '../report/atomic.js';
import type { Shard } from '../run/schedule.js';
import type { Finding } from './findings.js';

export const CAMPAIGN_FORMAT = 'mountlab-fuzz/1';

/** The files of a campaign directory. */
export const CAMPAIGN_FILES = {
  state: 'campaign.json',
  findings: 'findings.json',
  report: 'findings.md',
  html: 'findings.html',
  /** Scenarios being run and their artifacts; what is not a finding is removed. */
  work: 'work',
  findingsDir: 'findings',
} as const;

export interface CampaignState {
  format: typeof CAMPAIGN_FORMAT;
  generator: number;
  seed: number;
  shard?: Shard;
  /** Cell ids, the baseline first in differential mode. */
  cells: string[];
  differential: boolean;
  startedAt: string;
  /** Campaign time over all its sessions. */
  elapsedMs: number;
  sessions: number;
  /** Every draw below this is done. */
  drawsDone: number;
  /** Draws at or above drawsDone that are done too (parallel guests finish out of order). */
  doneAbove: number[];
  /** Scenario runs (a scenario under both mount engines is two) x cells executed. */
  executions: number;
  scenarios: number;
  /** Set by mountlab merge: the campaigns it was made of; such a directory is not resumed. */
  mergedFrom?: string[];
  /** Set by mountlab merge: the seeds of the campaigns merged. */
  seeds?: number[];
}

export function newState(o: { seed: number; generator: number; shard?: Shard; cells: string[] }): CampaignState {
  return {
    format: CAMPAIGN_FORMAT,
    generator: o.generator,
    seed: o.seed,
    ...(o.shard ? { shard: o.shard } : {}),
    cells: o.cells,
    differential: o.cells.length > 1,
    startedAt: new Date().toISOString(),
    elapsedMs: 0,
    sessions: 0,
    drawsDone: 0,
    doneAbove: [],
    executions: 0,
    scenarios: 0,
  };
}

/** The campaign index of draw j. */
export function indexOfDraw(j: number, shard: Shard | undefined): number {
  return shard ? shard.index - 1 + j * shard.count : j;
}

/** Hands out the draws not done yet, in order, to any number of workers. */
export class Draws {
  private next: number;
  private readonly done: Set<number>;

  constructor(private readonly state: CampaignState) {
    this.next = state.drawsDone;
    this.done = new Set(state.doneAbove);
  }

  take(): number {
    while (this.done.has(this.next)) this.next++;
    return this.next++;
  }

  /** Marks a draw done and moves the watermark over what is contiguous. */
  finish(j: number): void {
    this.done.add(j);
    while (this.done.has(this.state.drawsDone)) {
      this.done.delete(this.state.drawsDone);
      this.state.drawsDone++;
    }
    this.state.doneAbove = [...this.done].filter((d) => d >= this.state.drawsDone).sort((a, b) => a - b);
  }
}

function bad(file: string, message: string, hint?: string): BadInputError {
  return new BadInputError([{ file, line: 1, col: 1, path: '', message }], hint);
}

/** A campaign directory's state and findings; bad input (exit 2) when it is not one. */
export function readCampaign(dir: string): { state: CampaignState; findings: Finding[] } {
  const file = join(dir, CAMPAIGN_FILES.state);
  if (!existsSync(file)) throw bad(dir, `not a fuzz campaign directory: no ${CAMPAIGN_FILES.state}`);
  let state: CampaignState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as CampaignState;
  } catch (e) {
    throw bad(file, `unreadable: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (state.format !== CAMPAIGN_FORMAT)
    throw bad(file, `format '${String(state.format)}', expected ${CAMPAIGN_FORMAT}`);
  const ff = join(dir, CAMPAIGN_FILES.findings);
  const findings = existsSync(ff) ? (JSON.parse(readFileSync(ff, 'utf8')) as { findings: Finding[] }).findings : [];
  return { state, findings };
}

export async function writeCampaign(dir: string, state: CampaignState, findings: Finding[]): Promise<void> {
  await writeAtomic(
    join(dir, CAMPAIGN_FILES.findings),
    `${JSON.stringify({ format: CAMPAIGN_FORMAT, findings }, null, 2)}\n`,
  );
  await writeAtomic(join(dir, CAMPAIGN_FILES.state), `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * Whether a campaign may be resumed with these flags: the same generator
 * (another draws other scenarios from the same seeds), and the seed, shard
 * and cells it was started with, when the flags name them.
 */
export function checkResume(
  dir: string,
  state: CampaignState,
  /** Without cells, those are not checked (they are known once images are ready). */
  flags: { generator: number; seed?: number; shard?: Shard; cells?: string[] },
): void {
  if (state.mergedFrom)
    throw bad(dir, 'a merged campaign cannot be resumed', `resume one of ${state.mergedFrom.join(', ')}`);
  if (state.generator !== flags.generator)
    throw bad(
      dir,
      `the campaign was drawn by generator ${state.generator}; this mountlab's is ${flags.generator}`,
      'start a new campaign (its seeds draw other scenarios now)',
    );
  if (flags.seed !== undefined && flags.seed !== state.seed)
    throw bad(dir, `the campaign's seed is ${state.seed}, not ${flags.seed}`, 'leave out --seed to resume it');
  const sh = (s?: Shard) => (s ? `${s.index}/${s.count}` : 'none');
  if (flags.shard && sh(flags.shard) !== sh(state.shard))
    throw bad(
      dir,
      `the campaign is shard ${sh(state.shard)}, not ${sh(flags.shard)}`,
      'leave out --shard to resume it',
    );
  if (flags.cells && flags.cells.join(' ') !== state.cells.join(' '))
    throw bad(
      dir,
      `the campaign ran on ${state.cells.join(', ')}; these flags plan ${flags.cells?.join(', ')}`,
      'give the same --cell, --kernel and --criu as when it started',
    );
}
