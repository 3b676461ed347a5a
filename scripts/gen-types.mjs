// Regenerates the TypeScript types of mountlab's JSON Schemas, so each
// schema stays the single source of truth: src/scenario/scenario.generated.ts
// from the scenario language, src/results/results.generated.ts from
// results.json. `--check` fails if a committed file is stale (tests run it);
// naming a schema (`scenario`, `results`) does only that one.
import { compile } from 'json-schema-to-typescript';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCHEMAS = {
  scenario: { schema: 'src/scenario/scenario.schema.json', out: 'src/scenario/scenario.generated.ts' },
  // The root's title is prose for editors; the type needs a name.
  results: { schema: 'src/results/results.schema.json', out: 'src/results/results.generated.ts', root: 'ResultsFile' },
};

const check = process.argv.includes('--check');
const named = process.argv.slice(2).filter((a) => a !== '--check');
for (const name of named) {
  if (!(name in SCHEMAS)) throw new Error(`gen-types: no schema '${name}'; known: ${Object.keys(SCHEMAS).join(', ')}`);
}
let stale = false;
for (const [name, { schema, out, root }] of Object.entries(SCHEMAS)) {
  if (named.length && !named.includes(name)) continue;
  const schemaPath = fileURLToPath(new URL(`../${schema}`, import.meta.url));
  const outPath = fileURLToPath(new URL(`../${out}`, import.meta.url));
  const json = JSON.parse(readFileSync(schemaPath, 'utf8'));
  const file = schema.split('/').pop();
  const ts = await compile(root ? { ...json, title: root } : json, root ?? name, {
    bannerComment: `/* Generated from ${file} by scripts/gen-types.mjs. Do not edit. */`,
    additionalProperties: false,
    style: { singleQuote: true },
    unreachableDefinitions: true,
    ignoreMinAndMaxItems: true,
    cwd: fileURLToPath(new URL('.', `file://${schemaPath}`)),
  });
  if (!check) {
    writeFileSync(outPath, ts);
  } else if (readFileSync(outPath, 'utf8') !== ts) {
    console.error(`${out} is stale: run \`node scripts/gen-types.mjs\``);
    stale = true;
  }
}
if (stale) process.exit(1);
