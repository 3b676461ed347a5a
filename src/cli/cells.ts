import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CellPlan } from '../run/runner.js';
import type { AccelChoice } from '../target/vm/accel.js';
import { ensureImage, type RootfsImage } from '../target/vm/image.js';
import { composeGuest, ensureKernel, type KernelArtifact, type KernelSource } from '../target/vm/kernel-artifact.js';
import type { MachineType } from '../target/vm/qemu.js';
import { VmTarget } from '../target/vm/vm-target.js';
import { CRIU_BUILDS } from './criu-versions.js';

export interface VmMatrixOptions {
  kernels: KernelSource[];
  crius: string[];
  accel: AccelChoice;
  machine: MachineType;
  memoryMiB: number;
  mirror?: string;
  runDir: string;
  signal: AbortSignal;
  log: (m: string) => void;
}

/** "vm-debian-6.12-criu-4.1.1": the kernel's name and the criu version the rootfs really has. */
export function vmCellId(kernel: string, rootfs: RootfsImage): string {
  return `vm-${kernel}-criu-${rootfs.manifest.criuVersion || rootfs.manifest.suite}`;
}

/**
 * Every kernel x criu pair as a cell. Images and kernels are prepared (built
 * once, then cached) before the first boot, so a missing prerequisite stops
 * the run before any scenario starts. (A user's kernel was checked already.)
 */
export async function planVmCells(o: VmMatrixOptions): Promise<CellPlan[]> {
  const mirror = o.mirror ? { mirror: o.mirror } : {};
  const rootfs = new Map<string, RootfsImage>();
  for (const c of o.crius) {
    const b = CRIU_BUILDS[c]!;
    rootfs.set(c, await ensureImage({ suite: b.suite, ...mirror }, (l) => o.log(`image ${b.suite}: ${l}`), o.signal));
  }
  const kernels = new Map<string, KernelArtifact>();
  for (const k of o.kernels) kernels.set(k.name, await ensureKernel(k, (l) => o.log(`kernel ${k.name}: ${l}`), { ...mirror, signal: o.signal }));
  const cells: CellPlan[] = [];
  for (const k of o.kernels) {
    for (const c of o.crius) {
      const img = composeGuest(rootfs.get(c)!, kernels.get(k.name)!);
      const id = vmCellId(k.name, rootfs.get(c)!);
      await mkdir(join(o.runDir, id), { recursive: true });
      cells.push({
        id,
        target: new VmTarget({ image: img, accel: o.accel, machine: o.machine, memoryMiB: o.memoryMiB, runDir: join(o.runDir, id), log: (m) => o.log(`${id}: ${m}`) }),
      });
    }
  }
  return cells;
}
