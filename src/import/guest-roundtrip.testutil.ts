/**
 * The VM round trip of `mountlab import`, for test/e2e/import.e2e.test.ts
 * and bench/import-roundtrip.ts: random topologies made by the guest's own
 * kernel (mounts, binds, stacking, propagation with its copies, a second
 * namespace), captured, imported, rebuilt and captured again, all in ONE
 * guest, since a boot costs more than a dozen scenarios under TCG.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCapture } from '../capture/capture-file.js';
import { pick, chance, type Rand } from '../compare/gen.testutil.js';
import { planVmCells, prepareCrius } from '../run/cells.js';
import { DEFAULT_KERNEL, parseKernels } from '../run/kernels.js';
import { DEFAULT_CRIU } from '../run/criu-versions.js';
import { parseCriuChoices } from '../run/criu-choices.js';
import { executeScenario } from '../run/execute-scenario.js';
import { loadScenarioFile } from '../scenario/load.js';
import { Guest } from '../run/guest.js';
import { scalar } from './emit-scenario.js';
import { importText } from './import-command.js';
import { checkImport, type ImportCheck } from './verify.js';
import { TooManySteps } from './plan-import.js';

const NAMES = ['a', 'b', 'c', 'sub', 'd e', 'caf\u00e9', 'x'];

/**
 * A scenario that makes a random topology under /r with operations that
 * cannot fail whatever propagation did before them: every path is made with
 * mkdir -p just before it is used, propagation changes follow the mount
 * they change at once (so the path reaches a mount root), and nothing is
 * made unbindable before the last bind.
 */
export function genGuestScenario(r: Rand, name: string): string {
  const steps: string[] = [];
  const child: string[] = [];
  const dirs = ['/r'];
  const mountpoints = ['/r'];
  const shared: string[] = [];
  let lastInit = '/r';
  let n = 0;
  const step = (list: string[], s: string) => list.push(`  - ${s}`);
  const op = (list: string[]) => {
    const kind = pick(r, ['mount', 'bind', 'bind', 'bind', 'stack']);
    // A mountpoint of the other namespace may be a plain directory here, or not be there: mkdir -p either way.
    const p = kind === 'stack' ? pick(r, mountpoints) : `${pick(r, dirs)}/${pick(r, NAMES)}`;
    step(list, `mkdir: ${scalar(p)}`);
    if (kind === 'bind') {
      // Mostly from a mount made shared: the bind is its peer, and a make-slave then has a master to keep.
      const from = shared.length && chance(r, 60) ? pick(r, shared) : pick(r, dirs);
      const q = chance(r, 60) ? from : `${from}/${pick(r, NAMES)}`;
      step(list, `mkdir: ${scalar(q)}`);
      step(list, `bind: { source: ${scalar(q)}, target: ${scalar(p)} }`);
    } else {
      step(list, `mount: { fstype: tmpfs, source: ${scalar(`s${++n}`)}, target: ${scalar(p)} }`);
    }
    const x = r.int(0, 99);
    if (x < 30) {
      step(list, `make-shared: ${scalar(p)}`);
      shared.push(p);
    } else if (x < (kind === 'bind' ? 75 : 45)) {
      step(list, `make-slave: ${scalar(p)}`);
      if (chance(r, 30)) {
        step(list, `make-shared: ${scalar(p)}`);
        shared.push(p);
      }
    } else if (x < 80) {
      step(list, `make-private: ${scalar(p)}`);
    }
    if (list === steps) lastInit = p;
    if (chance(r, 15)) {
      const options = pick(r, ['nosuid', 'nodev,noexec', 'noatime', 'nosuid,strictatime']);
      step(list, `remount: { path: ${scalar(p)}, options: ${scalar(options)} }`);
    }
    if (!dirs.includes(p)) dirs.push(p);
    if (!mountpoints.includes(p)) mountpoints.push(p);
  };
  step(steps, 'mkdir: /r');
  step(steps, 'mount: { fstype: tmpfs, source: r, target: /r }');
  if (chance(r, 50)) {
    step(steps, 'make-shared: /r');
    shared.push('/r');
  }
  const ops = r.int(2, 6);
  for (let i = 0; i < ops; i++) op(steps);
  if (chance(r, 30)) {
    step(child, 'unshare: [mnt]');
    for (let i = r.int(1, 2); i > 0; i--) op(child);
    step(child, 'signal: child-done');
    steps.push('  - spawn:', '      name: child', '      steps:', ...child.map((l) => `      ${l}`));
    step(steps, 'wait: child-done');
    for (let i = r.int(0, 2); i > 0; i--) op(steps);
  }
  // Right after init's last mount op, its path still reaches that mount; nothing binds from it later.
  if (chance(r, 15)) step(steps, `make-unbindable: ${scalar(lastInit)}`);
  return [
    `name: ${name}`,
    'description: A random topology made by the guest kernel, for the import round trip.',
    'steps:',
    ...steps,
    'expect: identical',
    '',
  ].join('\n');
}

export interface RoundTrip {
  name: string;
  /** What the first scenario built (the paste). */
  original: string;
  /** Counts of the imported plan. */
  counts?: ReturnType<typeof importText>['plan']['counts'];
  check?: ImportCheck;
  /**
   * The random scenario itself could not be built: propagation had moved a
   * path it then used (a copy tucked under a mount, a mountpoint covered).
   * Not the importer's doing; counted, not failed.
   */
  unbuilt?: string;
  /** The capture needs more steps than a scenario may have (propagation made hundreds of mounts). */
  tooBig?: string;
  /** Why the round trip did not get to a comparison after the original was built. */
  error?: string;
  ms: { build: number; rebuild: number };
}

export interface GuestSession {
  /** The started target, with the runner's judgement of it kept across scenarios, as a run keeps it. */
  guest: Guest;
  cell: string;
  runDir: string;
  dispose(): Promise<void>;
}

/** Boots one guest the way `mountlab run` would (default kernel and criu; KVM when it works). */
export async function startGuest(
  runDir: string,
  log: (m: string) => void,
  signal = new AbortController().signal,
): Promise<GuestSession> {
  const cells = await planVmCells({
    kernels: parseKernels(DEFAULT_KERNEL),
    crius: await prepareCrius(parseCriuChoices(DEFAULT_CRIU), { signal, log }),
    accel: 'auto',
    machine: 'microvm',
    memoryMiB: 1024,
    runDir,
    signal,
    log,
  });
  const cell = cells[0]!;
  const target = await cell.target.start(signal);
  return { guest: new Guest(target), cell: cell.id, runDir, dispose: async () => await target[Symbol.asyncDispose]() };
}

let guestIds = 0;

/** Builds a scenario file in the guest and returns its capture before any dump. */
export async function buildAndCapture(g: GuestSession, file: string): Promise<string> {
  const loaded = await loadScenarioFile(file);
  const res = await executeScenario(
    g.guest,
    { loaded, name: loaded.scenario.name, mountEngine: 'v2', flavor: 'ns' },
    {
      cell: g.cell,
      runDir: g.runDir,
      reporter: {},
      signal: new AbortController().signal,
      guestId: `i${++guestIds}`,
      probes: false,
      stopAfter: 'capture-before',
    },
  );
  const cap = res.artifacts['before.capture'];
  if (res.outcome !== 'pass' || !cap) throw new Error(`${loaded.scenario.name}: ${res.outcome}: ${res.reason}`);
  return readFile(join(g.runDir, cap), 'latin1');
}

/** One round trip: build the random scenario, import its capture, build that, compare. */
export async function roundTrip(g: GuestSession, dir: string, name: string, yaml: string): Promise<RoundTrip> {
  await mkdir(dir, { recursive: true });
  const rt: RoundTrip = { name, original: '', ms: { build: 0, rebuild: 0 } };
  const t0 = Date.now();
  try {
    const first = join(dir, `${name}.yaml`);
    await writeFile(first, yaml);
    try {
      rt.original = await buildAndCapture(g, first);
    } catch (e) {
      rt.unbuilt = e instanceof Error ? e.message : String(e);
      return rt;
    }
    rt.ms.build = Date.now() - t0;
    let imported: ReturnType<typeof importText>;
    try {
      imported = importText(rt.original, `${name}.capture`, { name: `${name}-imported` });
    } catch (e) {
      if (!(e instanceof TooManySteps)) throw e;
      rt.tooBig = e.message;
      return rt;
    }
    rt.counts = imported.plan.counts;
    const second = join(dir, `${name}-imported.yaml`);
    await writeFile(second, imported.yaml);
    const t1 = Date.now();
    const rebuilt = await buildAndCapture(g, second);
    rt.ms.rebuild = Date.now() - t1;
    rt.check = checkImport(imported.plan, parseCapture(rebuilt, 'rebuilt capture'));
  } catch (e) {
    rt.error = e instanceof Error ? e.message : String(e);
  }
  return rt;
}
