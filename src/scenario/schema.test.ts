import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { assetPath } from '../paths.js';
import { discoverScenarioFiles, loadScenarioFile } from './load.js';
import { SCENARIO_SCHEMA_PATH } from './validate.js';

describe('scenario schema', () => {
  it('generated TypeScript types are up to date with the schema', () => {
    execFileSync(process.execPath, [assetPath('scripts', 'gen-types.mjs'), '--check'], { stdio: 'pipe' });
  });

  it('scenarios/README.md vocabulary is generated from the current schema', () => {
    execFileSync(process.execPath, [assetPath('scripts', 'gen-vocabulary.mjs'), '--check'], { stdio: 'pipe' });
  });

  it('describes every property, and closes every object with additionalProperties: false', () => {
    const schema = JSON.parse(readFileSync(SCENARIO_SCHEMA_PATH, 'utf8')) as object;
    const missing: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.type === 'object' && n.properties && n.additionalProperties !== false)
        missing.push(`${path}: additionalProperties`);
      for (const [k, v] of Object.entries((n.properties as Record<string, Record<string, unknown>>) ?? {})) {
        if (!v.description && !v.$ref) missing.push(`${path}/properties/${k}: description`);
      }
      for (const [k, v] of Object.entries(n)) walk(v, `${path}/${k}`);
    };
    walk(schema, '#');
    assert.deepEqual(missing, []);
  });

  it('accepts every scenario shipped in scenarios/', async () => {
    const files = await discoverScenarioFiles([assetPath('scenarios')]);
    assert.ok(files.length >= 2);
    for (const f of files) await loadScenarioFile(f);
  });
});
