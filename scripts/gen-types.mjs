// Regenerates src/scenario/scenario.generated.ts from the JSON Schema, so the
// schema stays the single source of truth. `--check` fails if the committed
// file is stale (a test runs it).
import { compileFromFile } from 'json-schema-to-typescript';
import { readFileSync, writeFileSync } from 'node:fs';

const out = new URL('../src/scenario/scenario.generated.ts', import.meta.url);
const ts = await compileFromFile(new URL('../src/scenario/scenario.schema.json', import.meta.url).pathname, {
  bannerComment: '/* Generated from scenario.schema.json by scripts/gen-types.mjs. Do not edit. */',
  additionalProperties: false,
  style: { singleQuote: true },
  unreachableDefinitions: true,
  ignoreMinAndMaxItems: true,
});
if (process.argv.includes('--check')) {
  const cur = readFileSync(out, 'utf8');
  if (cur !== ts) {
    console.error('src/scenario/scenario.generated.ts is stale: run `node scripts/gen-types.mjs`');
    process.exit(1);
  }
} else {
  writeFileSync(out, ts);
}
