import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CellPlan } from './runner.js';
import type { AccelChoice } from '../target/vm/accel.js';
import { ensureImage, type RootfsImage } from '../target/vm/image.js';
import { composeGuest, ensureKernel, type KernelArtifact, type KernelSource } from '../target/vm/kernel-artifact.js';
import type { MachineType } from '../target/vm/qemu.js';
import { VmTarget } from '../target/vm/vm-target.js';
import { ContainerTarget } from '../target/container/container-target.js';
import { VagrantTarget, ensureVagrantPrerequisites } from '../target/vagrant/vagrant-target.js';
import { ensureCriuBinary, ensureCriuBuild, type CriuBuild, type CriuOrigin } from '../criu/criu-build.js';
import { fixesIn } from '../criu/fix-presence.js';
import { identifyTree } from '../criu/tree-identity.js';
import { parseCriuChoices, type CriuChoice } from './criu-choices.js';
import { parseKernels } from './kernels.js';
import { BadInputError } from '../errors.js';
import { CRIU_BUILDS, DEFAULT_CRIU } from './criu-versions.js';

export interface VmMatrixOptions {
  kernels: KernelSource[];
  /** From prepareCrius: built before the run starts. */
  crius: PreparedCriu[];
  accel: AccelChoice;
  machine: MachineType;
  memoryMiB: number;
  mirror?: string;
  runDir: string;
  signal: AbortSignal;
  log: (m: string) => void;
  /** Commits the scenarios name as `known-bug.fixed-by`: each git tree says which it has. */
  fixCommits?: string[];
}

/** "vm-debian-6.12-criu-4.1.1": the kernel's name and the criu's label (its version, or a user build's name). */
export function vmCellId(kernel: string, criuLabel: string): string {
  return `vm-${kernel}-criu-${criuLabel}`;
}

/** A Debian suite's criu by its version in the rootfs. */
export function rootfsCriuLabel(rootfs: RootfsImage): string {
  return rootfs.manifest.criuVersion || rootfs.manifest.suite;
}

/** One --criu entry made ready: the rootfs it runs on and, for a user's criu, its disk. */
export interface PreparedCriu {
  label: string;
  rootfs: RootfsImage;
  build?: CriuBuild;
}

/**
 * Labels must tell the cells apart: two user builds that describe alike
 * (two dirty states of one commit) get their cache entries' hashes.
 */
export function distinctLabels(labels: string[], keys: string[]): string[] {
  return labels.map((l, i) => (labels.indexOf(l) === labels.lastIndexOf(l) ? l : `${l}-${keys[i]!.slice(-6)}`));
}

/**
 * Every --criu entry made ready, in order: rootfs images, and a user's
 * trees built (or found in the cache) and binaries checked, all before any
 * guest boots, so a tree that does not compile stops the run first. A
 * user's criu runs on the default suite's rootfs (its libraries are what
 * the build root linked against).
 */
export async function prepareCrius(
  crius: CriuChoice[],
  o: { mirror?: string; signal: AbortSignal; log: (m: string) => void },
): Promise<PreparedCriu[]> {
  const mirror = o.mirror ? { mirror: o.mirror } : {};
  const images = new Map<string, RootfsImage>();
  const image = async (suite: string) => {
    if (!images.has(suite))
      images.set(suite, await ensureImage({ suite, ...mirror }, (l) => o.log(`image ${suite}: ${l}`), o.signal));
    return images.get(suite)!;
  };
  const out: PreparedCriu[] = [];
  for (const c of crius) {
    if (c.kind === 'debian') {
      const rootfs = await image(CRIU_BUILDS[c.name]!.suite);
      out.push({ label: rootfsCriuLabel(rootfs), rootfs });
      continue;
    }
    const suite = CRIU_BUILDS[DEFAULT_CRIU]!.suite;
    const rootfs = await image(suite);
    const opts = { suite, ...mirror, signal: o.signal, progress: (l: string) => o.log(`criu ${c.path}: ${l}`) };
    const build =
      c.kind === 'source'
        ? await ensureCriuBuild(identifyTree(c.path), opts)
        : await ensureCriuBinary(c.path, rootfs, opts);
    out.push({ label: build.label, rootfs, build });
  }
  const labels = distinctLabels(
    out.map((p) => p.label),
    out.map((p) => p.build?.id ?? p.rootfs.id),
  );
  return out.map((p, i) => ({ ...p, label: labels[i]! }));
}

/**
 * Every kernel x criu pair as a cell. Images, kernels and user criu builds
 * are prepared (built once, then cached) before the first boot, so a
 * missing prerequisite stops the run before any scenario starts. (A user's
 * kernel was checked already.)
 */
export async function planVmCells(o: VmMatrixOptions): Promise<CellPlan[]> {
  const mirror = o.mirror ? { mirror: o.mirror } : {};
  const crius = o.crius;
  const kernels = new Map<string, KernelArtifact>();
  for (const k of o.kernels)
    kernels.set(k.name, await ensureKernel(k, (l) => o.log(`kernel ${k.name}: ${l}`), { ...mirror, signal: o.signal }));
  const cells: CellPlan[] = [];
  for (const k of o.kernels) {
    for (const c of crius) {
      const criu = c.build ? { id: c.build.id, disk: c.build.disk, version: c.build.manifest.version } : undefined;
      const img = composeGuest(c.rootfs, kernels.get(k.name)!, criu);
      const id = vmCellId(k.name, c.label);
      await mkdir(join(o.runDir, id), { recursive: true });
      cells.push({
        id,
        target: new VmTarget({
          image: img,
          accel: o.accel,
          machine: o.machine,
          memoryMiB: o.memoryMiB,
          runDir: join(o.runDir, id),
          ...(c.build ? { criuBuild: withFixes(c.build.origin, o.fixCommits ?? []) } : {}),
          log: (m) => o.log(`${id}: ${m}`),
        }),
      });
    }
  }
  return cells;
}

function withFixes(origin: CriuOrigin, commits: string[]): CriuOrigin {
  if (origin.kind !== 'git' || commits.length === 0) return origin;
  return { ...origin, fixes: fixesIn(origin.path, commits) };
}

export interface HostCellOptions {
  /** Debian criu names (--criu): each picks the rootfs that carries it. */
  crius: string[];
  mirror?: string;
  runId: string;
  runDir: string;
  signal: AbortSignal;
  log: (m: string) => void;
}

/** One container cell per criu: the host's kernel runs them, so --kernel does not apply. */
export async function planContainerCells(o: HostCellOptions): Promise<CellPlan[]> {
  const cells: CellPlan[] = [];
  for (const c of o.crius) {
    const img = await ensureImage(
      { suite: CRIU_BUILDS[c]!.suite, ...(o.mirror ? { mirror: o.mirror } : {}) },
      (l) => o.log(`image: ${l}`),
      o.signal,
    );
    const id = `container-criu-${img.manifest.criuVersion || img.manifest.suite}`;
    await mkdir(join(o.runDir, id), { recursive: true });
    cells.push({ id, target: new ContainerTarget({ image: img, runId: o.runId, log: (m) => o.log(`${id}: ${m}`) }) });
  }
  return cells;
}

/**
 * The lab's guest as a vagrant-libvirt box (the top-level Vagrantfile): the
 * first --kernel, one cell per criu, one domain at a time per cell. vagrant,
 * vagrant-libvirt or libvirtd missing is a plain error before anything boots.
 */
export async function planVagrantCells(
  o: HostCellOptions & { kernel: KernelSource; memoryMiB: number },
): Promise<CellPlan[]> {
  await ensureVagrantPrerequisites((m) => o.log(`vagrant: ${m}`));
  const mirror = o.mirror ? { mirror: o.mirror } : {};
  const k = o.kernel;
  const kernel = await ensureKernel(k, (l) => o.log(`kernel ${k.name}: ${l}`), { ...mirror, signal: o.signal });
  const cells: CellPlan[] = [];
  for (const c of o.crius) {
    const img = await ensureImage({ suite: CRIU_BUILDS[c]!.suite, ...mirror }, (l) => o.log(`image: ${l}`), o.signal);
    const id = `vagrant-${k.name}-criu-${img.manifest.criuVersion || img.manifest.suite}`;
    await mkdir(join(o.runDir, id), { recursive: true });
    const target = new VagrantTarget({
      image: img,
      kernel,
      runId: o.runId,
      cellId: id,
      runDir: join(o.runDir, id),
      memoryMiB: o.memoryMiB,
      log: (m) => o.log(`${id}: ${m}`),
    });
    cells.push({ id, maxInstances: 1, target });
  }
  return cells;
}

/** "vm-debian-6.12-criu-4.1.1" back into its kernel and criu; undefined when it is no vm cell's id. */
export function parseVmCellId(id: string): { kernel: string; criu: string } | undefined {
  const m = id.match(/^vm-(.+)-criu-(.+)$/);
  return m ? { kernel: m[1]!, criu: m[2]! } : undefined;
}

/**
 * One vm cell by its id (mountlab reduce works in one cell): the kernel and
 * the criu it names, prepared as planVmCells does. Bad input when the id
 * names no kernel or criu the lab knows.
 */
export async function planVmCellById(
  id: string,
  o: Omit<VmMatrixOptions, 'kernels' | 'crius' | 'machine' | 'memoryMiB'> & { memoryMiB?: number },
): Promise<CellPlan> {
  const parsed = parseVmCellId(id);
  const where = { file: '--cell', line: 1, col: 1, path: '' };
  if (!parsed)
    throw new BadInputError(
      [{ ...where, message: `'${id}' is no vm cell id` }],
      'a cell id is vm-KERNEL-criu-CRIU, as results.json and the reports name it: vm-debian-6.12-criu-4.1.1',
    );
  const kernels = parseKernels(parsed.kernel);
  const crius = await prepareCrius(parseCriuChoices(parsed.criu), {
    ...(o.mirror ? { mirror: o.mirror } : {}),
    signal: o.signal,
    log: o.log,
  });
  const [cell] = await planVmCells({ ...o, kernels, crius, machine: 'microvm', memoryMiB: o.memoryMiB ?? 1024 });
  return cell!;
}
