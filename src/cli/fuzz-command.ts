/**
 * `mountlab fuzz`: flags parsed and checked here, cells planned by run/,
 * the campaign run by fuzz/.
 */
import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { BadInputError, MountlabError } from '../errors.js';
import { parseDuration } from './duration.js';
import { checkResume, newState, readCampaign } from '../fuzz/campaign-state.js';
import { clock, runCampaign, tallyText } from '../fuzz/campaign.js';
import { knownBugsOf } from '../fuzz/findings.js';
import { GENERATOR_VERSION } from '../fuzz/generator.js';
import { reduceHook } from '../fuzz/reduce-hook.js';
import { assetPath } from '../paths.js';
import { planVmCells, prepareCrius, vmCellId } from '../run/cells.js';
import { parseCriuChoices } from '../run/criu-choices.js';
import { DEFAULT_CRIU } from '../run/criu-versions.js';
import { onInterrupt } from '../run/interrupt.js';
import { DEFAULT_KERNEL, parseKernels } from '../run/kernels.js';
import type { CellPlan } from '../run/runner.js';
import { parseShard, type Shard } from '../run/schedule.js';
import { discoverScenarioFiles, loadScenarioFile, type LoadedScenario } from '../scenario/load.js';
import type { AccelChoice } from '../target/vm/accel.js';
import type { MachineType } from '../target/vm/qemu.js';

export interface FuzzFlags {
  budget: number;
  seed?: number;
  cell: CellSpec[];
  kernel: string;
  criu: string;
  out?: string;
  resume?: string;
  shard?: Shard;
  jobs: number;
  known?: string[];
  maxScenarios?: number;
  /** ms; 0: findings are not reduced. */
  reduceBudget: number;
  accel: AccelChoice;
  machine: MachineType;
  memory: number;
  mirror?: string;
  probes: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

export interface CellSpec {
  kernel?: string;
  criu?: string;
}

function bad(flag: string, message: string, hint?: string): BadInputError {
  return new BadInputError([{ file: flag, line: 1, col: 1, path: '', message }], hint);
}

export function parseSeed(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n > 0xffffffff)
    throw bad('--seed', `expected a whole number from 0 to 4294967295, got '${v}'`);
  return n;
}

/** `--cell kernel=debian-6.1,criu=~/src/criu`: either key may be left out (then --kernel's or --criu's). */
export function parseCell(v: string, previous: CellSpec[] = []): CellSpec[] {
  const spec: CellSpec = {};
  for (const part of v.split(',').map((p) => p.trim())) {
    const m = /^(kernel|criu)=(.+)$/.exec(part);
    if (!m) throw bad('--cell', `expected kernel=NAME and/or criu=NAME, comma-separated; got '${part}'`);
    const key = m[1] as 'kernel' | 'criu';
    if (spec[key] !== undefined) throw bad('--cell', `${key} is given twice in '${v}'`);
    spec[key] = m[2]!;
  }
  return [...previous, spec];
}

export function registerFuzzCommand(program: Command, done: (code: number) => void): void {
  program
    .command('fuzz')
    .description(
      'generate random valid scenarios and run each through dump and restore until the budget is spent; ' +
        'dedupe failures by signature: exit 0 nothing new, 1 a new signature or a regression, 2 an error, ' +
        '130 interrupted',
    )
    .addOption(
      new Option('--budget <duration>', 'how long this session runs (30m, 90s, 2h, 1h30m)')
        .argParser((v: string) => parseDuration('--budget', v))
        .default(30 * 60_000, '30m'),
    )
    .option('--seed <n>', 'campaign seed (default: random, printed); scenario i is a function of seed and i', parseSeed)
    .addOption(
      new Option(
        '--cell <spec>',
        'a cell, kernel=NAME and/or criu=NAME (as --kernel and --criu take them); twice for differential mode: ' +
          'the first is the baseline, and a scenario that passes on one and fails on the other is a finding',
      )
        .argParser((v: string, prev: CellSpec[]) => parseCell(v, prev))
        .default([], 'one cell: --kernel and --criu'),
    )
    .option('--kernel <name>', 'guest kernel when --cell does not say', DEFAULT_KERNEL)
    .option('--criu <name>', 'criu build when --cell does not say', DEFAULT_CRIU)
    .option('--out <dir>', 'campaign directory (default: fuzz/seed-N, with -shard-K-of-N)')
    .option('--resume <dir>', 'continue the campaign in DIR (same generator, seed, shard and cells)')
    .option(
      '--shard <K/N>',
      'draw only part K of N of the seed (for N machines; combine with mountlab merge)',
      parseShard,
    )
    .option('-j, --jobs <n>', 'guests per cell at once (this lab shares its cores)', positiveInt('--jobs'), 1)
    .option('--known <paths...>', "corpus whose known-bug patterns label findings (default: the lab's scenarios/)")
    .option('--max-scenarios <n>', 'stop after N scenarios (this session)', positiveInt('--max-scenarios'))
    .addOption(
      new Option(
        '--reduce-budget <duration>',
        'after the campaign, reduce each new or regressing finding for up to this long (mountlab reduce); 0: none',
      )
        .argParser((v: string) => parseDuration('--reduce-budget', v, { zero: true }))
        .default(3 * 60_000, '3m'),
    )
    .addOption(new Option('--accel <accel>', 'vm accelerator').choices(['auto', 'kvm', 'tcg']).default('auto'))
    .addOption(new Option('--machine <type>', 'qemu machine type').choices(['q35', 'microvm']).default('microvm'))
    .option('--memory <MiB>', 'guest memory', positiveInt('--memory'), 1024)
    .option('--mirror <url>', 'Debian mirror for building the image')
    .option('--no-probes', 'skip the live probes after a clean comparison (faster, finds less)')
    .option('-v, --verbose', "print every scenario's verdict")
    .option('-q, --quiet', 'print only the final lines')
    .addHelpText(
      'after',
      [
        '',
        'Findings land in the campaign directory: findings.md and findings.html (one row per signature: class,',
        'count, first seen, scenario, known or not, reduced or not), findings.json, and findings/ID/ with the',
        "signature's first scenario (valid scenario YAML; the header says its seed and generator version, so",
        '`mountlab run findings/ID/scenario.yaml` reruns it) and its logs. A signature a corpus known-bug',
        "matches is labelled known; a scenario that did not build is the generator's fault, not CRIU's,",
        'and is labelled so. Progress (every 30 s) shows executions per minute, signatures and time left.',
        '',
        'Examples:',
        '  mountlab fuzz --budget 5m -j 1 --out /tmp/fz1',
        '  mountlab fuzz --cell criu=trixie --cell criu=~/src/criu --budget 2h      # differential',
        '  mountlab fuzz --seed 7 --shard 1/2 --out a & mountlab fuzz --seed 7 --shard 2/2 --out b; mountlab merge a b',
      ].join('\n'),
    )
    .action(async (o: FuzzFlags) => {
      done(await fuzzCommand(o));
    });
}

function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0 || n > 1 << 20) throw bad(flag, `expected a positive whole number, got '${v}'`);
    return n;
  };
}

async function loadKnownCorpus(paths: string[], say: (m: string) => void): Promise<LoadedScenario[]> {
  const out: LoadedScenario[] = [];
  for (const f of await discoverScenarioFiles(paths)) {
    try {
      out.push(await loadScenarioFile(f));
    } catch (e) {
      // One bad corpus file must not stop a campaign; its known bug just goes unlabelled.
      say(`fuzz: --known: skipped ${String(f)}: ${e instanceof MountlabError ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  return out;
}

export async function fuzzCommand(o: FuzzFlags): Promise<number> {
  const say = (m: string) => process.stderr.write(`${m}\n`);
  const log = o.quiet ? () => {} : say;
  const specs = o.cell.length ? o.cell : [{}];
  if (specs.length > 2) throw bad('--cell', `differential mode compares two cells; got ${specs.length}`);
  // Each cell is one kernel and one criu: lists belong to `run`.
  const planned = specs.map((c) => {
    const kernel = c.kernel ?? o.kernel;
    const criu = c.criu ?? o.criu;
    if (kernel.includes(',') || criu.includes(','))
      throw bad('--cell', `a cell is one kernel and one criu, got '${kernel}' and '${criu}'`, 'give --cell twice');
    return { kernels: parseKernels(kernel), crius: parseCriuChoices(criu) };
  });
  const resumed = o.resume ? readCampaign(o.resume) : undefined;
  // What can be refused without the cells' ids is refused before any image is looked at.
  const flags = { generator: GENERATOR_VERSION, ...(o.seed !== undefined ? { seed: o.seed } : {}) };
  if (resumed) checkResume(o.resume!, resumed.state, { ...flags, ...(o.shard ? { shard: o.shard } : {}) });
  const knownPaths = o.known?.length ? o.known : [assetPath('scenarios')];
  const knownBugs = knownBugsOf(await loadKnownCorpus(knownPaths, log));
  using interrupt = onInterrupt(say);
  const prepared = [];
  for (const p of planned)
    prepared.push({
      kernels: p.kernels,
      crius: await prepareCrius(p.crius, { signal: interrupt.signal, log, ...mirror(o) }),
    });
  const ids = prepared.map((p) => vmCellId(p.kernels[0]!.name, p.crius[0]!.label));
  if (ids.length === 2 && ids[0] === ids[1])
    throw bad('--cell', `both cells are ${ids[0]}`, 'differential mode needs two kernels or two criu builds');
  const seed = resumed?.state.seed ?? o.seed ?? randomInt(0, 0xffffffff);
  const shard = resumed?.state.shard ?? o.shard;
  if (resumed) checkResume(o.resume!, resumed.state, { ...flags, ...(o.shard ? { shard: o.shard } : {}), cells: ids });
  const dir = resolve(
    o.resume ?? o.out ?? `fuzz/seed-${seed}${shard ? `-shard-${shard.index}-of-${shard.count}` : ''}`,
  );
  if (!resumed && o.out !== undefined) {
    const there = await readCampaignOrUndefined(dir);
    if (there) throw bad('--out', `${dir} holds a campaign already`, `continue it with --resume ${o.out}`);
  }
  await mkdir(dir, { recursive: true });
  const work = resolve(dir, 'work');
  const cells: CellPlan[] = [];
  for (const p of prepared)
    cells.push(
      ...(await planVmCells({
        kernels: p.kernels,
        crius: p.crius,
        accel: o.accel,
        machine: o.machine,
        memoryMiB: o.memory,
        ...mirror(o),
        runDir: work,
        signal: interrupt.signal,
        log: o.verbose ? log : () => {},
      })),
    );
  const state =
    resumed?.state ?? newState({ seed, generator: GENERATOR_VERSION, ...(shard ? { shard } : {}), cells: ids });
  log(
    `fuzz: ${resumed ? 'resuming' : 'starting'} campaign seed ${seed}` +
      `${shard ? ` shard ${shard.index}/${shard.count}` : ''} ` +
      `(generator ${GENERATOR_VERSION}) on ${ids.join(' vs ')} for ${clock(o.budget)}, ${o.jobs} guest(s) per cell; ` +
      `${knownBugs.length} known bug(s) from the corpus; in ${dir}`,
  );
  const summary = await runCampaign({
    dir,
    state,
    findings: resumed?.findings ?? [],
    cells,
    budgetMs: o.budget,
    jobs: o.jobs,
    signal: interrupt.signal,
    probes: o.probes,
    knownBugs,
    log,
    ...(o.verbose ? { verbose: true, progressEveryMs: 0 } : {}),
    ...(o.maxScenarios ? { maxScenarios: o.maxScenarios } : {}),
    ...(o.reduceBudget > 0 ? { reduce: reduceHook(dir, cells, { jobs: o.jobs, budgetMs: o.reduceBudget, log }) } : {}),
  });
  const fresh = summary.findings.filter((f) => f.class === 'new' || f.class === 'regression');
  say(
    `fuzz: ${summary.sessionScenarios} scenario(s), ${summary.sessionExecutions} execution(s) ` +
      `in ${clock(summary.sessionMs)}: ` +
      `${summary.perMinute.toFixed(1)} executions/min; ${tallyText(summary.findings)}; stopped: ${summary.stopped}`,
  );
  say(`fuzz: report: ${resolve(dir, 'findings.md')}; resume with --resume ${dir}`);
  if (interrupt.signal.aborted) return 130;
  return fresh.length ? 1 : 0;
}

async function readCampaignOrUndefined(dir: string): Promise<unknown> {
  try {
    return readCampaign(dir);
  } catch {
    return undefined;
  }
}

function mirror(o: { mirror?: string }): { mirror?: string } {
  return o.mirror ? { mirror: o.mirror } : {};
}
