/**
 * A campaign's report for people: findings.md (and findings.html, the same
 * table), one row per signature: its class, count, first sighting, the
 * scenario that shows it, whether a corpus known-bug names it, and whether
 * it is reduced yet.
 */
import { join } from 'node:path';
import { writeAtomic } from '../report/atomic.js';
import { CAMPAIGN_FILES, type CampaignState } from './campaign-state.js';
import type { Finding, FindingClass } from './findings.js';

const CLASS_TEXT: Record<FindingClass, string> = {
  new: 'new',
  known: 'known bug',
  'not-built': 'did not build',
  regression: 'regression',
  fixed: 'fixed',
};

/** The order people want to read them in: what needs a look first. */
const CLASS_ORDER: FindingClass[] = ['regression', 'new', 'fixed', 'known', 'not-built'];

function sorted(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => CLASS_ORDER.indexOf(a.class) - CLASS_ORDER.indexOf(b.class) || b.count - a.count);
}

function minutes(ms: number): string {
  return `${(ms / 60_000).toFixed(1)} min`;
}

function knownText(f: Finding): string {
  if (f.known) return `${f.known.scenario} (${f.known.upstream})`;
  if (f.differential) return `passes on ${f.differential.passed}, fails on ${f.differential.failed}`;
  return f.class === 'not-built' ? 'the generator or the model, not CRIU' : 'no';
}

function reducedText(f: Finding): string {
  const r = f.reduction;
  return r.status === 'reduced'
    ? `${r.file} (${r.steps} steps)`
    : r.status === 'failed'
      ? `failed: ${r.message}`
      : 'not reduced yet';
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderFindingsMarkdown(
  state: CampaignState,
  findings: readonly Finding[],
  session: { perMinute: number },
): string {
  const lines = [
    `# mountlab fuzz ${title(state)}`,
    '',
    `Generator ${state.generator}; cells: ${state.cells.join(', ')}` +
      `${state.differential ? ' (differential: the first is the baseline)' : ''}.`,
    `${state.scenarios} scenario(s), ${state.executions} execution(s) in ${minutes(state.elapsedMs)} over ` +
      `${state.sessions} session(s); last session ${session.perMinute.toFixed(1)} executions/min.`,
    `${findings.length} signature(s).`,
    '',
  ];
  if (findings.length) {
    lines.push(
      '| class | signature | count | first seen | cells | scenario | known | reduced |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const f of sorted(findings)) {
      lines.push(
        `| ${CLASS_TEXT[f.class]} | \`${mdCell(f.signature)}\` | ${f.count} | ` +
          `${f.firstSeen} (${minutes(f.firstSeenAtMs)} in, index ${f.index}) | ${f.cells.join(', ')} | ` +
          `[${f.scenarioFile}](${f.scenarioFile}) | ${mdCell(knownText(f))} | ` +
          `${mdCell(reducedText(f))} |`,
      );
    }
    lines.push('', 'Rerun a finding with `mountlab run FILE` (the same kernel and criu as its cell).', '');
  }
  return lines.join('\n');
}

/** "campaign, seed 7, shard 1/2", or what a merge was made of. */
function title(state: CampaignState): string {
  if (state.mergedFrom)
    return `campaigns merged: ${state.mergedFrom.length} of seed(s) ${(state.seeds ?? [state.seed]).join(', ')}`;
  return `campaign, seed ${state.seed}${state.shard ? `, shard ${state.shard.index}/${state.shard.count}` : ''}`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderFindingsHtml(
  state: CampaignState,
  findings: readonly Finding[],
  session: { perMinute: number },
): string {
  const rows = sorted(findings)
    .map(
      (f) =>
        `<tr class="${f.class}"><td>${esc(CLASS_TEXT[f.class])}</td><td><code>${esc(f.signature)}</code></td>` +
        `<td>${f.count}</td><td>${esc(f.firstSeen)}</td><td>${esc(f.cells.join(', '))}</td>` +
        `<td><a href="${esc(f.scenarioFile)}">${esc(f.id)}</a> <a href="${esc(f.logs)}/">logs</a></td>` +
        `<td>${esc(knownText(f))}</td><td>${esc(reducedText(f))}</td></tr>`,
    )
    .join('\n');
  return [
    '<!doctype html><html><head><meta charset="utf-8">',
    `<title>mountlab fuzz ${esc(title(state))}</title>`,
    '<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px}',
    '.new,.regression{background:#fee}.known{background:#eef}.not-built{color:#777}</style></head><body>',
    `<h1>mountlab fuzz ${esc(title(state))}</h1>`,
    `<p>Generator ${state.generator}; cells ${esc(state.cells.join(', '))}. ${state.scenarios} scenario(s), ` +
      `${state.executions} execution(s) in ${minutes(state.elapsedMs)}; last session ` +
      `${session.perMinute.toFixed(1)} executions/min. ${findings.length} signature(s).</p>`,
    '<table><tr><th>class</th><th>signature</th><th>count</th><th>first seen</th><th>cells</th><th>scenario</th>' +
      '<th>known</th><th>reduced</th></tr>',
    rows,
    '</table></body></html>',
    '',
  ].join('\n');
}

export async function writeCampaignReports(
  dir: string,
  state: CampaignState,
  findings: readonly Finding[],
  session: { perMinute: number },
): Promise<void> {
  await writeAtomic(join(dir, CAMPAIGN_FILES.report), renderFindingsMarkdown(state, findings, session));
  await writeAtomic(join(dir, CAMPAIGN_FILES.html), renderFindingsHtml(state, findings, session));
}
