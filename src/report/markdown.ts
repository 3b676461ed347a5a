import { join } from 'node:path';
import type { RunResult, ScenarioResult } from '../results/result.js';
import { OUTCOMES, isExpected } from '../results/outcome.js';
import { RUN_FILES } from '../results/artifacts.js';
import { writeAtomic } from './atomic.js';
import { renderTopologyTree } from './topology-tree.js';
import type { Reporter } from './reporter.js';
import { criuOriginText, criuText } from './criu-text.js';
import { scenarioMatrix } from './scenario-matrix.js';
import { capturedTopologies, runDirArtifacts } from './captured-topologies.js';

/** summary.md: plain text that reads in a terminal and pastes into an email. */
export class MarkdownReporter implements Reporter {
  constructor(private readonly runDir: string) {}

  async onRunEnd(run: RunResult): Promise<void> {
    const text = await renderMarkdown(run, (r) => topologies(this.runDir, r));
    await writeAtomic(join(this.runDir, RUN_FILES.summary), text);
  }
}

/**
 * What a kept guest pays between two scenarios (the cleanup that takes the
 * last tree down and checks the guest is clean), median over the cell's
 * scenarios: with boot-to-ready, the lab's per-scenario overhead.
 */
function resetText(run: RunResult, cell: string): string {
  const ms = run.results
    .filter((r) => r.cell === cell)
    .flatMap((r) => r.phases.filter((p) => p.phase === 'cleanup').map((p) => p.ms))
    .sort((a, b) => a - b);
  if (ms.length === 0) return '-';
  const median = ms.length % 2 ? ms[(ms.length - 1) / 2]! : (ms[ms.length / 2 - 1]! + ms[ms.length / 2]!) / 2;
  return `${(median / 1000).toFixed(1)} s (median of ${ms.length})`;
}

/** "6 mounts (6 copies), 1 fd": what the live probes checked; '-' when they did not run. */
function probeText(r: ScenarioResult): string {
  const p = r.probes;
  if (!p) return '-';
  const parts = [
    `${p.propagation} mount${p.propagation === 1 ? '' : 's'} (${p.copies} cop${p.copies === 1 ? 'y' : 'ies'})`,
  ];
  if (p.fdWrites) parts.push(`${p.fdWrites} fd${p.fdWrites === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/** Scenario x cell, for a matrix run, rows where the cells disagree first. */
function matrixTable(run: RunResult): string[] {
  const { cells, rows } = scenarioMatrix(run);
  const differing = rows.filter((r) => r.differs).length;
  return [
    '',
    '## Scenario x cell',
    '',
    `${differing} of ${rows.length} scenarios have different verdicts across cells (listed first).`,
    '',
    `| scenario | ${cells.join(' | ')} |`,
    `|---|${cells.map(() => '---').join('|')}|`,
    ...rows.map((r) => {
      const verdicts = r.verdicts.map((v) => v ?? '-');
      return `| ${r.differs ? `**${r.scenario}**` : r.scenario} | ${verdicts.join(' | ')} |`;
    }),
  ];
}

/**
 * Before and after trees of a scenario whose restored topology differs,
 * from its saved captures; none when a capture is missing or unreadable
 * (the explanations stand on their own).
 */
export async function topologies(
  runDir: string,
  r: ScenarioResult,
): Promise<{ before: string[]; after: string[] } | undefined> {
  const { before, after } = await capturedTopologies(r, runDirArtifacts(runDir));
  if (!before || !after) return undefined;
  try {
    return { before: renderTopologyTree(before), after: renderTopologyTree(after) };
  } catch {
    return undefined;
  }
}

export type TreesOf = (r: ScenarioResult) => Promise<{ before: string[]; after: string[] } | undefined>;

export async function renderMarkdown(run: RunResult, treesOf?: TreesOf): Promise<string> {
  const L: string[] = [];
  L.push(`# mountlab run ${run.runId}`, '');
  const counts = OUTCOMES.filter((o) => run.counts[o] > 0).map((o) => `${run.counts[o]} ${o}`);
  L.push(
    `${counts.join(', ') || 'no scenarios'} in ${(run.durationMs / 1000).toFixed(1)} s` +
      `${run.complete ? '' : ' (interrupted)'}.`,
    '',
  );
  L.push(
    '| cell | target | kernel | criu | accel | boot to ready | reset between scenarios |',
    '|---|---|---|---|---|---|---|',
  );
  for (const c of run.cells) {
    const criu = `${criuText(c.facts)}${c.facts.preflight ? ` (preflight ${c.facts.preflight})` : ''}`;
    L.push(
      `| ${c.id} | ${c.facts.target} | ${c.facts.kernel} | ${criu} | ${c.facts.accel ?? '-'} ` +
        `| ${(c.facts.readyMs / 1000).toFixed(1)} s | ${resetText(run, c.id)} |`,
    );
  }
  const origins = run.cells.flatMap((c) => {
    const t = criuOriginText(c.facts);
    return t ? [`- ${c.id}: ${t}`] : [];
  });
  if (origins.length) L.push('', 'CRIU builds:', '', ...origins);
  const refused = run.cells.filter((c) => c.error);
  if (refused.length) L.push('', ...refused.map((c) => `- **${c.id}** ran no more scenarios: ${c.error}`));
  if (run.cells.length > 1) L.push(...matrixTable(run));
  L.push('', '| scenario | cell | verdict | time | probes | why |', '|---|---|---|---|---|---|');
  for (const r of run.results) {
    L.push(
      `| ${r.scenario} | ${r.cell} | ${r.outcome} | ${(r.durationMs / 1000).toFixed(1)} s | ${probeText(r)} ` +
        `| ${r.reason.replace(/\|/g, '\\|').slice(0, 120)} |`,
    );
  }
  // Flaky scenarios are listed on their own: their verdict above is the worst
  // attempt's, and a reader deciding on a patch needs to know it wobbles.
  const flaky = run.results.filter((r) => r.flaky);
  if (flaky.length) {
    L.push(
      '',
      `## Flaky (${flaky.length})`,
      '',
      'Attempts of these scenarios disagreed (--repeat); each verdict in order:',
      '',
    );
    for (const r of flaky)
      L.push(`- ${r.scenario} on ${r.cell}: ${(r.attempts ?? []).map((a) => a.outcome).join(', ')}`);
  }
  const leaky = run.results.filter((r) => r.leaks.length);
  if (leaky.length) {
    L.push(
      '',
      '## Namespace leaks',
      '',
      'Tasks outside the checkpointed tree that shared its namespaces at dump time:',
      '',
    );
    for (const r of leaky) for (const l of r.leaks) L.push(`- ${r.scenario}: ${l}`);
  }
  const bad = run.results.filter((r) => !isExpected(r.outcome));
  for (const r of bad) {
    L.push('', `## ${r.scenario} on ${r.cell}: ${r.outcome}`, '', r.reason, '');
    for (const d of r.differences) L.push(`- ${d.sentence}`);
    const trees = r.outcome === 'fail' && r.differences.length ? await treesOf?.(r) : undefined;
    if (trees)
      L.push(
        '',
        'Before the dump:',
        '',
        '```',
        ...trees.before,
        '```',
        '',
        'After the restore:',
        '',
        '```',
        ...trees.after,
        '```',
      );
    if (r.error?.excerpt) L.push('', '```', r.error.excerpt.split('\n').slice(0, 40).join('\n'), '```');
    const files = Object.values(r.artifacts);
    if (files.length) L.push('', `Files: ${files.join(', ')}`);
  }
  L.push('');
  return L.join('\n');
}
