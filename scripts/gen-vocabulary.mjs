// Writes the vocabulary tables of scenarios/README.md from the JSON Schema,
// between the BEGIN/END markers, so the reference cannot drift from the
// schema. `--check` fails when the README is stale (a test runs it).
import { readFileSync, writeFileSync } from 'node:fs';

const schemaPath = new URL('../src/scenario/scenario.schema.json', import.meta.url);
const readmePath = new URL('../scenarios/README.md', import.meta.url);
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
const defs = schema.definitions;

const resolve = (node) => (node?.$ref ? defs[node.$ref.split('/').pop()] : node);
const cell = (s) =>
  String(s ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\s+/g, ' ')
    .trim();

function form(node) {
  const n = resolve(node);
  if (!n) return '';
  if (n.oneOf) return n.oneOf.map(form).join(' or ');
  if (n.type === 'object') {
    const req = new Set(n.required ?? []);
    return `{${Object.keys(n.properties ?? {})
      .map((k) => (req.has(k) ? k : `${k}?`))
      .join(', ')}}`;
  }
  if (n.type === 'array') return `[${form(n.items)}, ...]`;
  if (n.enum) return n.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (node.$ref) return node.$ref.split('/').pop();
  return n.type ?? '';
}

const lines = ['| step | argument | what it does |', '|---|---|---|'];
for (const [name, node] of Object.entries(defs.step.properties)) {
  lines.push(`| \`${name}\` | \`${cell(form(node))}\` | ${cell(node.description ?? resolve(node).description)} |`);
}
lines.push('', '| top-level field | form | meaning |', '|---|---|---|');
for (const [name, node] of Object.entries(schema.properties)) {
  const shape = name === 'steps' ? '[step, ...]' : form(node);
  const optional = (schema.required ?? []).includes(name) ? '' : ' (optional)';
  lines.push(`| \`${name}\`${optional} | \`${cell(shape)}\` | ${cell(node.description)} |`);
}
const table = lines.join('\n');

const readme = readFileSync(readmePath, 'utf8');
const begin = '<!-- BEGIN GENERATED VOCABULARY (scripts/gen-vocabulary.mjs) -->';
const end = '<!-- END GENERATED VOCABULARY -->';
const i = readme.indexOf(begin);
const j = readme.indexOf(end);
if (i < 0 || j < i) {
  console.error('scenarios/README.md has no generated-vocabulary markers');
  process.exit(1);
}
const next = `${readme.slice(0, i + begin.length)}\n${table}\n${readme.slice(j)}`;
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('scenarios/README.md is stale: run `node scripts/gen-vocabulary.mjs`');
    process.exit(1);
  }
} else writeFileSync(readmePath, next);
