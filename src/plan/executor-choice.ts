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
