import { readFile } from 'node:fs/promises';
import type { ErrorObject } from 'ajv';
import { RESULTS_FORMAT, type ResultsFile } from './result.js';
import { resultsSchemaErrors } from './results-schema.js';

/**
 * The one reader of results.json: merge, diff-runs and the scheduler's
 * history all read runs through it, so a file one of them takes the others
 * take too. A file is checked against the published schema; what is wrong
 * is said as a sentence naming the place in the file ("results[3]
 * (shared-root): outcome "ok" is not one of ..."), not as a JSON pointer.
 */

/** A results.json that cannot be used: the message says what is wrong, `file` which file (when read from one). */
export class ResultsFileError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** Schema problems named in a message; the rest are counted. */
const SHOWN_PROBLEMS = 3;

/** Reads, parses and checks a results.json. */
export async function readResultsFile(file: string): Promise<ResultsFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ResultsFileError(`cannot read: ${readErrorText(e)}`, file);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ResultsFileError(`not JSON (${e instanceof Error ? e.message : String(e)})`, file);
  }
  try {
    return checkResults(value);
  } catch (e) {
    if (e instanceof ResultsFileError) throw new ResultsFileError(e.message, file);
    throw e;
  }
}

/**
 * Checks a parsed results.json: a finished run's or the partial file of a
 * run killed mid-way. The format and the shape a reader cannot do without
 * are checked first, for the plainest message; then the whole schema. A
 * file of a later minor version of the same major is read as this one.
 */
export function checkResults(value: unknown): ResultsFile {
  if (!isObject(value)) throw new ResultsFileError('not a mountlab results file: expected a JSON object');
  const format = value.format;
  if (typeof format !== 'string') throw new ResultsFileError('not a mountlab results file: no "format" field');
  const m = /^mountlab-results\/(\d+)(?:\.\d+)*$/.exec(format);
  if (!m) {
    throw new ResultsFileError(`not a mountlab results file: format is '${format}', expected '${RESULTS_FORMAT}'`);
  }
  if (m[1] !== RESULTS_FORMAT.split('/')[1]) {
    const hint = 'use the mountlab that wrote it';
    throw new ResultsFileError(
      `format '${format}' is not supported (this mountlab reads '${RESULTS_FORMAT}'); ${hint}`,
    );
  }
  if (!Array.isArray(value.results)) throw new ResultsFileError('"results" is missing or not a list');
  // A killed run's file has only format, runId, startedAt, complete and results.
  if (value.complete === true && value.cells === undefined) {
    throw new ResultsFileError('"cells" is missing from a complete run');
  }
  const doc = { ...value, format: RESULTS_FORMAT };
  const errors = resultsSchemaErrors(doc).filter((e) => e.keyword !== 'if');
  if (errors.length) {
    const said = errors.slice(0, SHOWN_PROBLEMS).map((e) => sentence(e, doc));
    const more = errors.length > SHOWN_PROBLEMS ? ` (and ${errors.length - SHOWN_PROBLEMS} more)` : '';
    const hint = 'it does not follow src/results/results.schema.json: was it edited, or written by another mountlab?';
    throw new ResultsFileError(`${said.join('; ')}${more}; ${hint}`);
  }
  const run = doc as ResultsFile;
  const seen = new Set<string>();
  for (const r of run.results) {
    const key = JSON.stringify([r.scenario, r.cell]);
    if (seen.has(key)) throw new ResultsFileError(`scenario '${r.scenario}' has two results on cell '${r.cell}'`);
    seen.add(key);
  }
  return run;
}

/** An fs error in words: "no such file or directory". */
export function readErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

/**
 * One schema error as a sentence. A wrong value is named by its place
 * after the result it is in ("results[0] (name): phases[2].ms -1 is below
 * 0"); a missing or unknown field by the object that should (not) have it.
 */
function sentence(e: ErrorObject, doc: Record<string, unknown>): string {
  const segs = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const results = doc.results as unknown[];
  const i = segs[0] === 'results' && segs[1] !== undefined ? Number(segs[1]) : undefined;
  const name = i !== undefined && isObject(results[i]) ? results[i].scenario : undefined;
  const scenario = typeof name === 'string' ? name : undefined;
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'required' || e.keyword === 'additionalProperties') {
    const where = placeOf(segs);
    const of = scenario !== undefined && segs.length === 2 ? ` (scenario ${scenario})` : '';
    if (e.keyword === 'required') {
      return where
        ? `${where} has no "${String(p.missingProperty)}"${of}`
        : `"${String(p.missingProperty)}" is missing`;
    }
    return `${where || 'the file'} has an unknown field "${String(p.additionalProperty)}"${of}`;
  }
  // A value: named within its result when it is in one.
  const inResult = i !== undefined && segs.length > 2;
  const place = inResult ? placeOf(segs.slice(2)) : placeOf(segs);
  const lead = inResult ? `${placeOf(segs.slice(0, 2))}${scenario !== undefined ? ` (${scenario})` : ''}: ` : '';
  const value = clip(JSON.stringify(e.data) ?? 'undefined');
  switch (e.keyword) {
    case 'enum':
      return `${lead}${place} ${value} is not one of ${(p.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `${lead}${place} ${value} is not ${JSON.stringify(p.allowedValue)}`;
    case 'type':
      return `${lead}${place} ${value} is not ${/^[aeiou]/.test(String(p.type)) ? 'an' : 'a'} ${String(p.type)}`;
    case 'minimum':
      return `${lead}${place} ${value} is below ${String(p.limit)}`;
    default:
      return `${lead}${place}: ${e.message ?? 'is not valid'}`;
  }
}

/** ["results", "0", "phases", "2"] -> "results[0].phases[2]". */
function placeOf(segs: string[]): string {
  return segs.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
