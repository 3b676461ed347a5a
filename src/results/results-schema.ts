import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { assetPath } from '../paths.js';

/** The published schema of results.json (reports/README.md), versioned with RESULTS_FORMAT. */
export const RESULTS_SCHEMA_PATH = assetPath('src', 'results', 'results.schema.json');

let compiled: ValidateFunction | undefined;

/**
 * Where a results.json document breaks the schema, as ajv says it; empty
 * when it conforms. verbose: each error holds the value it is about, for
 * the reader's sentences. Formats (date-time) are annotations here;
 * strictRequired is off because the complete file's extra required fields
 * sit in an if/then that names properties defined at the top.
 */
export function resultsSchemaErrors(doc: unknown): ErrorObject[] {
  if (!compiled) {
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      strict: true,
      strictRequired: false,
      validateFormats: false,
    });
    compiled = ajv.compile(JSON.parse(readFileSync(RESULTS_SCHEMA_PATH, 'utf8')) as object);
  }
  return compiled(doc) ? [] : [...(compiled.errors ?? [])];
}

/**
 * Problems of a results.json document against the schema, one line each
 * ("/results/3/outcome: must be equal to one of the allowed values"), for
 * tests; readers give sentences instead (read-results.ts).
 */
export function resultsProblems(doc: unknown): string[] {
  return resultsSchemaErrors(doc).map((e) => {
    const extra = e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : '';
    return `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${extra}`;
  });
}
