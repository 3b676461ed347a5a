import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { assetPath } from '../paths.js';

/** The published schema of results.json (reports/README.md), versioned with RESULTS_FORMAT. */
export const RESULTS_SCHEMA_PATH = assetPath('src', 'results', 'results.schema.json');

let compiled: ValidateFunction | undefined;

/**
 * Problems of a results.json document against the schema, one line each
 * ("/results/3/outcome: must be equal to one of the allowed values");
 * empty when it conforms. Formats (date-time) are annotations here;
 * strictRequired is off because the complete file's extra required fields
 * sit in an if/then that names properties defined at the top.
 */
export function resultsProblems(doc: unknown): string[] {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, validateFormats: false });
    compiled = ajv.compile(JSON.parse(readFileSync(RESULTS_SCHEMA_PATH, 'utf8')) as object);
  }
  if (compiled(doc)) return [];
  return (compiled.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params['additionalProperty'])})` : ''}`);
}
