#!/usr/bin/env node
// Prints the "Measured verdicts" section of scenarios/CORPUS.md from a run's
// results.json: every scenario run, its verdict and what the live probes
// checked. Usage: node scripts/corpus-verdicts.mjs reports/<run>/results.json
import { readFileSync } from 'node:fs';

const run = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const cell = run.cells[0]?.facts ?? {};
const out = [];
const counts = Object.entries(run.counts)
  .filter(([, n]) => n > 0)
  .map(([o, n]) => `${n} ${o}`)
  .join(', ');
const date = run.startedAt.slice(0, 10);
const scenarios = new Set(run.results.map((r) => r.file)).size;
const seconds = (run.durationMs / 1000).toFixed(0);
out.push('## Measured verdicts', '');
out.push(
  `\`./mountlab run scenarios/\` on ${date}: kernel ${cell.kernel}, criu ${cell.criu}, ${cell.accel ?? '?'}; ` +
    `${run.results.length} runs of ${scenarios} scenarios ` +
    `(a scenario with \`mount-engine: both\` runs twice): ${counts}, in ${seconds} s, exit ${run.exitCode}.`,
  '',
  'Probes: marker mounts judged / copies checked / restored fds written through (see README, "live probes"); ' +
    '- when the run ended before probing (xfail, expected failures).',
  '',
  '| scenario | verdict | probes | time |',
  '|---|---|---|---|',
);
let marks = 0,
  copies = 0,
  fds = 0;
for (const r of [...run.results].sort((a, b) => (a.file + a.scenario < b.file + b.scenario ? -1 : 1))) {
  const p = r.probes;
  if (p) {
    marks += p.propagation;
    copies += p.copies;
    fds += p.fdWrites;
  }
  const name =
    r.file.replace(/^scenarios\//, '').replace(/\.yaml$/, '') +
    (r.scenario.includes('[') ? r.scenario.slice(r.scenario.indexOf('[')) : '');
  const probes = p ? `${p.propagation} / ${p.copies} / ${p.fdWrites}` : '-';
  out.push(`| ${name} | ${r.outcome} | ${probes} | ${(r.durationMs / 1000).toFixed(1)} s |`);
}
out.push('', `Totals: ${marks} marker mounts, ${copies} copies checked, ${fds} fds written through.`, '');
process.stdout.write(out.join('\n'));
