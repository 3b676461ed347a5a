/**
 * `mountlab merge DIR...`: one report from the runs of several shards
 * (`--shard K/N` on N CI jobs). Each DIR is a run directory (it holds
 * results.json) or a directory of run directories, all of which are taken.
 * The merged run gets its own directory under --out with every output a
 * run has, and the artifacts its results name are copied in, so the merged
 * directory stands alone when uploaded. Exit code: the merged run's (0, 1,
 * 2), or 2 when an input is unreadable or the inputs overlap. Fuzz campaign
 * directories (campaign.json) are merged by signature instead (fuzz/merge.ts):
 * exit 1 when the union holds a new signature or a regression.
 */
import { newRunId } from '../run/run-id.js';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BadInputError } from '../errors.js';
import { MergeConflict, mergeRuns, replayRun, type RunInput } from '../report/merge-runs.js';
import { runReporters } from '../report/run-reporters.js';
import { renderEndSummary } from '../report/end-summary.js';
import { isFinishedRun, type ResultsFile, type RunResult } from '../results/result.js';
import { ResultsFileError, readResultsFile } from '../results/read-results.js';
import { isDirectory, isFile } from '../paths.js';
import { RUN_FILES } from '../results/artifacts.js';
import { CAMPAIGN_FILES } from '../fuzz/campaign-state.js';
import { mergeCampaigns } from '../fuzz/merge.js';

export async function mergeCommand(
  dirs: string[],
  opts: { out: string; err?: NodeJS.WritableStream },
): Promise<number> {
  const err = opts.err ?? process.stderr;
  // Fuzz campaigns merge by signature (fuzz/merge.ts), not by scenario.
  if (dirs.length && (await Promise.all(dirs.map((d) => isFile(join(d, CAMPAIGN_FILES.state))))).every(Boolean)) {
    const { state, findings } = await mergeCampaigns(dirs, opts.out);
    err.write(
      `merged ${dirs.length} fuzz campaign(s): ${state.scenarios} scenario(s), ${findings.length} signature(s); ` +
        `${join(resolve(opts.out), CAMPAIGN_FILES.report)}\n`,
    );
    return findings.some((f) => f.class === 'new' || f.class === 'regression') ? 1 : 0;
  }
  const inputs: (RunInput & { dir: string })[] = [];
  for (const d of dirs) inputs.push(...(await runsIn(d)));
  let merged: RunResult;
  const runId = newRunId('merged');
  try {
    merged = mergeRuns(inputs, runId);
  } catch (e) {
    if (e instanceof MergeConflict) throw bad(e.file, e.message);
    throw e;
  }
  const runDir = resolve(opts.out, runId);
  await mkdir(runDir, { recursive: true });
  // Artifacts keep their relative paths: cell/scenario/... never collide once overlaps are refused.
  for (const { dir, run } of inputs) {
    for (const r of run.results) {
      for (const rel of Object.values(r.artifacts)) {
        const from = join(dir, rel);
        const to = join(runDir, rel);
        if (!resolve(to).startsWith(`${runDir}/`) || !resolve(from).startsWith(`${resolve(dir)}/`)) {
          throw bad(join(dir, RUN_FILES.results), `artifact path '${rel}' leaves its run directory`);
        }
        await mkdir(dirname(to), { recursive: true });
        await copyFile(from, to).catch((e: NodeJS.ErrnoException) => {
          // A killed shard may list an artifact it never wrote: the result stands without it.
          if (e.code !== 'ENOENT') throw e;
        });
      }
    }
  }
  await replayRun(merged, runDir, runReporters(runDir));
  err.write(`merged ${inputs.length} run(s): ${inputs.map((i) => i.run.runId).join(', ')}\n`);
  for (const l of renderEndSummary(merged, runDir, 100, 40)) err.write(`${l}\n`);
  return merged.exitCode;
}

/**
 * The runs a DIR names: itself when it holds results.json, else every run directory below it (two levels:
 * reports/RUN, or artifact/reports/RUN).
 */
async function runsIn(dir: string): Promise<(RunInput & { dir: string })[]> {
  if (!(await isDirectory(dir))) throw bad(dir, 'not a directory');
  if (await isFile(join(dir, RUN_FILES.results))) return [await readRun(dir)];
  const found: (RunInput & { dir: string })[] = [];
  for (const depth1 of await sortedSubdirs(dir)) {
    if (await isFile(join(depth1, RUN_FILES.results))) found.push(await readRun(depth1));
    else {
      for (const depth2 of await sortedSubdirs(depth1)) {
        if (await isFile(join(depth2, RUN_FILES.results))) found.push(await readRun(depth2));
      }
    }
  }
  if (found.length === 0) throw bad(dir, `no ${RUN_FILES.results} in it or in the directories below it`);
  return found;
}

async function readRun(dir: string): Promise<RunInput & { dir: string }> {
  const file = join(dir, RUN_FILES.results);
  let doc: ResultsFile;
  try {
    doc = await readResultsFile(file);
  } catch (e) {
    if (e instanceof ResultsFileError) throw bad(file, e.message);
    throw e;
  }
  if (!isFinishedRun(doc)) {
    throw bad(file, 'partial results of a run that was killed before it finished: run that shard again');
  }
  return { file, dir: resolve(dir), run: doc };
}

async function sortedSubdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => join(dir, e.name))
    .sort();
}

function bad(file: string, message: string): BadInputError {
  return new BadInputError(
    [{ file, line: 1, col: 1, path: '', message }],
    'mountlab merge takes run directories (with results.json) or directories of them, from disjoint shards',
  );
}
