/**
 * `mountlab report RUN --for-list`: one failing scenario of a run as a
 * plain-text message a CRIU or kernel developer can paste into a mail or
 * an issue, for a reader who does not use mountlab: the kernel and CRIU,
 * what happened in the lab's sentences, the scenario, the commands that
 * rebuild it by hand (plan/hand-script.ts), CRIU's log excerpt and the
 * mountinfo before and after. Plain text, 72-column prose, no markup a
 * mail client would mangle.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInputError } from '../errors.js';
import { criuArgs } from '../plan/compile.js';
import { NotByHand, renderHandScript } from '../plan/hand-script.js';
import { SCENARIO_FILES, RUN_FILES } from '../results/artifacts.js';
import { readResultsFile, ResultsFileError } from '../results/read-results.js';
import type { ResultsFile, ScenarioResult, TargetFacts } from '../results/result.js';
import { failureOf, formatFailure } from '../results/signature.js';
import { parseScenario } from '../scenario/load.js';

const FAILING = new Set(['fail', 'error', 'xfail']);

export interface ForListOptions {
  /** The scenario's name in the run; the first failing one when absent. */
  scenario?: string;
}

/** The message for a run directory or its results.json. */
export async function forListFromRun(runOrFile: string, o: ForListOptions = {}): Promise<string> {
  const isDir = (await stat(runOrFile).catch(() => undefined))?.isDirectory() ?? false;
  const file = isDir ? join(runOrFile, RUN_FILES.results) : runOrFile;
  const runDir = isDir ? runOrFile : join(runOrFile, '..');
  let run: ResultsFile;
  try {
    run = await readResultsFile(file);
  } catch (e) {
    if (e instanceof ResultsFileError)
      throw new BadInputError([{ file, line: 1, col: 1, path: '', message: e.message }], 'give a run directory');
    throw e;
  }
  const r = o.scenario
    ? run.results.find((x) => x.scenario === o.scenario)
    : run.results.find((x) => FAILING.has(x.outcome));
  if (!r) {
    const names = run.results.map((x) => `${x.scenario} (${x.outcome})`).join(', ');
    throw new BadInputError(
      [
        {
          file,
          line: 1,
          col: 1,
          path: '',
          message: o.scenario ? `no scenario '${o.scenario}' in this run` : 'no scenario of this run failed',
        },
      ],
      `its scenarios: ${names || 'none'}`,
    );
  }
  const facts = run.cells?.find((c) => c.id === r.cell)?.facts;
  const artifact = async (name: string) => {
    const rel = r.artifacts[name];
    return rel ? readFile(join(runDir, rel), 'latin1').catch(() => undefined) : undefined;
  };
  const scenarioText = await readFile(r.file, 'utf8').catch(() => undefined);
  return renderForList({
    result: r,
    ...(facts ? { facts } : {}),
    ...(scenarioText !== undefined ? { scenarioText } : {}),
    before: await artifact(SCENARIO_FILES.before),
    after: await artifact(SCENARIO_FILES.after),
    dumpLog: await artifact(SCENARIO_FILES.dumpLog),
    restoreLog: await artifact(SCENARIO_FILES.restoreLog),
  });
}

export interface ForListInput {
  result: ScenarioResult;
  facts?: TargetFacts;
  scenarioText?: string;
  before?: string | undefined;
  after?: string | undefined;
  dumpLog?: string | undefined;
  restoreLog?: string | undefined;
}

export function renderForList(i: ForListInput): string {
  const r = i.result;
  const f = i.facts;
  const failure = failureOf(r);
  const out: string[] = [];
  const section = (title: string, body: string | string[]) => {
    out.push(
      '',
      title,
      '-'.repeat(title.length),
      ...(Array.isArray(body) ? body : body.replace(/\n$/, '').split('\n')),
    );
  };
  const what = r.error ? `criu ${r.error.phase}` : 'the restored topology';
  out.push(`Subject: ${what}: ${headline(r)}`);
  out.push('', `Kernel: ${f ? `Linux ${f.kernel}` : 'unknown'}${f?.accel ? ` (qemu, ${f.accel.toUpperCase()})` : ''}`);
  out.push(`CRIU:   ${f ? criuText(f) : 'unknown'}`);
  if (f) out.push(`util-linux: ${f.utilLinux}${f.image ? `; guest image ${f.image}` : ''}`);
  section('What happens', [
    ...wrap(`${r.reason}.`),
    ...r.differences.flatMap((d) => wrap(`- ${d.sentence}`, '  ')),
    '',
    `(signature: ${formatFailure(failure)})`,
  ]);
  let scenario: ReturnType<typeof parseScenario> | undefined;
  try {
    if (i.scenarioText !== undefined) scenario = parseScenario(i.scenarioText, r.file);
  } catch {
    scenario = undefined;
  }
  if (scenario) {
    const s = scenario.scenario;
    let hand: string[];
    try {
      const h = renderHandScript(s, criuArgs(s.engine, r.mountEngine));
      hand = [
        ...wrap(
          'As root on a throw-away machine with util-linux and criu (no mountlab needed): save as repro.sh, ' +
            'run bash repro.sh. It builds the same tree and prints its mountinfo and what criu dump ' +
            '(and restore) say.' +
            (h.helperSteps.length
              ? ` Steps ${h.helperSteps.join('; ')} call mountlab-helper (vm/helper in mountlab): ` +
                'util-linux has no command for them.'
              : ''),
        ),
        '',
        ...h.script.replace(/\n$/, '').split('\n'),
      ];
    } catch (e) {
      if (!(e instanceof NotByHand)) throw e;
      hand = wrap(`Not rendered as plain commands: ${e.message}. mountlab run ${r.file} rebuilds it.`);
    }
    section('To reproduce by hand', hand);
    section(`The scenario (${r.file}, mountlab's YAML)`, stripHeader(i.scenarioText!));
  } else {
    section('The scenario', `${r.file} (not readable any more)`);
  }
  const log = r.error?.phase === 'restore' ? i.restoreLog : i.dumpLog;
  if (r.error?.excerpt || log)
    section(`CRIU log excerpt (${r.error?.phase ?? 'dump'})`, r.error?.excerpt ?? tail(log!, 20));
  section('mountinfo before the dump', i.before ? mountinfoText(i.before) : '(none captured)');
  section(
    'mountinfo after the restore',
    i.after ? mountinfoText(i.after) : `(none: ${r.error ? `criu ${r.error.phase} failed` : 'not captured'})`,
  );
  out.push('', `-- mountlab, ${r.scenario} in ${r.cell}`);
  return `${out.join('\n')}\n`;
}

function headline(r: ScenarioResult): string {
  const m = r.error?.message.replace(/^criu [a-z-]+ failed \(exit -?\d+\):\s*/, '');
  return m ?? r.differences[0]?.sentence ?? r.reason;
}

function criuText(f: TargetFacts): string {
  const b = f.criuBuild;
  if (!b) return `${f.criu} (Debian's package in the guest image)`;
  const what =
    b.kind === 'git' ? `git ${b.describe ?? ''} commit ${b.commit ?? '?'}${b.dirty ? ' (dirty)' : ''}` : b.kind;
  return `${f.criu}${f.criuGitId ? ` (${f.criuGitId})` : ''}, built from ${what}`;
}

/** The capture's tasks as plain mountinfo, one block per mount namespace. */
export function mountinfoText(capture: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let keep = false;
  for (const l of capture.split('\n')) {
    const task = l.match(/^@task (\S+) pid=(\d+) mntns=(\d+)/);
    if (task) {
      keep = !seen.has(task[3]!);
      if (keep) {
        seen.add(task[3]!);
        out.push(`# task ${task[1]} (pid ${task[2]}), mount namespace ${task[3]}: /proc/${task[2]}/mountinfo`);
      }
      continue;
    }
    if (l.startsWith('@')) keep = false;
    else if (keep && /^\d+ \d+ /.test(l)) out.push(l);
  }
  return out;
}

function stripHeader(text: string): string {
  return text.replace(/\n$/, '');
}

function tail(text: string, n: number): string {
  return text.split('\n').filter(Boolean).slice(-n).join('\n');
}

function wrap(text: string, indent = ''): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + 1 + w.length > 72) {
      lines.push(cur);
      cur = indent + w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines;
}
