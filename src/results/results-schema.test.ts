import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { assetPath } from '../paths.js';
import { OUTCOMES } from './outcome.js';
import { FINISHED_RUN_FIELDS } from './result.js';
import { RESULTS_SCHEMA_PATH, resultsProblems } from './results-schema.js';

describe('results.json schema', () => {
  const schema = JSON.parse(readFileSync(RESULTS_SCHEMA_PATH, 'utf8')) as {
    definitions: Record<string, { enum?: unknown[] }>;
    then: { required: string[] };
  };

  it('generated TypeScript types are up to date with the schema', () => {
    execFileSync(process.execPath, [assetPath('scripts', 'gen-types.mjs'), '--check', 'results'], { stdio: 'pipe' });
  });

  it('lists the outcomes and the fields of a finished run as the schema does', () => {
    assert.deepEqual(OUTCOMES, schema.definitions.outcome?.enum);
    assert.deepEqual([...FINISHED_RUN_FIELDS].sort(), [...schema.then.required].sort());
  });

  it('names what is wrong: an outcome outside the closed set, an unknown field, a complete file with no cells', () => {
    const base = {
      format: 'mountlab-results/1',
      runId: 'r',
      startedAt: '2026-11-21T00:00:00Z',
      complete: false,
      results: [] as unknown[],
    };
    assert.deepEqual(resultsProblems(base), []);
    assert.deepEqual(resultsProblems({ ...base, format: 'mountlab-results/2' }), [
      '/format: must be equal to constant',
    ]);
    assert.deepEqual(resultsProblems({ ...base, verdicts: [] }), ['/: must NOT have additional properties (verdicts)']);
    assert.match(resultsProblems({ ...base, complete: true }).join('\n'), /must have required property 'cells'/);
    const bad = {
      scenario: 's',
      mountEngine: 'v2',
      file: 'f',
      cell: 'c',
      outcome: 'flaky',
      reason: '',
      expected: '',
      phases: [],
      differences: [],
      filtered: [],
      leaks: [],
      artifacts: {},
      durationMs: 1,
    };
    assert.match(
      resultsProblems({ ...base, results: [bad] }).join('\n'),
      /^\/results\/0\/outcome: must be equal to one of the allowed values$/m,
    );
  });
});
