/**
 * `mountlab reduce SCENARIO`: the smallest scenario that fails the same
 * way. Flags are parsed here; the loop is src/reduce/, the guests
 * src/run/guest-pool.ts, the cell src/run/cells.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { BadInputError, MountlabError } from '../errors.js';
import { parseDuration } from './duration.js';
import { loadAll } from './load-scenarios.js';
import type { ReduceProgress } from '../reduce/reduce.js';
import { clock, reduceFile } from '../reduce/reduce-file.js';
import { type Failure, failureOf, formatFailure, parseFailure, sameFailure } from '../results/signature.js';
import { onInterrupt } from '../run/interrupt.js';
import { planVmCellById, vmCellId } from '../run/cells.js';
import { runCorpus } from '../run/runner.js';
import { newRunId } from '../run/run-id.js';
import { DEFAULT_KERNEL } from '../run/kernels.js';
import { CRIU_BUILDS, DEFAULT_CRIU } from '../run/criu-versions.js';
import { runReporters } from '../report/run-reporters.js';
import { progressReporter } from '../report/progress.js';
import { forListFromRun } from '../report/for-list.js';
import { parseScenario } from '../scenario/load.js';
import type { AccelChoice } from '../target/vm/accel.js';

export interface ReduceFlags {
  cell?: string;
  budget: string;
  signature?: string;
  seed: number;
  jobs: number;
  output?: string;
  out: string;
  report?: boolean;
  accel: AccelChoice;
}

export const DEFAULT_CELL = vmCellId(DEFAULT_KERNEL, CRIU_BUILDS[DEFAULT_CRIU]!.version);

export const REDUCE_HELP = `
What it does:
  1. Runs SCENARIO once in the cell and prints its failure, the signature kept
     from then on: the outcome, then CRIU's error line with numbers masked (the
     source line kept), or the kind and subject of the first difference:
       xfail: criu dump: Error (criu/mount.c:753): mnt: N:./pasted/... doesn't have a proper root mount
     --signature LINE gives it instead (the outcome may be left out: any failing
     outcome then matches). A scenario that passes is said, and nothing is written
     (exit 1).
  2. Delta debugging (ddmin) over its spawned tasks, then its mounts (each with
     the steps acting on it afterwards: remount, make-*, set-group, umount), then
     its single steps. A candidate the loader or the mount model refuses never
     boots and is not counted as a try; each other one runs in a kept guest of
     the cell, reset between tries, as mountlab run runs it (-j guests at once).
     The same seed tries the same candidates in the same order; -j changes the
     number of tries, not the result.
  3. Writes NAME.min.yaml beside SCENARIO (or -o FILE) with a comment giving the
     original, the signature, the tries and the time; SCENARIO is not touched.
     Then runs it once more in a fresh guest, as a run in --out (results.json and
     every report), which mountlab report RUN --for-list reads; --report prints
     that message at the end.

Progress (stderr) shows tries, the current size and the time left. When the
budget runs out, the smallest scenario found so far is written, marked so.
Exit: 0 reduced, 1 the scenario does not fail (that way), 2 bad input or a
guest that could not start, 130 interrupted (guests and temporary files gone).
`;

export function parseSignatureFlag(text: string): Failure {
  const f = parseFailure(text);
  if (!f || f.signature.kind === 'pass')
    throw new BadInputError(
      [{ file: '--signature', line: 1, col: 1, path: '', message: `'${text}' is no failure signature` }],
      'give the line reduce printed ("xfail: criu dump: Error (criu/mount.c:753): ..."), ' +
        'the outcome optional; kinds: criu, crash, hang, difference, lab',
    );
  return f;
}

export function progressLine(p: ReduceProgress): string {
  const size = `now ${p.steps} steps, ${p.mounts} mounts`;
  return `reduce: ${p.phase}: try ${p.tries} (${p.refused} refused on the host), ${size}; ${clock(p.leftMs)} left`;
}

export async function reduceCommand(file: string, o: ReduceFlags): Promise<number> {
  const say = (m: string) => process.stderr.write(`${m}\n`);
  const all = await loadAll([file]);
  const loaded = all[0]!;
  if (all.length !== 1)
    throw new BadInputError(
      [{ file, line: 1, col: 1, path: '', message: `${all.length} scenarios here; reduce takes one scenario file` }],
      'name one .yaml file',
    );
  const budgetMs = parseDuration('--budget', o.budget);
  const given = o.signature !== undefined ? parseSignatureFlag(o.signature) : undefined;
  const output = resolve(
    o.output ?? join(dirname(loaded.file), `${basename(loaded.file).replace(/\.ya?ml$/, '')}.min.yaml`),
  );
  if (output === resolve(loaded.file))
    throw new BadInputError([{ file: '-o', line: 1, col: 1, path: '', message: 'the output is the scenario itself' }]);
  using interrupt = onInterrupt(say);
  const signal = interrupt.signal;
  const cellId = o.cell ?? DEFAULT_CELL;
  // The tries' artifacts: gone at the end, on Ctrl-C too.
  const triesDir = mkdtempSync(join(tmpdir(), 'mountlab-reduce-'));
  try {
    const cell = await planVmCellById(cellId, { accel: o.accel, runDir: triesDir, signal, log: say });
    const reduced = await reduceFile({
      loaded,
      cell,
      cellId,
      jobs: o.jobs,
      runDir: triesDir,
      budgetMs,
      seed: o.seed,
      ...(given ? { want: given } : {}),
      signal,
      log: say,
      onProgress: (p) => say(progressLine(p)),
      onSignature: (w) => process.stdout.write(`signature: ${formatFailure(w)}\n`),
    });
    if (reduced.kind === 'passes') {
      const how = reduced.first.outcome;
      say(`reduce: ${loaded.file} does not fail in ${cellId} (${how}): nothing to reduce, nothing written`);
      return 1;
    }
    if (reduced.kind === 'fails-otherwise') {
      say(`reduce: ${loaded.file} does not fail as --signature says; it fails as:\n  ${formatFailure(reduced.first)}`);
      return 1;
    }
    const { want, result, text } = reduced;
    parseScenario(text, output);
    await writeFile(output, text);
    process.stdout.write(
      `wrote ${output}: ${result.after.steps} steps, ${result.after.mounts} mounts ` +
        `(from ${result.before.steps} and ${result.before.mounts}); ${result.tries} tries, ${clock(result.ms)}\n`,
    );
    // Once more in a fresh guest, as a run of its own: the record reports and --for-list read.
    const [min] = await loadAll([output]);
    const runId = newRunId();
    const runDir = resolve(o.out, runId);
    await mkdir(runDir, { recursive: true });
    const finalCell = await planVmCellById(cellId, { accel: o.accel, runDir, signal, log: say });
    const run = await runCorpus([min!], [finalCell], {
      runId,
      runDir,
      signal,
      probes: true,
      reporter: runReporters(runDir, progressReporter('quiet')),
    });
    const r = run.results[0];
    const again = r ? failureOf(r) : undefined;
    if (!again || !sameFailure(want, again)) {
      say(`reduce: in a fresh guest the reduced scenario gave ${again ? formatFailure(again) : 'no result'} (flaky?)`);
    }
    process.stdout.write(`run: ${runDir}\n`);
    if (o.report) process.stdout.write(`\n${await forListFromRun(runDir)}`);
    return 0;
  } catch (e) {
    if (signal.aborted) throw signal.reason instanceof MountlabError ? signal.reason : e;
    throw e;
  } finally {
    rmSync(triesDir, { recursive: true, force: true });
  }
}
