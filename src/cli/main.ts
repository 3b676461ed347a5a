import { Command, CommanderError, Option } from 'commander';
import { newRunId } from '../run/run-id.js';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BadInputError, MountlabError, exitCodeOf } from '../errors.js';
import { loadAll } from './load-scenarios.js';
import { planCommand } from './plan-command.js';
import { ensureImage } from '../target/vm/image.js';
import { prepareDockerEngine } from '../target/container/docker-engine.js';
import { onInterrupt } from '../run/interrupt.js';
import { runCorpus } from '../run/runner.js';
import { runReporters } from '../report/run-reporters.js';
import { progressReporter, type Verbosity } from '../report/progress.js';
import { defaultJobs, parseShard, type Shard } from '../run/schedule.js';
import { loadHistory } from '../run/history.js';
import { mergeCommand } from './merge-command.js';
import { registerFuzzCommand } from './fuzz-command.js';
import { DEFAULT_KERNEL, KERNELS, parseKernels } from '../run/kernels.js';
import { CRIU_BUILDS, DEFAULT_CRIU } from '../run/criu-versions.js';
import { planContainerCells, planVagrantCells, planVmCells, prepareCrius } from '../run/cells.js';
import { parseCriuChoices } from '../run/criu-choices.js';
import type { CellPlan } from '../run/runner.js';
import { ensureKernel } from '../target/vm/kernel-artifact.js';
import { checkUserKernel, formatKernelConfigProblem } from '../target/kernel/kernel-requirements.js';
import { compareCommand } from './compare-command.js';
import { diffRunsCommand } from './diff-runs.js';
import { IMPORT_HELP, importCommand, type ImportFlags } from '../import/import-command.js';
import type { AccelChoice } from '../target/vm/accel.js';
import { DEFAULT_CELL, REDUCE_HELP, reduceCommand, type ReduceFlags } from './reduce-command.js';
import { forListFromRun } from '../report/for-list.js';
import type { MachineType } from '../target/vm/qemu.js';
import type { Flavor } from '../plan/plan.js';
import { parseFlavors } from '../run/variants.js';

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('mountlab')
    .description('Checkpoint/restore lab for Linux mount namespaces')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('run')
    .description('build each scenario in a disposable guest, dump and restore it with CRIU, and compare')
    .argument('[paths...]', 'scenario files or directories', ['scenarios'])
    .option('--target <list>', 'where scenarios run, comma-separated: vm (default), container, vagrant', 'vm')
    .option(
      '--start-docker',
      'container target: if no docker engine is reachable, ' +
        'start dockerd for this run (system-wide) and stop it at the end',
    )
    .option(
      '--kernel <list>',
      `guest kernels, comma-separated: ${Object.keys(KERNELS).join(', ')}, or the path of your own bzImage`,
      DEFAULT_KERNEL,
    )
    .option('--modules <dir>', 'modules of your own kernel (what make modules_install INSTALL_MOD_PATH=DIR made)')
    .option(
      '--kernel-config <file>',
      "your own kernel's .config, when it is neither beside the bzImage nor embedded (CONFIG_IKCONFIG)",
    )
    .option(
      '--criu <list>',
      `criu builds, comma-separated: ${Object.entries(CRIU_BUILDS)
        .map(([n, b]) => `${n} (${b.version})`)
        .join(', ')}, or the path of a CRIU source tree (built for the guest, cached) or criu binary`,
      DEFAULT_CRIU,
    )
    .option('--out <dir>', 'directory for reports', 'reports')
    .addOption(new Option('--accel <accel>', 'vm accelerator').choices(['auto', 'kvm', 'tcg']).default('auto'))
    .addOption(new Option('--machine <type>', 'qemu machine type').choices(['q35', 'microvm']).default('microvm'))
    .option('--memory <MiB>', 'guest memory', (v) => positiveInt(v, '--memory'), 1024)
    .option('--mirror <url>', "Debian mirror for building the image (default: from this machine's apt sources)")
    .option(
      '--no-probes',
      'skip the live probes (marker mounts for propagation, writes through restored fds) after a clean comparison',
    )
    .option('-j, --jobs <n>', 'guests at once (default: one per core, as many as free memory holds)', (v) =>
      positiveInt(v, '--jobs'),
    )
    .option('--fresh-vm', 'a fresh guest for every scenario (default: one per cell, reset between scenarios)')
    .option(
      '--repeat <n>',
      'run each scenario N times; differing verdicts mark it flaky',
      (v) => positiveInt(v, '--repeat'),
      1,
    )
    .option(
      '--flavor <list>',
      "zdtm's flavours, comma-separated: ns (the tree as written) and uns (its init also in a new user " +
        'namespace, each result named NAME[uns])',
      parseFlavorFlag,
      ['ns'],
    )
    .option(
      '--shard <K/N>',
      'run only part K of N of scenario x cell (for N CI jobs; combine with mountlab merge)',
      parseShard,
    )
    .option('-q, --quiet', 'print only the final line')
    .option('-v, --verbose', 'print every phase')
    .action(async (paths: string[], o: RunFlags) => {
      code = await runCommand(paths, o);
    });

  program
    .command('validate')
    .description('check scenario files without running anything; exit 2 on any error')
    .argument('[paths...]', 'scenario files or directories', ['scenarios'])
    .action(async (paths: string[]) => {
      code = await validateCommand(paths);
    });

  program
    .command('plan')
    .description('print, step by step, what the guest would run for each scenario (nothing is booted)')
    .argument('[paths...]', 'scenario files or directories', ['scenarios'])
    .option('--wire', "print the program as the guest's helper reads it, instead of in words")
    .action(async (paths: string[], o: { wire?: boolean }) => {
      code = await planCommand(paths, o);
    });

  program
    .command('compare')
    .description(
      'compare two captures (mountinfo files or mountlab captures) as topologies: ' +
        'exit 0 equivalent, 1 different, 2 unreadable',
    )
    .argument('<before>', 'mountinfo or capture file (- for stdin)')
    .argument('<after>', 'mountinfo or capture file (- for stdin)')
    .option('--json', 'print the comparison as JSON')
    .addHelpText(
      'after',
      '\nMasters outside the capture (master:N or propagate_from:N of a group no mount in the file carries):\n' +
        "  when both files are lab captures with an @outside section (the guest's own mounts), such a group is\n" +
        '  named by the outside mounts that carry it, and a mount that moved to another one is a difference;\n' +
        '  otherwise (plain mountinfo files, e.g. from two machines, or older captures) group numbers mean\n' +
        '  nothing across the files, so only which mounts share one such group is compared.',
    )
    .action(async (before: string, after: string, o: { json?: boolean }) => {
      code = await compareCommand(before, after, { json: o.json ?? false });
    });

  program
    .command('import')
    .description(
      'turn a pasted mountinfo (or a seed-001 mount table) into a scenario that rebuilds it; ' +
        '--verify builds it in a VM and compares: exit 0 equivalent, 1 different, 2 bad input',
    )
    .argument('<file>', 'the paste, - for stdin (formats below)')
    .option('-o, --output <file>', 'write the scenario here (default: stdout); nothing is written on bad input')
    .option('--name <name>', 'scenario name (default: imported-<file name>)')
    .option('--pick <n>', 'which paste, when the text holds several', (v) => positiveInt(v, '--pick'))
    .option('--base <dir>', 'where the pasted "/" is rebuilt in the scenario root', '/pasted')
    .option('--loop-images', 'ext2/3/4 on a disk become loop-backed images of that type (default: tmpfs stand-ins)')
    .option('--verify', 'build the scenario in a VM, stop before the dump, and compare it with the paste')
    .option('--out <dir>', 'with --verify: keep the run and its capture here (default: a temporary directory)')
    .addOption(
      new Option('--accel <accel>', 'with --verify: vm accelerator').choices(['auto', 'kvm', 'tcg']).default('auto'),
    )
    .option('--kernel <name>', 'with --verify: the guest kernel', DEFAULT_KERNEL)
    .option('--criu <name>', 'with --verify: the criu build (rootfs)', DEFAULT_CRIU)
    .addHelpText('after', IMPORT_HELP)
    .action(async (file: string, o: ImportFlags) => {
      code = await importCommand(file, o, { argv: argv.slice(argv.indexOf('import') + 1) });
    });

  program
    .command('diff-runs')
    .description(
      'what changed between two runs (results.json, a run directory or a reports directory): ' +
        'exit 0 no regression, 1 a regression, 2 bad input',
    )
    .argument('<baseline>', 'the baseline run')
    .argument('<new>', 'the new run')
    .option('--markdown', 'print Markdown ready to paste into a reply to a patch')
    .option('--json', 'print the diff as JSON')
    .action(async (baseline: string, next: string, o: { markdown?: boolean; json?: boolean }) => {
      code = await diffRunsCommand(baseline, next, { markdown: o.markdown ?? false, json: o.json ?? false });
    });

  program
    .command('merge')
    .description(
      'merge the runs of several shards (--shard K/N) into one run with every report: ' +
        'exit 0, 1 or 2 as that run, 2 when inputs overlap or are unreadable; ' +
        'fuzz campaign directories merge by signature',
    )
    .argument('<dirs...>', 'run directories (holding results.json), or directories of them')
    .option('--out <dir>', 'directory for the merged run', 'reports')
    .action(async (dirs: string[], o: { out: string }) => {
      code = await mergeCommand(dirs, o);
    });

  program
    .command('reduce')
    .description(
      'shrink a scenario that fails (or xfails) to the smallest one that fails the same way; ' +
        'writes NAME.min.yaml: exit 0 reduced, 1 it does not fail, 2 bad input',
    )
    .argument('<scenario>', 'the scenario file')
    .option('--cell <id>', 'the cell it fails in', DEFAULT_CELL)
    .option('--budget <time>', 'stop after this long with the smallest so far (90s, 20m, 1h)', '20m')
    .option('--signature <line>', 'the failure to keep, as reduce prints it (default: what the first run gives)')
    .option(
      '--seed <n>',
      'orders the candidates of each round (0: in file order)',
      (v) => nonNegativeInt(v, '--seed'),
      0,
    )
    .option('-j, --jobs <n>', 'guests at once', (v) => positiveInt(v, '--jobs'), 1)
    .option('-o, --output <file>', 'where the reduced scenario goes (default: NAME.min.yaml beside it)')
    .option('--out <dir>', "reports directory for the reduced scenario's run", 'reports')
    .option('--report', 'print the --for-list message of the reduced case at the end')
    .addOption(new Option('--accel <accel>', 'vm accelerator').choices(['auto', 'kvm', 'tcg']).default('auto'))
    .addHelpText('after', REDUCE_HELP)
    .action(async (file: string, o: ReduceFlags) => {
      code = await reduceCommand(file, o);
    });

  program
    .command('report')
    .description("one failing scenario of a run as a message for a CRIU or kernel developer's mail or issue")
    .argument('<run>', 'a run directory or its results.json')
    .requiredOption('--for-list', 'plain text: kernel and criu, what happened, commands to rebuild it by hand, logs')
    .option('--scenario <name>', 'which scenario (default: the first that failed)')
    .action(async (run: string, o: { scenario?: string }) => {
      process.stdout.write(await forListFromRun(run, o.scenario ? { scenario: o.scenario } : {}));
    });

  registerFuzzCommand(program, (c) => {
    code = c;
  });

  const image = program.command('image').description('manage the cached VM images');
  image
    .command('build')
    .description('build (or rebuild with --force) the rootfs images and kernels a run would use')
    .option('--kernel <list>', 'kernels, comma-separated, or the path of a bzImage', DEFAULT_KERNEL)
    .option('--modules <dir>', 'modules of your own kernel')
    .option('--criu <list>', 'criu builds (rootfs images), comma-separated, or CRIU trees and binaries', DEFAULT_CRIU)
    .option('--mirror <url>', "Debian mirror (default: from this machine's apt sources)")
    .option('--force', 'rebuild even if cached')
    .action(async (o: { kernel: string; modules?: string; criu: string; mirror?: string; force?: boolean }) => {
      const say = (l: string) => process.stderr.write(`${l}\n`);
      const mirror = o.mirror ? { mirror: o.mirror } : {};
      const choices = parseCriuChoices(o.criu);
      for (const c of choices) {
        if (c.kind !== 'debian') continue;
        const img = await ensureImage(
          { suite: CRIU_BUILDS[c.name]!.suite, ...mirror },
          say,
          undefined,
          o.force ?? false,
        );
        process.stdout.write(`${img.dir}\n`);
      }
      const user = choices.filter((c) => c.kind !== 'debian');
      if (user.length) {
        const prepared = await prepareCrius(user, { ...mirror, signal: new AbortController().signal, log: say });
        for (const p of prepared) process.stdout.write(`${p.build!.disk}\n`);
      }
      for (const k of parseKernels(o.kernel, o.modules)) {
        const art = await ensureKernel(k, say, { ...mirror, force: o.force ?? false });
        process.stdout.write(`${art.dir}\n`);
      }
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    return report(e);
  }
  return code;
}

interface RunFlags {
  target: string;
  startDocker?: boolean;
  kernel: string;
  modules?: string;
  kernelConfig?: string;
  criu: string;
  out: string;
  accel: AccelChoice;
  machine: MachineType;
  memory: number;
  mirror?: string;
  /** commander sets it false for --no-probes. */
  probes: boolean;
  jobs?: number;
  freshVm?: boolean;
  repeat: number;
  flavor: Flavor[];
  shard?: Shard;
  quiet?: boolean;
  verbose?: boolean;
}

async function validateCommand(paths: string[]): Promise<number> {
  const loaded = await loadAll(paths);
  process.stdout.write(`${loaded.length} scenario(s) valid\n`);
  return 0;
}

async function runCommand(paths: string[], o: RunFlags): Promise<number> {
  // Bad input is rejected before anything boots.
  const scenarios = await loadAll(paths);
  const targets = parseTargets(o.target);
  // The container runs on the host's kernel; vm and vagrant boot these.
  const kernels = targets.includes('vm') || targets.includes('vagrant') ? parseKernels(o.kernel, o.modules) : [];
  const criuChoices = parseCriuChoices(o.criu);
  if (criuChoices.some((c) => c.kind !== 'debian') && targets.some((t) => t !== 'vm')) {
    const message = 'a CRIU tree or binary runs on the vm target only';
    throw new BadInputError([{ file: '--criu', line: 1, col: 1, path: '', message }], 'use --target vm');
  }
  const crius = criuChoices.flatMap((c) => (c.kind === 'debian' ? [c.name] : []));
  // A user's kernel is refused before anything is written or booted, with the missing options named.
  const kernelWarnings: string[] = [];
  for (const k of kernels) {
    if (k.kind !== 'file') continue;
    const checked = await checkUserKernel(k.bzImage, {
      ...(k.modules ? { modulesDir: k.modules } : {}),
      ...(o.kernelConfig ? { configFile: o.kernelConfig } : {}),
      machine: o.machine,
    });
    for (const w of checked.warnings)
      kernelWarnings.push(`kernel ${k.bzImage}: recommended, missing: ${formatKernelConfigProblem(w)}`);
  }
  const verbosity: Verbosity = o.quiet ? 'quiet' : o.verbose ? 'verbose' : 'normal';
  using interrupt = onInterrupt((m) => process.stderr.write(`${m}\n`));
  // A user's CRIU tree is built (or found in the cache) before the run
  // directory exists: a tree that does not compile leaves no empty run.
  const vmCrius = targets.includes('vm')
    ? await prepareCrius(criuChoices, {
        ...(o.mirror ? { mirror: o.mirror } : {}),
        signal: interrupt.signal,
        log: verbosity === 'quiet' ? () => {} : (m) => process.stderr.write(`${m}\n`),
      })
    : [];
  const runId = newRunId();
  const runDir = resolve(o.out, runId);
  await mkdir(runDir, { recursive: true });
  const progress = progressReporter(verbosity);
  const reporter = runReporters(runDir, progress);
  // The container target needs a docker engine: none reachable is a plain error; only --start-docker starts one
  // (and stops it at the end).
  await using _engine = targets.includes('container')
    ? await prepareDockerEngine({
        start: o.startDocker ?? false,
        logFile: join(runDir, 'dockerd.log'),
        say: (m) => process.stderr.write(`${m}\n`),
        signal: interrupt.signal,
      })
    : undefined;
  const mirror = o.mirror ? { mirror: o.mirror } : {};
  for (const w of kernelWarnings) reporter.onLog(w);
  const cells: CellPlan[] = [];
  if (targets.includes('vm')) {
    cells.push(
      ...(await planVmCells({
        kernels,
        crius: vmCrius,
        accel: o.accel,
        machine: o.machine,
        memoryMiB: o.memory,
        ...mirror,
        runDir,
        signal: interrupt.signal,
        log: (m) => reporter.onLog(m),
        fixCommits: scenarios.flatMap((l) => {
          const e = l.scenario.expect;
          const fix = typeof e === 'object' && 'known-bug' in e ? e['known-bug']['fixed-by'] : undefined;
          return fix ? [fix] : [];
        }),
      })),
    );
  }
  const host = { crius, ...mirror, runId, runDir, signal: interrupt.signal, log: (m: string) => reporter.onLog(m) };
  if (targets.includes('container')) cells.push(...(await planContainerCells(host)));
  if (targets.includes('vagrant'))
    cells.push(...(await planVagrantCells({ ...host, kernel: kernels[0]!, memoryMiB: o.memory })));
  const budget = o.jobs ? { jobs: o.jobs, reason: '-j' } : defaultJobs(o.memory);
  if (budget.jobs > 1) reporter.onLog(`running ${budget.jobs} guests at once (${budget.reason})`);
  const run = await runCorpus(scenarios, cells, {
    runId,
    runDir,
    reporter,
    signal: interrupt.signal,
    probes: o.probes,
    jobs: budget.jobs,
    repeat: o.repeat,
    flavors: o.flavor,
    history: await loadHistory(resolve(o.out)),
    ...(o.freshVm ? { freshTarget: true } : {}),
    ...(o.shard ? { shard: o.shard } : {}),
  });
  if (interrupt.signal.aborted) return 130;
  return run.exitCode;
}

const TARGETS = ['vm', 'container', 'vagrant'] as const;

function parseTargets(list: string): string[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of items) {
    if (!(TARGETS as readonly string[]).includes(t))
      throw new BadInputError(
        [{ file: '--target', line: 1, col: 1, path: '', message: `unknown target '${t}'` }],
        `targets: ${TARGETS.join(', ')}`,
      );
  }
  if (items.length === 0)
    throw new BadInputError([{ file: '--target', line: 1, col: 1, path: '', message: 'no target given' }]);
  return [...new Set(items)];
}

function parseFlavorFlag(v: string): Flavor[] {
  try {
    return parseFlavors(v);
  } catch (e) {
    const message = (e as Error).message;
    throw new BadInputError([{ file: '--flavor', line: 1, col: 1, path: '', message }], 'e.g. --flavor ns,uns');
  }
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 1 << 20) {
    throw new BadInputError([
      { file: flag, line: 1, col: 1, path: '', message: `expected a positive whole number, got '${v}'` },
    ]);
  }
  return n;
}

function nonNegativeInt(v: string, flag: string): number {
  return v === '0' ? 0 : positiveInt(v, flag);
}

function report(e: unknown): number {
  if (e instanceof MountlabError) {
    process.stderr.write(`mountlab: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
    const tail = (e as { consoleTail?: string }).consoleTail;
    if (tail) process.stderr.write(`--- guest console (last lines) ---\n${tail}\n`);
  } else {
    process.stderr.write(`mountlab: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
  }
  return exitCodeOf(e);
}
