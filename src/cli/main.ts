import { Command, CommanderError, Option } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BadInputError, MountlabError, exitCodeOf } from '../errors.js';
import { discoverScenarioFiles, loadScenarioFile, type LoadedScenario } from '../scenario/load.js';
import { ensureImage } from '../target/vm/image.js';
import { VmTarget } from '../target/vm/vm-target.js';
import { onInterrupt } from '../run/interrupt.js';
import { runCorpus } from '../run/runner.js';
import { Reporters } from '../report/reporter.js';
import { JsonReporter } from '../report/json.js';
import { JunitReporter } from '../report/junit.js';
import { MarkdownReporter } from '../report/markdown.js';
import { ProgressReporter, type Verbosity } from '../report/progress.js';
import { DEFAULT_KERNEL, KERNELS, suiteForKernel } from './kernels.js';
import { compareCommand } from './compare-command.js';
import { diffRunsCommand } from './diff-runs.js';
import type { AccelChoice } from '../target/vm/accel.js';
import type { MachineType } from '../target/vm/qemu.js';

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
    .addOption(new Option('--target <target>', 'where scenarios run').choices(['vm']).default('vm'))
    .option('--kernel <name>', `guest kernel: ${Object.keys(KERNELS).join(', ')}`, DEFAULT_KERNEL)
    .option('--out <dir>', 'directory for reports', 'reports')
    .addOption(new Option('--accel <accel>', 'vm accelerator').choices(['auto', 'kvm', 'tcg']).default('auto'))
    .addOption(new Option('--machine <type>', 'qemu machine type').choices(['q35', 'microvm']).default('microvm'))
    .option('--memory <MiB>', 'guest memory', (v) => positiveInt(v, '--memory'), 1024)
    .option('--mirror <url>', 'Debian mirror for building the image (default: from this machine\'s apt sources)')
    .option('--no-probes', 'skip the live probes (marker mounts for propagation, writes through restored fds) after a clean comparison')
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
    .command('compare')
    .description('compare two captures (mountinfo files or mountlab captures) as topologies: exit 0 equivalent, 1 different, 2 unreadable')
    .argument('<before>', 'mountinfo or capture file (- for stdin)')
    .argument('<after>', 'mountinfo or capture file (- for stdin)')
    .option('--json', 'print the comparison as JSON')
    .action(async (before: string, after: string, o: { json?: boolean }) => {
      code = await compareCommand(before, after, { json: o.json ?? false });
    });

  program
    .command('diff-runs')
    .description('what changed between two runs (results.json, a run directory or a reports directory): exit 0 no regression, 1 a regression, 2 bad input')
    .argument('<baseline>', 'the baseline run')
    .argument('<new>', 'the new run')
    .option('--markdown', 'print Markdown ready to paste into a reply to a patch')
    .option('--json', 'print the diff as JSON')
    .action(async (baseline: string, next: string, o: { markdown?: boolean; json?: boolean }) => {
      code = await diffRunsCommand(baseline, next, { markdown: o.markdown ?? false, json: o.json ?? false });
    });

  const image = program.command('image').description('manage the cached VM images');
  image
    .command('build')
    .description('build (or rebuild with --force) the VM image for a kernel')
    .option('--kernel <name>', 'which kernel\'s image', DEFAULT_KERNEL)
    .option('--mirror <url>', 'Debian mirror (default: from this machine\'s apt sources)')
    .option('--force', 'rebuild even if cached')
    .action(async (o: { kernel: string; mirror?: string; force?: boolean }) => {
      const suite = suiteForKernel(o.kernel);
      const img = await ensureImage({ suite, ...(o.mirror ? { mirror: o.mirror } : {}) }, (l) => process.stderr.write(`${l}\n`), undefined, o.force ?? false);
      process.stdout.write(`${img.dir}\n`);
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
  kernel: string;
  out: string;
  accel: AccelChoice;
  machine: MachineType;
  memory: number;
  mirror?: string;
  /** commander sets it false for --no-probes. */
  probes: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

async function loadAll(paths: string[]): Promise<LoadedScenario[]> {
  const files = await discoverScenarioFiles(paths);
  if (files.length === 0) throw new BadInputError([{ file: paths.join(' '), line: 1, col: 1, path: '', message: 'no scenario files (*.yaml) found' }]);
  const loaded: LoadedScenario[] = [];
  const problems: BadInputError[] = [];
  for (const f of files) {
    try {
      loaded.push(await loadScenarioFile(f));
    } catch (e) {
      if (e instanceof BadInputError) problems.push(e);
      else throw e;
    }
  }
  const names = new Map<string, string>();
  for (const l of loaded) {
    const prev = names.get(l.scenario.name);
    if (prev) problems.push(new BadInputError([{ file: l.file, line: 1, col: 1, path: '/name', message: `scenario name '${l.scenario.name}' is also used by ${prev}` }]));
    names.set(l.scenario.name, l.file);
  }
  if (problems.length) throw new BadInputError(problems.flatMap((p) => p.problems));
  return loaded;
}

async function validateCommand(paths: string[]): Promise<number> {
  const loaded = await loadAll(paths);
  process.stdout.write(`${loaded.length} scenario(s) valid\n`);
  return 0;
}

async function runCommand(paths: string[], o: RunFlags): Promise<number> {
  // Bad input is rejected before anything boots.
  const scenarios = await loadAll(paths);
  const suite = suiteForKernel(o.kernel);
  const verbosity: Verbosity = o.quiet ? 'quiet' : o.verbose ? 'verbose' : 'normal';
  using interrupt = onInterrupt((m) => process.stderr.write(m + '\n'));
  const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(2).toString('hex')}`;
  const runDir = resolve(o.out, runId);
  await mkdir(runDir, { recursive: true });
  const progress = new ProgressReporter(verbosity);
  const reporter = new Reporters([progress, new JsonReporter(runDir), new JunitReporter(runDir), new MarkdownReporter(runDir)]);
  const img = await ensureImage({ suite, ...(o.mirror ? { mirror: o.mirror } : {}) }, (l) => reporter.onLog(`image: ${l}`), interrupt.signal);
  const cellId = `vm-${o.kernel}`;
  const target = new VmTarget({
    image: img,
    accel: o.accel,
    machine: o.machine,
    memoryMiB: o.memory,
    runDir: join(runDir, cellId),
    log: (m) => reporter.onLog(`${cellId}: ${m}`),
  });
  await mkdir(join(runDir, cellId), { recursive: true });
  const run = await runCorpus(scenarios, [{ id: cellId, target }], { runId, runDir, reporter, signal: interrupt.signal, probes: o.probes });
  if (interrupt.signal.aborted) return 130;
  return run.exitCode;
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 1 << 20) {
    throw new BadInputError([{ file: flag, line: 1, col: 1, path: '', message: `expected a positive whole number, got '${v}'` }]);
  }
  return n;
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
