import { MountlabError } from '../errors.js';

/**
 * What builds a scenario's tree in the guest (issue 18):
 * - `bash`: the tree script (compile.ts) run by bash, each step a tool;
 * - `helper`: the program (program.ts), sent as its wire text (wire.ts) and
 *   run by the static helper's `run-tree`/`run-outside` in one process per task.
 *
 * The default stays `bash` until every scenario of the corpus is shown, in
 * the VMs, to build the same topology both ways (before.capture equal);
 * only then does it flip to `helper`, and later the bash path goes.
 * bench/executor-equivalence compares two runs. Not there yet (kernel
 * 6.12, criu 4.1.1, 2026-12-03): 91 of 93 alike; sysfs-ro-over-rw and
 * lxc-vivid-layout stack sysfs on sysfs at /sys, which the helper's
 * mount(2) refuses (EBUSY: do_add_mount will not put a superblock on its
 * own root) while util-linux 2.41's mount(8) does it with fsopen, fsmount
 * and move_mount; the helper's new-filesystem mount should do the same.
 */
export type Executor = 'bash' | 'helper';

export const EXECUTORS: readonly Executor[] = ['bash', 'helper'];
export const DEFAULT_EXECUTOR: Executor = 'bash';

/** MOUNTLAB_EXECUTOR=bash|helper chooses; unset or empty is the default. */
export function executorFromEnv(env: NodeJS.ProcessEnv = process.env): Executor {
  const v = env.MOUNTLAB_EXECUTOR;
  if (v === undefined || v === '') return DEFAULT_EXECUTOR;
  if ((EXECUTORS as readonly string[]).includes(v)) return v as Executor;
  throw new MountlabError(`MOUNTLAB_EXECUTOR=${JSON.stringify(v)} is not an executor`, {
    hint: `use one of ${EXECUTORS.join(', ')} (the default is ${DEFAULT_EXECUTOR})`,
  });
}
