/**
 * `mountlab diff-runs BASELINE NEW`: what changed between two runs of the
 * corpus, e.g. a kernel and the same kernel with a patch applied. The
 * categories and the rule that picks one are in report/run-diff/classify.ts.
 *
 * Each input is a results.json, a run directory holding one, or a reports
 * directory, whose newest run is taken (the output says which). Run
 * directories are named by mountlab's sortable run ids; the newest is the
 * last by name, or by modification time when the names are not run ids.
 *
 * Output: text by default, --markdown for a reply on a mailing list,
 * --json for machines. Exit codes: 0 no regression, 1 a regression, 2 an
 * input that cannot be read or is not a results file this mountlab reads
 * (a message naming the file on stderr).
 */
import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { diffRuns } from '../report/run-diff/classify.js';
import { loadedRun } from '../report/run-diff/loaded-run.js';
import type { RunSource } from '../report/run-diff/phrases.js';
import { renderJson } from '../report/run-diff/render-json.js';
import { renderMarkdown } from '../report/run-diff/render-markdown.js';
import { renderText } from '../report/run-diff/render-text.js';
import { isFile } from '../paths.js';
import { ResultsFileError, readErrorText, readResultsFile } from '../results/read-results.js';
import { RUN_FILES } from '../results/artifacts.js';

export interface DiffRunsOptions {
  markdown?: boolean;
  json?: boolean;
  /** Where results go; process.stdout by default. */
  out?: NodeJS.WritableStream;
  /** Where errors go; process.stderr by default. */
  err?: NodeJS.WritableStream;
}

/** An input that cannot be used; `file` is what to name in the message. */
class InputError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

const RUN_ID = /^\d{8}-\d{6}-[0-9a-f]+$/;

export async function diffRunsCommand(baseline: string, next: string, opts: DiffRunsOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  if (opts.markdown && opts.json) {
    await write(err, 'mountlab diff-runs: --markdown and --json cannot be used together\n');
    return 2;
  }
  const sides: RunSource[] = [];
  for (const input of [baseline, next]) {
    try {
      sides.push(await load(input));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      await write(err, `mountlab diff-runs: ${e.file}: ${e.message}\n`);
      return 2;
    }
  }
  const x = { baseline: sides[0]!, new: sides[1]!, diff: diffRuns(sides[0]!.run, sides[1]!.run) };
  await write(out, opts.json ? renderJson(x) : opts.markdown ? renderMarkdown(x) : renderText(x));
  return x.diff.exitCode;
}

/**
 * Finds the results.json an input means, reads and checks it. `INPUT#CELL`
 * keeps one cell of a matrix run, so two cells of one run (criu 3.17.1 and
 * 4.1.1 on one kernel, say) can be diffed like two runs.
 */
async function load(spec: string): Promise<RunSource> {
  const hash = spec.lastIndexOf('#');
  const input = hash > 0 ? spec.slice(0, hash) : spec;
  const cell = hash > 0 ? spec.slice(hash + 1) : undefined;
  const source = await loadRun(input);
  if (cell === undefined) return source;
  const cells = source.run.cells.map((c) => c.id);
  if (!cells.includes(cell))
    throw new InputError(source.file, `no cell '${cell}' in this run; its cells: ${cells.join(', ') || 'none'}`);
  return {
    ...source,
    note: [source.note, `took cell ${cell} of run ${source.run.runId}`].filter(Boolean).join('; '),
    run: {
      ...source.run,
      cells: source.run.cells.filter((c) => c.id === cell),
      results: source.run.results.filter((r) => r.cell === cell),
    },
  };
}

async function loadRun(input: string): Promise<RunSource> {
  const { file, note } = await locate(input);
  try {
    return { file, ...(note ? { note } : {}), run: loadedRun(await readResultsFile(file)) };
  } catch (e) {
    if (e instanceof ResultsFileError) throw new InputError(file, e.message);
    throw e;
  }
}

async function locate(input: string): Promise<{ file: string; note?: string }> {
  let st: Stats;
  try {
    st = await stat(input);
  } catch (e) {
    throw new InputError(input, `cannot read: ${readErrorText(e)}`);
  }
  if (!st.isDirectory()) return { file: input };
  const direct = join(input, RUN_FILES.results);
  if (await isFile(direct)) return { file: direct };
  // A reports directory: its run directories, newest last.
  let entries: Dirent[];
  try {
    entries = await readdir(input, { withFileTypes: true });
  } catch (e) {
    throw new InputError(input, `cannot read: ${readErrorText(e)}`);
  }
  const runs: { name: string; mtimeMs: number }[] = [];
  for (const d of entries) {
    if (!d.isDirectory()) continue;
    const f = join(input, d.name, RUN_FILES.results);
    if (await isFile(f)) runs.push({ name: d.name, mtimeMs: (await stat(f)).mtimeMs });
  }
  if (runs.length === 0) throw new InputError(input, `no ${RUN_FILES.results} in it or in any directory under it`);
  const byName = runs.every((r) => RUN_ID.test(r.name));
  runs.sort((a, b) => (byName ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.mtimeMs - b.mtimeMs));
  const newest = runs[runs.length - 1]!;
  const of =
    runs.length === 1 ? 'its only run' : `the newest of ${runs.length} runs${byName ? '' : ' by modification time'}`;
  const note = `${input} is a reports directory: took ${of}, ${newest.name}`;
  return { file: join(input, newest.name, RUN_FILES.results), note };
}

/** Resolves once the stream has taken the text, so a caller may exit right after. */
function write(s: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.write(text, (e?: Error | null) => (e ? reject(e) : resolve()));
  });
}
