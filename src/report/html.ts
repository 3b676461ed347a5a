import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { matchTopologies } from '../compare/match.js';
import { keyLine } from '../engine/criu-log.js';
import type { TopoMount } from '../compare/topology.js';
import { OUTCOMES, countOutcomes, exitCodeForOutcomes, isExpected, type Outcome } from '../results/outcome.js';
import { RESULTS_FORMAT, type CellResult, type RunResult, type ScenarioResult } from '../results/result.js';
import { RUN_FILES, SCENARIO_FILES, SCENARIO_LOGS } from '../results/artifacts.js';
import { writeAtomic } from './atomic.js';
import {
  DIFF_COLOUR,
  canonicalGroupNames,
  esc,
  pairedGroupNames,
  renderMountGraph,
  type MountMark,
} from './mount-graph.js';
import type { Reporter, RunStartInfo } from './reporter.js';
import { criuOriginText, criuText } from './criu-text.js';
import { scenarioMatrix } from './scenario-matrix.js';
import { capturedTopologies, runDirArtifacts, type ReadArtifact } from './captured-topologies.js';

/**
 * index.html: one self-contained page per run (inline CSS, JS and SVG;
 * nothing fetched), for reading a run in a browser, offline or as a CI
 * artifact. Rewritten after every scenario like results.json, so a killed
 * run leaves a page covering what finished.
 */

/** What the page reads besides the RunResult; files that cannot be read are undefined and the page says so. */
export interface ReportFiles {
  /** A file of the run directory, by its artifact path (relative to the run directory). */
  artifact: ReadArtifact;
  /** A scenario's YAML text, by ScenarioResult.file (relative to where mountlab ran). */
  scenario(file: string): Promise<string | undefined>;
  /** A link from the run directory to the scenario file. */
  scenarioHref(file: string): string | undefined;
}

/** The files of a run as mountlab wrote them: artifacts under runDir, scenario files relative to cwd. */
export function runDirFiles(runDir: string, cwd = process.cwd()): ReportFiles {
  return {
    artifact: runDirArtifacts(runDir),
    scenario: (file) => readFile(resolve(cwd, file), 'utf8').catch(() => undefined),
    scenarioHref: (file) => hrefOf(relative(runDir, resolve(cwd, file))),
  };
}

export class HtmlReporter implements Reporter {
  private info: RunStartInfo | undefined;
  private readonly cells = new Map<string, CellResult>();
  private readonly results: ScenarioResult[] = [];
  /** By result: parallel guests finish in any order, and the runner re-sorts its results at the end. */
  private readonly sections = new Map<ScenarioResult, string>();
  /**
   * Writes one after another: parallel guests end scenarios concurrently,
   * and two renames of one temporary file would race.
   */
  private writing: Promise<void> = Promise.resolve();
  private readonly started = new Date();
  private readonly files: ReportFiles;
  /** Milliseconds each write took (render and write), for the curious and for tests. */
  readonly writeMs: number[] = [];

  constructor(
    private readonly runDir: string,
    files?: ReportFiles,
  ) {
    this.files = files ?? runDirFiles(runDir);
  }

  onRunStart(info: RunStartInfo): void {
    this.info = info;
    // A copy: the runner goes on filling in its own.
    for (const c of info.cells) this.cells.set(c.id, { ...c });
  }

  onCellReady(cell: CellResult): void {
    this.cells.set(cell.id, cell);
  }

  async onScenarioEnd(r: ScenarioResult): Promise<void> {
    const t0 = performance.now();
    this.results.push(r);
    // A finished scenario's section never changes: rendered once, so a
    // rewrite costs the summary and the concatenation only.
    this.sections.set(r, await renderScenario(r, this.files));
    await this.write(() => {
      const results = this.results.filter((x) => this.sections.has(x));
      const now = new Date();
      const partial: RunResult = {
        format: RESULTS_FORMAT,
        runId: this.info?.runId ?? '',
        mountlabVersion: '',
        startedAt: this.started.toISOString(),
        finishedAt: now.toISOString(),
        durationMs: now.getTime() - this.started.getTime(),
        host: { kernel: release(), node: process.version },
        cells: [...this.cells.values()],
        results,
        counts: countOutcomes(results.map((x) => x.outcome)),
        exitCode: exitCodeForOutcomes(results.map((x) => x.outcome)),
        complete: false,
      };
      const expected = this.info
        ? (this.info.items ?? this.info.scenarios.length * Math.max(this.info.cells.length, 1))
        : undefined;
      return renderPage(
        partial,
        results.map((x) => this.sections.get(x)!),
        { inProgress: true, ...(expected ? { expected } : {}) },
      );
    }, t0);
  }

  async onRunEnd(run: RunResult): Promise<void> {
    const t0 = performance.now();
    const sections = await Promise.all(run.results.map((r) => this.sections.get(r) ?? renderScenario(r, this.files)));
    await this.write(() => renderPage(run, sections), t0);
  }

  /** Queues a write; the page is made when its turn comes, so it holds everything finished by then. */
  private write(page: () => string, t0: number): Promise<void> {
    const done = this.writing.then(async () => {
      await writeAtomic(join(this.runDir, RUN_FILES.html), page());
      this.writeMs.push(performance.now() - t0);
    });
    this.writing = done.catch(() => undefined);
    return done;
  }
}

/** The whole page for a run, every file read through `files`. */
export async function renderHtml(run: RunResult, files: ReportFiles, opts: PageOptions = {}): Promise<string> {
  return renderPage(run, await Promise.all(run.results.map((r) => renderScenario(r, files))), opts);
}

export interface PageOptions {
  /** Written while the run goes on: the page says it may be incomplete. */
  inProgress?: boolean;
  /** Results the run will have when complete (scenarios x cells). */
  expected?: number;
}

/**
 * A section's anchor, from what names a result in a run (scenario and
 * cell), not from its position: sections are rendered once and kept while
 * results arrive in any order. Hashed, because names may hold any byte.
 */
export function sectionId(r: Pick<ScenarioResult, 'scenario' | 'cell'>): string {
  return `r-${createHash('sha1').update(`${r.cell}\0${r.scenario}`).digest('hex').slice(0, 12)}`;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

/** A relative file path as a URL path, each segment percent-encoded (a path may hold '#', '?', '%' or spaces). */
function hrefOf(rel: string): string {
  return rel
    .split(sep)
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function verdict(o: Outcome): string {
  return `<span class="verdict v-${o}">${o}</span>`;
}

// ---------------------------------------------------------------- the page

export function renderPage(run: RunResult, sections: readonly string[], opts: PageOptions = {}): string {
  const o: string[] = [];
  const title = `mountlab run ${run.runId}`;
  o.push(
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
  );
  o.push(`<title>${esc(title)}</title><style>${CSS}</style></head>`, '<body data-show="all">');
  o.push(`<header><h1>mountlab run <code>${esc(run.runId)}</code></h1>`);
  let status: string;
  if (opts.inProgress) {
    const of = opts.expected ? ` of ${opts.expected}` : '';
    status =
      `<p class="status incomplete">Incomplete: written after ${run.results.length}${of} results; ` +
      'the run was still going (or was killed then). Reload for more.</p>';
  } else if (!run.complete) {
    status = `<p class="status incomplete">Interrupted: the run stopped after ${run.results.length} results.</p>`;
  } else {
    status = `<p class="status">Finished: exit code ${run.exitCode}.</p>`;
  }
  o.push(status);
  const facts = [
    `started ${esc(run.startedAt)}`,
    `took ${seconds(run.durationMs)}`,
    `host kernel ${esc(run.host.kernel)}`,
    `node ${esc(run.host.node)}`,
    run.mountlabVersion ? `mountlab ${esc(run.mountlabVersion)}` : '',
  ].filter(Boolean);
  o.push(`<p class="meta">${facts.join(' · ')}</p></header>`);

  o.push('<nav class="counts" aria-label="verdicts">');
  for (const v of OUTCOMES)
    o.push(
      `<span class="count v-${v}${run.counts[v] ? '' : ' zero'}" data-outcome="${v}">` +
        `<b>${run.counts[v]}</b> ${v}</span>`,
    );
  o.push('</nav>');

  o.push(
    '<section id="cells"><h2>Cells</h2><table class="cells"><thead><tr>' +
      '<th>cell</th><th>target</th><th>kernel</th><th>criu</th><th>util-linux</th><th>accel</th>' +
      '<th>boot</th><th>ready</th><th>scenarios</th><th>time</th><th>image</th></tr></thead><tbody>',
  );
  for (const c of run.cells) {
    const mine = run.results.filter((r) => r.cell === c.id);
    const f = c.facts;
    o.push(
      `<tr><td><code>${esc(c.id)}</code>${c.error ? `<div class="cell-error">${esc(c.error)}</div>` : ''}</td>` +
        `<td>${esc(f.target)}</td><td>${esc(f.kernel)}</td>` +
        `<td>${esc(criuText(f))}` +
        `${criuOriginText(f) ? `<div class="criu-origin">${esc(criuOriginText(f)!)}</div>` : ''}` +
        `${f.criuCheck === 'ok' ? '' : ' <span class="warn">criu check failed</span>'}` +
        `${f.preflight ? `<div>preflight ${esc(f.preflight)}</div>` : ''}` +
        `</td><td>${esc(f.utilLinux)}</td><td>${esc(f.accel ?? '-')}</td>` +
        `<td>${seconds(f.bootMs)}</td><td>${seconds(f.readyMs)}</td><td>${mine.length}</td>` +
        `<td>${seconds(mine.reduce((n, r) => n + r.durationMs, 0))}</td><td>${esc(f.image ?? '-')}</td></tr>`,
    );
  }
  o.push('</tbody></table></section>');

  if (run.cells.length > 1) o.push(matrix(run));

  o.push('<section id="results"><h2>Results</h2>');
  o.push(
    '<p class="controls">Show <button type="button" data-show="all">all</button> ' +
      '<button type="button" data-show="bad">fail, error and xpass only</button> ' +
      '<button type="button" data-show="notpass">all but pass</button> · ' +
      '<button type="button" data-open="1">expand all</button> ' +
      '<button type="button" data-open="0">collapse all</button></p>',
  );
  // What needs a look comes first, in run order within each rank.
  const order = run.results
    .map((_, i) => i)
    .sort((a, b) => attention(run.results[a]!.outcome) - attention(run.results[b]!.outcome) || a - b);
  const manyCells = new Set(run.results.map((r) => r.cell)).size > 1 || run.cells.length > 1;
  o.push(
    `<table class="results"><thead><tr><th>scenario</th>${manyCells ? '<th>cell</th>' : ''}` +
      '<th>verdict</th><th>time</th><th>why</th></tr></thead><tbody>',
  );
  for (const i of order) {
    const r = run.results[i]!;
    o.push(
      `<tr class="${rowClass(r.outcome)}"><td><a href="#${sectionId(r)}">${esc(r.scenario)}</a></td>` +
        `${manyCells ? `<td><code>${esc(r.cell)}</code></td>` : ''}` +
        `<td>${verdict(r.outcome)}</td><td>${seconds(r.durationMs)}</td>` +
        `<td class="why">${esc(clipText(r.reason, 240))}</td></tr>`,
    );
  }
  o.push('</tbody></table></section>');

  o.push('<section id="scenarios"><h2>Scenarios</h2>', LEGEND);
  for (const i of order) o.push(sections[i] ?? '');
  o.push('</section>');
  o.push(`<script>${SCRIPT}</script></body></html>`);
  return o.join('\n');
}

/** The unexpected (fail, error, xpass) need a look; xfail and skip may; pass does not. */
function attention(o: Outcome): number {
  return !isExpected(o) ? 0 : o === 'pass' ? 2 : 1;
}

function rowClass(o: Outcome): string {
  return `v-${o} ${o === 'pass' ? 'ok pass' : isExpected(o) ? 'ok' : 'bad'}`;
}

/** Scenario x cell, rows whose verdicts differ across cells first. */
function matrix(run: RunResult): string {
  const { cells, rows } = scenarioMatrix(run);
  const differing = rows.filter((r) => r.differs).length;
  const o: string[] = [
    '<section id="matrix"><h2>Scenario × cell</h2>',
    `<p>${differing} of ${rows.length} scenarios have different verdicts across cells (listed first).</p>`,
  ];
  o.push(
    '<table class="matrix"><thead><tr><th>scenario</th>' +
      `${cells.map((c) => `<th><code>${esc(c)}</code></th>`).join('')}</tr></thead><tbody>`,
  );
  for (const r of rows) {
    const tds = r.verdicts.map((v, i) => {
      if (!v) return '<td>-</td>';
      return `<td><a href="#${sectionId({ scenario: r.scenario, cell: cells[i]! })}">${verdict(v)}</a></td>`;
    });
    o.push(`<tr${r.differs ? ' class="differs"' : ''}><td>${esc(r.scenario)}</td>${tds.join('')}</tr>`);
  }
  o.push('</tbody></table></section>');
  return o.join('\n');
}

// ---------------------------------------------------------------- one scenario

/** A scenario's section; never throws (a page without one section beats no page). */
export async function renderScenario(r: ScenarioResult, files: ReportFiles): Promise<string> {
  try {
    return await scenarioSection(r, files);
  } catch (e) {
    return (
      `<section class="scenario ${rowClass(r.outcome)}" id="${sectionId(r)}">` +
      `<h3>${verdict(r.outcome)} ${esc(r.scenario)} on <code>${esc(r.cell)}</code></h3>` +
      `<p class="reason">${esc(r.reason)}</p>` +
      `<p class="warn">This section could not be drawn: ${esc(String(e))}</p></section>`
    );
  }
}

async function scenarioSection(r: ScenarioResult, files: ReportFiles): Promise<string> {
  const o: string[] = [];
  const open = r.outcome !== 'pass' && r.outcome !== 'skip';
  o.push(
    `<section class="scenario ${rowClass(r.outcome)}" id="${sectionId(r)}" data-scenario="${esc(r.scenario)}"` +
      ` data-cell="${esc(r.cell)}" data-outcome="${r.outcome}">`,
  );
  o.push(
    `<details class="scenario-details"${open ? ' open' : ''}><summary>` +
      `<h3>${verdict(r.outcome)}${r.flaky ? ' <span class="warn">flaky</span>' : ''} ${esc(r.scenario)} ` +
      `<span class="on">on <code>${esc(r.cell)}</code> · ${seconds(r.durationMs)}</span></h3></summary>`,
  );
  o.push(`<p class="reason">${esc(r.reason)}</p>`);
  o.push('<dl class="facts">');
  o.push(`<dt>expected</dt><dd>${esc(r.expected || '-')}</dd><dt>mount engine</dt><dd>${esc(r.mountEngine)}</dd>`);
  const phases = r.phases.map(
    (p) =>
      `<span class="phase${p.ok ? '' : ' failed'}">${esc(p.phase)} ${seconds(p.ms)}${p.ok ? '' : ' failed'}</span>`,
  );
  o.push(`<dt>phases</dt><dd>${phases.join(' · ') || '-'}</dd>`);
  if (r.attempts?.length) {
    const tries = r.attempts
      .map(
        (a, i) => `<li>${i + 1}: ${verdict(a.outcome)} ${seconds(a.durationMs)} ${esc(clipText(a.reason, 240))}</li>`,
      )
      .join('');
    const agreement = r.flaky ? '<b class="warn">flaky: the attempts disagreed</b>' : `${r.attempts.length}, all alike`;
    o.push(`<dt>attempts</dt><dd>${agreement}<ol class="attempts">${tries}</ol></dd>`);
  }
  if (r.probes) {
    const p = r.probes;
    const notes = p.notes.length ? `<ul>${p.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
    o.push(
      `<dt>live probes</dt><dd>${p.propagation} mount(s), ${p.copies} copies, ` +
        `${p.fdWrites} fd write(s), ${p.fdChecks} fd check(s)${notes}</dd>`,
    );
  }
  o.push('</dl>');
  if (r.error) {
    o.push(`<div class="error"><p><b>error in ${esc(r.error.phase)}:</b> ${esc(r.error.message)}</p>`);
    if (r.error.excerpt) o.push(`<pre>${esc(capLines(r.error.excerpt, 200, 2000))}</pre>`);
    o.push('</div>');
  }

  o.push(await pictures(r, files));

  if (r.leaks.length)
    o.push(
      '<div class="leaks"><h4>Namespace leaks</h4>' +
        '<p>Tasks outside the checkpointed tree that shared its namespaces at dump time:</p>' +
        `<ul>${r.leaks.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></div>`,
    );
  if (r.filtered.length) {
    o.push('<div class="filtered"><h4>Super options left out of the comparison</h4><ul>');
    for (const f of r.filtered) {
      o.push(
        `<li><code>${esc(f.option)}</code>${f.fsType ? ` (${esc(f.fsType)})` : ''}` +
          `${f.differed ? ' <b>differed</b>' : ''}` +
          ` on ${f.mounts.map((m) => `<code>${esc(m)}</code>`).join(', ')}: ${esc(f.reason)}</li>`,
      );
    }
    o.push('</ul></div>');
  }
  o.push(await logs(r, files));
  o.push(await source(r, files));
  const art = Object.entries(r.artifacts);
  if (art.length) {
    const links = art.map(([k, rel]) => `<a href="${esc(hrefOf(rel))}">${esc(k)}</a>`);
    o.push(`<p class="artifacts">Files: ${links.join(', ')}</p>`);
  }
  o.push('</details></section>');
  return o.join('\n');
}

/**
 * Before and after, drawn, with the differences beside them. A pass is
 * identical after the restore up to renumbering: one picture says it.
 * Mounts are marked from the stored differences (by their labels) and
 * from pairing the two trees (extra after, missing before), so the marks
 * hold even for a difference whose sentence names no mount.
 */
async function pictures(r: ScenarioResult, files: ReportFiles): Promise<string> {
  const { before, after } = await capturedTopologies(r, files.artifact);
  const diffs = r.differences.length
    ? `<aside class="differences"><h4>Differences (${r.differences.length})</h4><ul>${r.differences
        .slice(0, 200)
        .map(
          (d) =>
            `<li>${d.mount ? `<code class="mount-name">${esc(d.mount)}</code> ` : ''}` +
            `<span class="kind">${esc(d.kind)}</span><br>${esc(d.sentence)}</li>`,
        )
        .join('')}${r.differences.length > 200 ? `<li>… and ${r.differences.length - 200} more</li>` : ''}</ul></aside>`
    : '';
  const figure = (cls: string, caption: string, svg: string) =>
    `<figure class="${cls}"><figcaption>${caption}</figcaption><div class="svg-wrap">${svg}</div></figure>`;
  const o: string[] = [];
  if (before && after) {
    const M = matchTopologies(before, after);
    const names = pairedGroupNames(before, after, M);
    const named = new Set(r.differences.map((d) => d.mount).filter((m): m is string => !!m));
    const bm = new Map<TopoMount, MountMark>();
    const am = new Map<TopoMount, MountMark>();
    for (const m of before.mounts) {
      if (!M.mounts.has(m)) bm.set(m, 'lost');
      else if (named.has(m.label)) {
        bm.set(m, 'changed');
        am.set(M.mounts.get(m)!, 'changed');
      }
    }
    for (const m of after.mounts) if (!M.back.has(m)) am.set(m, 'added');
    if (r.outcome === 'pass' && !r.differences.length && !bm.size && !am.size) {
      o.push(
        figure(
          'before',
          'Before the dump (after the restore: the same, up to renumbering)',
          renderMountGraph(before, { title: `${r.scenario}: mounts before the dump`, names: names.before }),
        ),
      );
    } else {
      o.push(
        figure(
          'before',
          'Before the dump',
          renderMountGraph(before, { title: `${r.scenario}: mounts before the dump`, names: names.before, marks: bm }),
        ),
      );
      o.push(
        figure(
          'after',
          'After the restore',
          renderMountGraph(after, { title: `${r.scenario}: mounts after the restore`, names: names.after, marks: am }),
        ),
      );
    }
  } else if (before) {
    o.push(
      figure(
        'before',
        'Before the dump',
        renderMountGraph(before, {
          title: `${r.scenario}: mounts before the dump`,
          names: canonicalGroupNames(before),
        }),
      ),
    );
    const why = r.artifacts[SCENARIO_FILES.after]
      ? 'its capture could not be read'
      : 'there is no capture (the run did not get that far)';
    o.push(`<p class="no-picture">No picture after the restore: ${why}.</p>`);
  } else if (r.artifacts[SCENARIO_FILES.before] || r.artifacts[SCENARIO_FILES.after]) {
    o.push('<p class="no-picture">No picture: the captures could not be read.</p>');
  }
  if (diffs) o.push(diffs);
  return o.length ? `<div class="topology">${o.join('\n')}</div>` : '';
}

// ---------------------------------------------------------------- logs

const KEY_MAX = 300;
const LINE_MAX = 500;
/**
 * How much of a log's end is shown, and below how many lines it is shown
 * whole. A pass's logs say little beyond their key lines, and a corpus is
 * mostly passes: they get a short tail, so the page stays small.
 */
const TAIL = { full: 80, pass: 20 };
const WHOLE = { full: 200, pass: 40 };

async function logs(r: ScenarioResult, files: ReportFiles): Promise<string> {
  const isLog = (k: string) => SCENARIO_LOGS.includes(k) || k.endsWith('.log') || k.endsWith('.err');
  const names = Object.keys(r.artifacts).filter(isLog);
  names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  const o: string[] = [];
  for (const name of names) {
    const rel = r.artifacts[name]!;
    const text = await files.artifact(rel, 'utf8');
    o.push(
      text === undefined
        ? `<p class="log-missing">${esc(name)}: cannot be read.</p>`
        : logBlock(name, rel, text, r.outcome === 'pass' ? 'pass' : 'full'),
    );
  }
  return o.length ? `<div class="logs"><h4>Logs</h4>${o.join('\n')}</div>` : '';
}

function rank(name: string): number {
  const i = SCENARIO_LOGS.indexOf(name);
  return i < 0 ? SCENARIO_LOGS.length : i;
}

/**
 * A log as a <details>: its key lines first (engine/criu-log.ts keyLine:
 * trouble, and the v2 mount engine's decisions), then its last lines (or
 * all of it when short), each capped.
 */
export function logBlock(name: string, rel: string, text: string, size: 'full' | 'pass' = 'full'): string {
  const tail = TAIL[size];
  const lines = text.replace(/\n$/, '').split('\n');
  const numbered = (i: number) => `${String(i + 1).padStart(5)}  ${esc(clipText(lines[i]!, LINE_MAX))}`;
  const kinds = lines.map(keyLine);
  const key: number[] = [];
  for (let i = 0; i < lines.length; i++) if (kinds[i]) key.push(i);
  // Trouble before mnt-v2 chatter when there are too many to show.
  let shownKey = key;
  if (key.length > KEY_MAX) {
    const loud = key.filter((i) => kinds[i] === 'trouble');
    const rest = key.filter((i) => kinds[i] !== 'trouble');
    shownKey = [...loud.slice(0, KEY_MAX), ...rest.slice(0, Math.max(KEY_MAX - loud.length, 0))].sort((a, b) => a - b);
  }
  const cls = (i: number) => (kinds[i] === 'trouble' ? 'k-err' : 'k-v2');
  const errors = key.filter((i) => cls(i) === 'k-err').length;
  const o: string[] = [];
  o.push(
    `<details class="log" data-log="${esc(name)}"><summary><code>${esc(name)}</code>: ${lines.length} lines, ` +
      `${errors} error/BUG line${errors === 1 ? '' : 's'}, ` +
      `${key.length - errors} mnt-v2 line${key.length - errors === 1 ? '' : 's'} · ` +
      `<a href="${esc(hrefOf(rel))}">whole file</a></summary>`,
  );
  if (key.length) {
    o.push(
      `<p>Key lines${shownKey.length < key.length ? ` (${shownKey.length} of ${key.length}; errors first)` : ''}:</p>`,
    );
    o.push(
      `<pre class="key-lines">${shownKey.map((i) => `<span class="${cls(i)}">${numbered(i)}</span>`).join('\n')}</pre>`,
    );
  }
  if (lines.length <= WHOLE[size]) {
    o.push(`<p>The whole log:</p><pre>${lines.map((_, i) => numbered(i)).join('\n')}</pre>`);
  } else {
    o.push(
      `<p>The last ${tail} of ${lines.length} lines (the rest is in the file):</p><pre>${lines
        .slice(-tail)
        .map((_, j) => numbered(lines.length - tail + j))
        .join('\n')}</pre>`,
    );
  }
  o.push('</details>');
  return o.join('\n');
}

async function source(r: ScenarioResult, files: ReportFiles): Promise<string> {
  const href = files.scenarioHref(r.file);
  const text = await files.scenario(r.file);
  const path = `<code>${esc(r.file)}</code>`;
  const o = [`<p class="source">Scenario file: ${href ? `<a href="${esc(href)}">${path}</a>` : path}</p>`];
  if (text !== undefined)
    o.push(
      '<details class="yaml"><summary>scenario source</summary>' +
        `<pre>${esc(capLines(text, 400, 64 * 1024))}</pre></details>`,
    );
  else o.push('<p class="no-source">(the scenario file cannot be read from here)</p>');
  return o.join('\n');
}

function clipText(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}… (${s.length - max + 1} more characters)` : s;
}

function capLines(text: string, maxLines: number, maxChars: number): string {
  let t = text.length > maxChars ? `${text.slice(0, maxChars)}\n… (${text.length - maxChars} more characters)` : text;
  const lines = t.split('\n');
  if (lines.length > maxLines) t = `${lines.slice(0, maxLines).join('\n')}\n… (${lines.length - maxLines} more lines)`;
  return t;
}

// ---------------------------------------------------------------- style and behaviour

const LEGEND = [
  '<p class="legend">In the pictures: each mount namespace is a box holding its mount tree, one row per mount ' +
    "(its mountpoint relative to its parent's, then fstype, source and [root]).",
  'Same colour and letter = the same peer group (shared:N, lettered in tree order, one letter per group in both ' +
    "pictures); arrows run from a member of a master's peer group to its slaves;",
  'masters outside the capture are the dashed nodes on top. ' +
    `<span style="color:${DIFF_COLOUR}">Red outline</span>: named in a difference;`,
  `<span style="color:${DIFF_COLOUR}">dashed red</span>: missing after restore; ` +
    `<span style="color:${DIFF_COLOUR}">red fill</span>: extra after restore. Hover a mount for its details.</p>`,
].join('\n');

// The empty first and last lines put the rules on lines of their own between <style> and </style>.
const CSS = [
  '',
  ':root{--pass:#2e7d32;--fail:#c62828;--error:#8e24aa;--skip:#757575;--xfail:#ef6c00;--xpass:#ad1457}',
  "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI','DejaVu Sans',sans-serif;" +
    'margin:0 auto;padding:12px 20px 60px;max-width:1600px;color:#1b1b1b;background:#fff}',
  "code,pre{font-family:'DejaVu Sans Mono',ui-monospace,Menlo,Consolas,monospace;font-size:12px}",
  'h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid #ddd}' +
    'h3{font-size:15px;margin:0;display:inline}h4{margin:10px 0 4px;font-size:14px}',
  '.status{font-weight:600}.incomplete{color:#b26a00}.meta{color:#555;margin-top:0}',
  '.counts{display:flex;gap:8px;flex-wrap:wrap}' +
    '.count{padding:4px 10px;border-radius:12px;color:#fff;background:var(--c)}.count.zero{opacity:.35}',
  '.v-pass{--c:var(--pass)}.v-fail{--c:var(--fail)}.v-error{--c:var(--error)}.v-skip{--c:var(--skip)}' +
    '.v-xfail{--c:var(--xfail)}.v-xpass{--c:var(--xpass)}',
  '.verdict{display:inline-block;min-width:3.6em;text-align:center;padding:0 6px;border-radius:4px;' +
    'color:#fff;background:var(--c);font-weight:600;font-size:12px}',
  'table{border-collapse:collapse;margin:6px 0}' +
    'th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f4f6}',
  'td.why{max-width:60em;word-break:break-word}td code{white-space:nowrap}tr.differs td:first-child{font-weight:700}',
  '.cell-error,.warn{color:var(--fail)}',
  '.controls button{font:inherit;padding:1px 8px;cursor:pointer}',
  'body[data-show=bad] .ok{display:none}body[data-show=notpass] .pass{display:none}',
  '.scenario{border:1px solid #ddd;border-left:6px solid var(--c);border-radius:4px;margin:10px 0;padding:6px 12px}',
  '.scenario>details>summary{cursor:pointer;padding:2px 0}.on{font-weight:400;color:#555}',
  '.reason{font-weight:600;word-break:break-word}',
  'dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}dt{color:#555}' +
    'dd{margin:0;word-break:break-word}',
  '.phase.failed{color:var(--fail);font-weight:600}ol.attempts{margin:2px 0;padding-left:20px}',
  '.error{background:#fbeaea;border:1px solid #e8b4b4;padding:4px 10px;border-radius:4px}',
  '.topology{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;margin:8px 0}',
  'figure{margin:0;max-width:100%}figcaption{font-weight:600;margin-bottom:4px}' +
    '.svg-wrap{overflow-x:auto;max-width:100%}',
  'svg.mount-graph{display:block}svg.mount-graph .mount:hover>rect:first-of-type{stroke-width:2.5}',
  '.differences{flex:1 1 320px;min-width:280px;max-width:640px;background:#fff6f6;' +
    'border:1px solid #f0c8c8;border-radius:4px;padding:4px 12px}',
  '.differences ul{padding-left:18px;margin:4px 0}.differences li{margin:4px 0;word-break:break-word}' +
    `.kind{color:#777;font-size:12px}.mount-name{color:${DIFF_COLOUR}}`,
  '.no-picture,.no-source,.log-missing{color:#666;font-style:italic}',
  'pre{background:#f6f7f9;border:1px solid #e1e4e8;padding:6px 8px;overflow-x:auto;max-height:40em;white-space:pre}',
  '.key-lines .k-err{color:#b00020;font-weight:600}.key-lines .k-v2{color:#1f4e9a}',
  'details.log,details.yaml{margin:4px 0}details.log>summary,details.yaml>summary{cursor:pointer}',
  '.legend{color:#444;font-size:13px;background:#f8f8fa;border:1px solid #e5e5ea;padding:6px 10px;border-radius:4px}',
  '.artifacts{font-size:12px;color:#555}',
  '',
].join('\n');

// Plain ES5-era DOM calls: the page must work in any browser, offline, with nothing loaded.
const SCRIPT = [
  '',
  '(function(){',
  '  var body=document.body;',
  "  document.querySelectorAll('button[data-show]').forEach(function(b){" +
    "b.addEventListener('click',function(){body.setAttribute('data-show',b.getAttribute('data-show'));});});",
  "  document.querySelectorAll('button[data-open]').forEach(function(b){b.addEventListener('click',function(){" +
    "var open=b.getAttribute('data-open')==='1';" +
    "document.querySelectorAll('details.scenario-details').forEach(function(d){d.open=open;});});});",
  '  function reveal(){var id=location.hash.slice(1);var el=id&&document.getElementById(id);' +
    "if(el){var d=el.querySelector('details.scenario-details');if(d)d.open=true;}}",
  "  window.addEventListener('hashchange',reveal);reveal();",
  '})();',
  '',
].join('\n');
