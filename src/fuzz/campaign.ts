/**
 * A fuzz campaign: draw scenarios (generator.ts), run each through the full
 * checkpoint/restore on every cell's guest (run/execute-scenario.ts, guests
 * kept between scenarios as the runner keeps them: run/guest.ts), classify
 * every non-pass by signature, dedupe, and keep each signature's first
 * scenario and logs (findings.ts). Stops when the budget is spent, at
 * --max-scenarios, or on Ctrl-C; the state is saved after every scenario,
 * so `--resume` continues where it stopped.
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MountlabError } from '../errors.js';
import { checkModel } from '../plan/model-check.js';
import { checkProgramSize } from '../plan/program-size.js';
import { scenarioDir } from '../results/artifacts.js';
import type { ScenarioResult, TargetFacts } from '../results/result.js';
import { executeScenario } from '../run/execute-scenario.js';
import { Guest } from '../run/guest.js';
import type { CellPlan } from '../run/runner.js';
import { scenarioRuns, type ScenarioRun } from '../run/variants.js';
import { parseScenario } from '../scenario/load.js';
import type { Scenario } from '../scenario/scenario.generated.js';
import type { GuestClient } from '../target/guest-client.js';
import type { StartedTarget } from '../target/target.js';
import { scenarioSeed } from '../prng.js';
import { CAMPAIGN_FILES, Draws, indexOfDraw, writeCampaign, type CampaignState } from './campaign-state.js';
import { compareCells, type CellVerdict } from './differential.js';
import { classify, FindingBook, type Finding, type FindingClass, type KnownBug, type Observation } from './findings.js';
import { generateScenario, GENERATOR_VERSION, scenarioYaml, type Generated } from './generator.js';
import { writeCampaignReports } from './report.js';

/**
 * The seam for `mountlab reduce` (src/reduce/, wired after merge): given a
 * finding's scenario file and signature, returns a smaller scenario that
 * fails the same way, or undefined when it could not. Without it a
 * finding says "not reduced yet".
 */
export type ReduceHook = (f: {
  scenarioFile: string;
  signature: string;
  cell: string;
  /** Where its first run's logs are (their last part names the run, with its engine variant). */
  logs: string;
  signal: AbortSignal;
}) => Promise<{ file: string; steps: number } | undefined>;

export interface CampaignOptions {
  dir: string;
  state: CampaignState;
  findings: Finding[];
  /** The baseline first in differential mode. */
  cells: CellPlan[];
  /** This session's budget. */
  budgetMs: number;
  jobs: number;
  signal: AbortSignal;
  probes: boolean;
  knownBugs: readonly KnownBug[];
  log: (m: string) => void;
  /** Every scenario's verdicts, not only the progress line. */
  verbose?: boolean;
  progressEveryMs?: number;
  /** Stop after this many scenarios in this session. */
  maxScenarios?: number;
  reduce?: ReduceHook;
  /** Tests fake the guest and the generator. */
  guestClient?: (t: StartedTarget) => GuestClient;
  generate?: (seed: number, name: string) => Generated;
  now?: () => number;
}

export type StopReason = 'budget' | 'interrupted' | 'max-scenarios';

export interface CampaignSummary {
  state: CampaignState;
  findings: Finding[];
  sessionMs: number;
  sessionExecutions: number;
  sessionScenarios: number;
  /** Executions (scenario runs x cells) per minute of this session. */
  perMinute: number;
  stopped: StopReason;
}

/** The first lines of a drawn scenario: how to draw it again. */
export function drawHeader(state: Pick<CampaignState, 'seed'>, index: number, seed: number): string[] {
  return [
    `mountlab fuzz: generator ${GENERATOR_VERSION}, campaign seed ${state.seed}, scenario index ${index}, ` +
      `scenario seed ${seed}`,
  ];
}

/** "12:03" or "1:02:03". */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

export function tally(findings: readonly Finding[]): Record<FindingClass, number> {
  const t: Record<FindingClass, number> = { new: 0, known: 0, 'not-built': 0, regression: 0, fixed: 0 };
  for (const f of findings) t[f.class]++;
  return t;
}

export function tallyText(findings: readonly Finding[]): string {
  const t = tally(findings);
  const parts = (Object.entries(t) as [FindingClass, number][]).filter(([, n]) => n > 0).map(([c, n]) => `${n} ${c}`);
  return `${findings.length} signature(s)${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignSummary> {
  const now = o.now ?? Date.now;
  const started = now();
  const state = o.state;
  const book = new FindingBook(o.findings);
  const draws = new Draws(state);
  const work = join(o.dir, CAMPAIGN_FILES.work);
  await mkdir(work, { recursive: true });
  const generate = o.generate ?? ((seed, name) => generateScenario(seed, { name }));
  let sessionExecutions = 0;
  let sessionScenarios = 0;
  let stopped: StopReason = 'budget';
  let lastProgress = started;
  let seq = 0;
  const campaignMs = () => state.elapsedMs + (now() - started);
  const perMinute = () => (sessionExecutions * 60_000) / Math.max(1, now() - started);
  const progress = (force = false) => {
    if (!force && now() - lastProgress < (o.progressEveryMs ?? 30_000)) return;
    lastProgress = now();
    const left = Math.max(0, o.budgetMs - (now() - started));
    o.log(
      `fuzz ${clock(now() - started)}: ${sessionScenarios} scenario(s), ${sessionExecutions} execution(s) ` +
        `(${perMinute().toFixed(1)}/min), ${tallyText(book.all)}, ${clock(left)} left`,
    );
  };
  let saving = Promise.resolve();
  const save = () => {
    const snapshot = { ...state, elapsedMs: campaignMs() };
    saving = saving.then(() => writeCampaign(o.dir, snapshot, book.all));
    return saving;
  };

  /** Stores a signature's first scenario and logs. */
  const store = async (f: Finding, scenario: Scenario, header: string[], artifacts: string | undefined) => {
    const dir = join(o.dir, CAMPAIGN_FILES.findingsDir, f.id);
    await mkdir(dir, { recursive: true });
    const findingHeader = [
      `mountlab fuzz finding ${f.id} (${f.class}): ${f.signature}`,
      ...header,
      `first seen on ${f.cells[0]} at ${f.firstSeen}; rerun: mountlab run ${f.scenarioFile}`,
      'reduced: not reduced yet (mountlab reduce)',
    ];
    await writeFile(join(o.dir, f.scenarioFile), scenarioYaml(scenario, findingHeader));
    if (artifacts) await cp(artifacts, join(o.dir, f.logs), { recursive: true }).catch(() => {});
  };

  const observe = async (
    obs: Observation,
    scenario: Scenario,
    header: string[],
    run: ScenarioRun,
    r: ScenarioResult,
  ): Promise<void> => {
    const { finding, first } = book.record(obs, { scenarioFile: '', logs: '' });
    if (!first) return;
    finding.scenarioFile = join(CAMPAIGN_FILES.findingsDir, finding.id, 'scenario.yaml');
    finding.logs = join(CAMPAIGN_FILES.findingsDir, finding.id, 'logs', r.cell, run.name);
    await store(finding, scenario, header, join(work, scenarioDir(r.cell, run.name)));
    const what =
      finding.class === 'known'
        ? `known (${finding.known!.scenario})`
        : finding.class === 'not-built'
          ? 'did not build (the generator or the model is wrong, not CRIU)'
          : finding.class;
    o.log(`fuzz: signature ${finding.id}, ${what}: ${finding.signature} -> ${finding.scenarioFile}`);
  };

  const worker = async (): Promise<void> => {
    const guests = new Map<string, Guest>();
    const facts = new Map<string, TargetFacts>();
    const guestFor = async (cell: CellPlan): Promise<Guest> => {
      const had = guests.get(cell.id);
      if (had?.usable) return had;
      if (had) {
        guests.delete(cell.id);
        o.log(`${cell.id}: the guest is no longer trusted (${had.retiredBecause ?? 'it stopped answering'}); booting`);
        await dispose(had);
      }
      const t = await cell.target.start(o.signal);
      const g = new Guest(t, o.guestClient?.(t));
      guests.set(cell.id, g);
      facts.set(cell.id, t.facts);
      return g;
    };
    try {
      for (;;) {
        if (o.signal.aborted) {
          stopped = 'interrupted';
          return;
        }
        if (now() - started >= o.budgetMs) return;
        if (o.maxScenarios !== undefined && sessionScenarios >= o.maxScenarios) {
          stopped = 'max-scenarios';
          return;
        }
        const j = draws.take();
        sessionScenarios++;
        const index = indexOfDraw(j, state.shard);
        const seed = scenarioSeed(state.seed, index);
        const name = `fuzz-${state.seed}-${index}`;
        const header = drawHeader(state, index, seed);
        const drawn = generate(seed, name).scenario;
        const yaml = scenarioYaml(drawn, header);
        const file = join(work, `${name}.yaml`);
        const dirs: string[] = [file];
        try {
          await writeFile(file, yaml);
          const loaded = parseScenario(yaml, file);
          checkProgramSize(loaded);
          checkModel(loaded);
          for (const run of scenarioRuns([loaded])) {
            const verdicts: CellVerdict[] = [];
            for (const cell of o.cells) {
              const guest = await guestFor(cell);
              // Listed before it runs: an interrupted scenario's files go too.
              dirs.push(join(work, scenarioDir(cell.id, run.name)));
              const r = await executeScenario(guest, run, {
                cell: cell.id,
                runDir: work,
                reporter: {},
                signal: o.signal,
                guestId: `f${++seq}`,
                probes: o.probes,
              });
              state.executions++;
              sessionExecutions++;
              verdicts.push({ cell: cell.id, result: r });
              if (o.verbose) o.log(`fuzz: ${run.name} on ${cell.id}: ${r.outcome}: ${r.reason}`);
              const c = classify(r, facts.get(cell.id)!, o.knownBugs);
              if (c)
                await observe(
                  { ...c, cell: cell.id, index, scenarioSeed: seed, reason: r.reason, atMs: campaignMs() },
                  drawn,
                  header,
                  run,
                  r,
                );
            }
            for (const d of compareCells(verdicts))
              await observe(
                {
                  signature: d.signature,
                  exact: d.exact,
                  class: d.class,
                  differential: { passed: d.passed, failed: d.failed },
                  cell: d.failed,
                  index,
                  scenarioSeed: seed,
                  reason: d.result.reason,
                  atMs: campaignMs(),
                },
                drawn,
                header,
                run,
                d.result,
              );
          }
          state.scenarios++;
          draws.finish(j);
        } catch (e) {
          if (o.signal.aborted) {
            stopped = 'interrupted';
            return;
          }
          if (!(e instanceof MountlabError)) throw e;
          // A drawn scenario the lab refuses is the generator's bug: said, counted as done, not retried forever.
          o.log(`fuzz: scenario ${index} (seed ${seed}) was refused: ${e.message}`);
          draws.finish(j);
        } finally {
          await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
        }
        await save();
        progress();
      }
    } finally {
      await Promise.all([...guests.values()].map(dispose));
    }
  };

  try {
    const n = Math.max(1, o.jobs);
    const results = await Promise.allSettled(Array.from({ length: n }, () => worker()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !o.signal.aborted) throw failed.reason;
    if (o.signal.aborted) stopped = 'interrupted';
    if (o.reduce && !o.signal.aborted) await reduceFindings(o, book.all);
  } finally {
    state.elapsedMs = campaignMs();
    state.sessions++;
    await saving;
    await writeCampaign(o.dir, state, book.all);
    await writeCampaignReports(o.dir, state, book.all, { perMinute: perMinute() });
    progress(true);
  }
  return {
    state,
    findings: book.all,
    sessionMs: now() - started,
    sessionExecutions,
    sessionScenarios,
    perMinute: perMinute(),
    stopped,
  };
}

/** Tears a guest down; one that fails to go quietly must not stop the others (qemu dies with us anyway). */
async function dispose(g: Guest): Promise<void> {
  try {
    await g.target[Symbol.asyncDispose]();
  } catch {
    // Nothing more to do: the target logged it.
  }
}

/** Hands each finding worth reducing (new, regression) to the reduce hook, once. */
async function reduceFindings(o: CampaignOptions, findings: Finding[]): Promise<void> {
  for (const f of findings) {
    if (f.reduction.status !== 'not-reduced-yet' || (f.class !== 'new' && f.class !== 'regression')) continue;
    if (o.signal.aborted) return;
    try {
      const r = await o.reduce!({
        scenarioFile: join(o.dir, f.scenarioFile),
        signature: f.exactSignature,
        cell: f.cells[0]!,
        logs: f.logs,
        signal: o.signal,
      });
      f.reduction = r
        ? { status: 'reduced', file: r.file, steps: r.steps }
        : { status: 'failed', message: 'reduce found no smaller scenario' };
    } catch (e) {
      f.reduction = { status: 'failed', message: e instanceof Error ? e.message : String(e) };
    }
  }
}
