/**
 * Merging fuzz campaigns (`mountlab merge` of campaign directories): the
 * shards of one seed (`--shard K/N` on N machines), or campaigns of
 * several seeds, into one directory whose findings are the union by
 * signature: counts add up, the earliest sighting and its scenario and
 * logs stay.
 */
import { cp, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BadInputError } from '../errors.js';
import { CAMPAIGN_FILES, readCampaign, writeCampaign, type CampaignState } from './campaign-state.js';
import { FindingBook, type Finding } from './findings.js';
import { writeCampaignReports } from './report.js';

function bad(file: string, message: string): BadInputError {
  return new BadInputError(
    [{ file, line: 1, col: 1, path: '', message }],
    'mountlab merge takes campaign directories (with campaign.json) of one generator and the same cells',
  );
}

/** Merges campaign directories into `out`; returns the merged state and findings. */
export async function mergeCampaigns(
  dirs: string[],
  out: string,
): Promise<{ state: CampaignState; findings: Finding[] }> {
  const read = dirs.map((d) => ({ dir: resolve(d), ...readCampaign(d) }));
  const [first] = read;
  if (!first) throw bad('', 'no campaign directory given');
  const seen = new Set<string>();
  for (const c of read) {
    if (c.state.generator !== first.state.generator)
      throw bad(c.dir, `drawn by generator ${c.state.generator}, ${first.dir} by ${first.state.generator}`);
    if (c.state.cells.join(' ') !== first.state.cells.join(' '))
      throw bad(c.dir, `ran on ${c.state.cells.join(', ')}, ${first.dir} on ${first.state.cells.join(', ')}`);
    // The same seed and shard twice would count every finding twice.
    const key = `${c.state.seed} ${c.state.shard ? `${c.state.shard.index}/${c.state.shard.count}` : '-'}`;
    if (seen.has(key)) throw bad(c.dir, `seed ${c.state.seed}, shard ${key.split(' ')[1]} is given twice`);
    seen.add(key);
  }
  const book = new FindingBook();
  const from = new Map<string, string>();
  for (const c of read) {
    for (const f of c.findings) {
      const before = book.all.find((x) => x.id === f.id);
      if (!before || f.firstSeen < before.firstSeen) from.set(f.id, c.dir);
    }
    book.merge(c.findings);
  }
  const outDir = resolve(out);
  await mkdir(join(outDir, CAMPAIGN_FILES.findingsDir), { recursive: true });
  for (const [id, dir] of from) {
    const src = join(dir, CAMPAIGN_FILES.findingsDir, id);
    await cp(src, join(outDir, CAMPAIGN_FILES.findingsDir, id), { recursive: true }).catch(() => {});
  }
  const state: CampaignState = {
    ...first.state,
    startedAt: read.map((c) => c.state.startedAt).sort()[0]!,
    elapsedMs: read.reduce((s, c) => s + c.state.elapsedMs, 0),
    sessions: read.reduce((s, c) => s + c.state.sessions, 0),
    executions: read.reduce((s, c) => s + c.state.executions, 0),
    scenarios: read.reduce((s, c) => s + c.state.scenarios, 0),
    drawsDone: 0,
    doneAbove: [],
  };
  // Several shards or seeds merged are no one shard, and not a campaign to resume (which draws it would take is moot).
  if (read.length > 1) delete state.shard;
  state.mergedFrom = read.map((c) => c.dir);
  state.seeds = [...new Set(read.map((c) => c.state.seed))];
  const findings = book.all;
  await writeCampaign(outDir, state, findings);
  await writeCampaignReports(outDir, state, findings, {
    perMinute: (state.executions * 60_000) / Math.max(1, state.elapsedMs),
  });
  return { state, findings };
}
