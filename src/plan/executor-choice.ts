import { MountlabError } from '../errors.js';

/**
 * What builds a scenario's tree in the guest (issue 18):
 * - `bash`: the tree script (compile.ts) run by bash, each step a tool;
 * - `helper`: the program (program.ts), sent as its wire text (wire.ts) and
 *   run by the static helper's `run-tree`/`run-outside` in one process per task.
 *
 * The default is `helper` since every scenario of the corpus was shown, in
 * the VMs, to build the same topology both ways (kernel 6.12, criu 4.1.1,
 * 2026-12-04, bench/executor-equivalence: 93 of 93 runs with the same
 * verdict and before.capture equal as topologies; setup 0.58 s against
 * 1.79 s on average). `bash` stays selectable while the tree script still
 * serves the hand-rebuild commands and the injection tests; it goes next.
 */
export type Executor = 'bash' | 'helper';

export const EXECUTORS: readonly Executor[] = ['bash', 'helper'];
export const DEFAULT_EXECUTOR: Executor = 'helper';

/** MOUNTLAB_EXECUTOR=bash|helper chooses; unset or empty is the default. */
export function executorFromEnv(env: NodeJS.ProcessEnv = process.env): Executor {
  const v = env.MOUNTLAB_EXECUTOR;
  if (v === undefined || v === '') return DEFAULT_EXECUTOR;
  if ((EXECUTORS as readonly string[]).includes(v)) return v as Executor;
  throw new MountlabError(`MOUNTLAB_EXECUTOR=${JSON.stringify(v)} is not an executor`, {
    hint: `use one of ${EXECUTORS.join(', ')} (the default is ${DEFAULT_EXECUTOR})`,
  });
}
