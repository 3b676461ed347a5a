/**
 * `mountlab import FILE|-`: a pasted mount table to a runnable scenario.
 *
 * The scenario goes to stdout, or to `-o FILE` (written only once the whole
 * import succeeded: bad input writes nothing). The summary (what was read,
 * each stand-in, what is not rebuilt) goes to stderr. With --verify the
 * scenario is built in a VM, captured before any dump, and compared with
 * the paste: exit 0 equivalent, 1 different (each difference a sentence,
 * on stdout with -o, else on stderr after the scenario), 2 bad input or a
 * run that could not build it.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { BadInputError } from '../errors.js';
import { assetPath } from '../paths.js';
import { plural } from '../compare/text.js';
import { parseScenario } from '../scenario/load.js';
import { checkProgramSize } from '../plan/program-size.js';
import type { Scenario } from '../scenario/scenario.generated.js';
import { parsePaste } from './parse-paste.js';
import { planImport, type ImportPlan } from './plan-import.js';
import { emitScenario } from './emit-scenario.js';
import type { ImportCheck } from './verify.js';

export interface ImportFlags {
  output?: string;
  name?: string;
  pick?: number;
  base?: string;
  loopImages?: boolean;
  verify?: boolean;
  /** Reports of the verify run; a temporary directory (removed) when absent. */
  out?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  kernel?: string;
  criu?: string;
}

export interface ImportIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream;
  /** The command line quoted in the scenario's header. */
  argv?: string[];
  signal?: AbortSignal;
  /** Runs the verification (tests pass a fake); default: a VM (verify-vm.ts). */
  verifyRun?: (
    plan: ImportPlan,
    scenarioFile: string,
    flags: ImportFlags,
    say: (m: string) => void,
  ) => Promise<ImportCheck>;
}

export interface ImportResult {
  plan: ImportPlan;
  yaml: string;
  /** The YAML read back by the scenario loader: what `mountlab run` will see. */
  scenario: Scenario;
  summary: string[];
}

/** The loader's refusals that are about size (compile.ts, load.ts, the schema's max* keywords). */
const SIZE_LIMIT = /^(too large: |the scenario compiles to |the outside steps compile to )/;

/** Reads, plans and renders; throws BadInputError on bad input. Nothing is written. */
export function importText(text: string, file: string, flags: ImportFlags, argv: string[] = []): ImportResult {
  const paste = parsePaste(text, file, flags.pick !== undefined ? { pick: flags.pick } : {});
  const plan = planImport(paste, {
    ...(flags.base ? { base: flags.base } : {}),
    ...(flags.loopImages ? { loopImages: true } : {}),
  });
  const name = flags.name ?? scenarioName(file);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name) || name.length > 80) {
    throw new BadInputError([
      {
        file: '--name',
        line: 1,
        col: 1,
        path: '',
        message:
          `${JSON.stringify(name)} is not a scenario name; ` +
          "use lowercase letters, digits, '.', '_' and '-' (at most 80)",
      },
    ]);
  }
  const c = plan.counts;
  const form = paste.kind === 'table' ? 'a mount table' : 'mountinfo';
  const externalGroups = c.external ? `, ${plural(c.external, 'external master group')}` : '';
  const pastedNames = plan.tasks.map((t) => `${t.name} (pasted ${JSON.stringify(t.pasted)})`);
  const namespaces = plan.tasks.length > 1 ? `; namespaces: ${pastedNames.join(', ')}` : '';
  const summary = [
    `read ${file} lines ${paste.lines[0]}-${paste.lines[1]} (${form}): ` +
      `${plural(c.mounts, 'mount')} in ${plural(c.namespaces, 'mount namespace')}, ` +
      `${plural(c.superblocks, 'superblock')}, ${plural(c.peerGroups, 'peer group')}, ` +
      `${plural(c.slaves, 'slave')}${externalGroups}`,
    `the pasted "/" is rebuilt at ${plan.base}${namespaces}`,
    ...plan.notes,
    ...plan.substitutions.map((s) => `stand-in: ${s}`),
  ];
  const outsideGroups = c.external ? ` (${plural(c.external, 'master group')} outside the tree)` : '';
  const standIns = c.standIns
    ? `${plural(c.standIns, 'filesystem')} replaced by stand-ins (see the comments).`
    : 'no stand-ins.';
  const description =
    `Imported from ${basename(file)} (lines ${paste.lines[0]}-${paste.lines[1]}) by mountlab import: ` +
    `${plural(c.mounts, 'mount')}, ${plural(c.peerGroups, 'peer group')}, ${plural(c.slaves, 'slave')}` +
    `${outsideGroups}, rebuilt under ${plan.base} with every mount private first ` +
    `and sharing assigned last by MOVE_MOUNT_SET_GROUP; ${standIns}`;
  const command = ['mountlab', 'import', ...argv].map(shellWord).join(' ');
  const schemaPath = flags.output
    ? relative(dirname(resolve(flags.output)), assetPath('src', 'scenario', 'scenario.schema.json'))
    : undefined;
  const yaml = emitScenario(plan, {
    name,
    description,
    source: file === '<stdin>' ? 'pasted on stdin' : file,
    command,
    header: [
      'Rebuilds the pasted topology up to renumbering; ' +
        'the comments say why each step is there and what stands in for what.',
      // How the paste was read (a prefix stripped, remarks ignored, stand-in parents...), as on stderr.
      ...plan.notes.map((n) => `note: ${n}`),
    ],
    ...(schemaPath ? { schemaPath } : {}),
  });
  // The emitted file must be a valid scenario; if not, that is our bug, not the user's input.
  let scenario: Scenario;
  try {
    const loaded = parseScenario(yaml, flags.output ?? `${name}.yaml`);
    checkProgramSize(loaded);
    scenario = loaded.scenario;
  } catch (e) {
    // A paste can be too big for the language's limits in ways only the whole scenario shows (its
    // compiled script's size, a list's length): that is the paste's size, not a bug here.
    if (e instanceof BadInputError && e.problems.every((p) => SIZE_LIMIT.test(p.message))) {
      const why = [...new Set(e.problems.map((p) => p.message))].join('; ');
      throw new BadInputError([
        {
          file,
          line: paste.lines[0],
          col: 1,
          path: '',
          message:
            `the paste (lines ${paste.lines[0]}-${paste.lines[1]}) makes a scenario larger than the lab runs: ` +
            `${why}; import a smaller part of the table`,
        },
      ]);
    }
    throw new Error(
      `mountlab import produced an invalid scenario (a bug):\n${e instanceof Error ? e.message : String(e)}\n${yaml}`,
    );
  }
  return { plan, yaml, scenario, summary };
}

export async function importCommand(input: string, flags: ImportFlags, io: ImportIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const file = input === '-' ? '<stdin>' : input;
  let text: string;
  try {
    text = input === '-' ? await readAll(io.stdin ?? process.stdin) : await readFile(input, 'latin1');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new BadInputError([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message: `cannot read: ${why}`,
      },
    ]);
  }
  const r = importText(text, file, flags, io.argv ?? [input]);
  for (const l of r.summary) await write(stderr, `import: ${l}\n`);
  let scenarioFile = flags.output;
  if (flags.output) {
    await mkdir(dirname(resolve(flags.output)), { recursive: true });
    const tmp = `${flags.output}.tmp-${process.pid}`;
    await writeFile(tmp, r.yaml);
    await rename(tmp, flags.output);
    await write(stderr, `import: wrote ${flags.output}\n`);
  } else {
    await write(stdout, r.yaml);
  }
  if (!flags.verify) return 0;

  let scratch: string | undefined;
  if (!scenarioFile) {
    scratch = mkdtempSync(join(tmpdir(), 'mountlab-import-'));
    scenarioFile = join(scratch, `${flags.name ?? scenarioName(file)}.yaml`);
    await writeFile(scenarioFile, r.yaml);
  }
  // The report goes where the scenario did not: stdout is the scenario's when there is no -o.
  const report = flags.output ? stdout : stderr;
  try {
    const run = io.verifyRun ?? (await import('./verify-vm.js')).verifyInVm;
    const check = await run(r.plan, scenarioFile, flags, (m) => void stderr.write(`verify: ${m}\n`));
    for (const d of check.differences) await write(report, `${d.sentence}\n`);
    for (const l of check.leftovers) await write(report, `left over outside ${r.plan.base}: ${l}\n`);
    for (const d of check.explained) await write(report, `note: stand-in, not a difference: ${d.sentence}\n`);
    for (const f of check.comparison.filtered) {
      const onType = f.fsType ? ` on ${f.fsType}` : '';
      await write(
        report,
        `note: super option ${f.option}${onType} not compared on ${f.mounts.join(', ')}: ${f.reason}\n`,
      );
    }
    const c = r.plan.counts;
    await write(
      report,
      check.equivalent
        ? 'equivalent: the built topology matches the paste ' +
            `(${plural(c.mounts, 'mount')}, ${plural(c.peerGroups, 'peer group')}, ${plural(c.slaves, 'slave')})\n`
        : `${plural(check.differences.length + check.leftovers.length, 'difference')}\n`,
    );
    return check.equivalent ? 0 : 1;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** From the file name: lowercase, safe characters, 'imported-' in front. */
export function scenarioName(file: string): string {
  const stem = file === '<stdin>' ? 'stdin' : basename(file).replace(/\.[^.]*$/, '');
  const clean =
    stem
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 60) || 'paste';
  return `imported-${clean}`;
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function readAll(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of s) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  return Buffer.concat(chunks).toString('latin1');
}

function write(s: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((res, rej) => s.write(text, (e?: Error | null) => (e ? rej(e) : res())));
}

/** Shown after the options by `mountlab import --help`. */
export const IMPORT_HELP = `
Input (mail quote markers ">", ">>" and leading blanks are stripped; prose
lines are skipped; a mountinfo line wrapped by a mail client is joined
again: a line that starts with a mount id pair takes the following lines
until its three fields after " - " are there):
  raw mountinfo        36 35 98:0 / /mnt rw,relatime shared:1 - ext4 /dev/sda1 rw
  several tasks        each table under a header line
                         == pid 1234 (name) ==     (or == pid 1234 == or == name ==)
                       tables that share a mount id are one mount namespace;
                       the lab's own captures (@task KEY pid=N mntns=X) work too
  a mount table        mntid parent mountpoint (shared_id, master_id)
  (seed 001's form)    101 0 /tmp (0,4)         0 means none; one tmpfs for all
Read as people paste (each said in the scenario's notes and on stderr):
  a prefix on every line (timestamps, [ 3.14], [+1136s] # , log levels,
  list markers, a shell prompt) is found from the lines and stripped;
  remarks after the super options (<===, # ..., <-- this one) are ignored;
  cut marks (..., [...], …, [snip]) are cuts inside one table; fragments
  of one table whose ids and parents fit are joined; a missing parent that
  a mount needs becomes a tmpfs stand-in; filesystems the guest may lack
  (configfs, selinuxfs, bpf, tracefs, ...) become tmpfs stand-ins.
A text holding several pastes needs --pick N (they are listed if you forget).

The scenario rebuilds the pasted "/" at --base (/pasted) inside the lab's
scenario root, everything else below it: /proc at /pasted/proc and so on.
Filesystems the guest cannot make (a disk, fuse, overlay, cgroup...) become
stand-ins that keep superblock sharing and roots, said in comments and here.
Peer groups and masters are assigned last with MOVE_MOUNT_SET_GROUP; masters
outside the paste become shared mounts made by outside steps.

--verify prints the comparison on stdout with -o, else on stderr (stdout has
the scenario). Exit: 0 written (with --verify: the built topology is
equivalent), 1 --verify found differences, 2 bad input (FILE:LINE:COL: what;
what to do; nothing written) or the VM could not build the scenario.
`;
