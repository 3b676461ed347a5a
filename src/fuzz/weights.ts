/**
 * What the generator draws, and how often. The weights lean toward what
 * CRIU's mount restore gets wrong (seeds 001-004, the corpus's known
 * bugs): peer groups and slaves in every mix, set-group trees, mounts
 * hidden under others and reached through fds, binds of those, moves,
 * lazily unmounted mounts kept alive, namespaces sharing groups, masters
 * outside the tree, files open, unlinked, relinked and mapped on all of
 * these. Plain mkdir and mount are there mostly to give the rest
 * something to work on.
 */

/** A step the generator proposes while the mount model follows the scenario. */
export type StepKind =
  | 'mkdir'
  | 'mount'
  | 'overmount'
  | 'bind'
  | 'bind-file'
  | 'rbind'
  | 'open-tree'
  | 'bind-covered'
  | 'move'
  | 'umount'
  | 'make-shared'
  | 'make-slave'
  | 'make-private'
  | 'make-unbindable'
  | 'remount'
  | 'set-group'
  | 'spawn'
  | 'file'
  | 'open-file'
  | 'open-dir'
  | 'unlink'
  | 'relink'
  | 'mmap'
  | 'close';

export const STEP_WEIGHTS: Readonly<Record<StepKind, number>> = {
  mkdir: 8,
  mount: 8,
  overmount: 5,
  bind: 10,
  'bind-file': 2,
  rbind: 4,
  'open-tree': 2,
  'bind-covered': 4,
  move: 3,
  umount: 2,
  'make-shared': 12,
  'make-slave': 9,
  'make-private': 2,
  'make-unbindable': 3,
  remount: 3,
  'set-group': 6,
  spawn: 4,
  file: 4,
  'open-file': 5,
  'open-dir': 3,
  unlink: 3,
  relink: 2,
  mmap: 2,
  close: 1,
};

/**
 * Steps the model cannot follow but that cannot fail where the generator
 * puts them (src/fuzz/generator.ts says why for each), appended at the end
 * of the root task: their chance per scenario and how many at most.
 */
export const TAIL = {
  /** A tmpfs on a fresh leaf directory of a shared or slave mount: the kernel propagates it. */
  propagatingMount: { chance: 0.6, max: 3 },
  /** make-rshared, -rslave, -rprivate, -runbindable of a mount. */
  recursivePropagation: { chance: 0.35, max: 2 },
  /** umount -l of a mount, often with an fd or a task's cwd still in it. */
  lazyUmount: {
    chance: 0.35,
    max: 2,
    /**
     * An fd kept open in it. CRIU 4.1.1 refuses every such dump ("Can't
     * lookup mount=N for fd=N path=/", a quarter of generator 1's
     * scenarios: one signature eating the budget), so less often (version 2).
     */
    survivor: 0.35,
  },
} as const;

/**
 * remount,bind of a mount with per-mount flags. CRIU restores a mount's
 * flags along with it; the namespace's root mount is restored apart from
 * the rest (the root yard).
 */
export const REMOUNT = {
  /**
   * The namespace's root mount rather than one of the scenario's. Not more:
   * CRIU < 4.2 loses every flag of the root mount (a corpus known bug,
   * flags/ro-root), and a scenario failing on it hides whatever else it holds.
   */
  root: 0.15,
  flags: ['ro', 'nosuid', 'nodev', 'noexec'] as string[],
  /** Each of `flags`, drawn on its own. */
  flagChance: 0.3,
  atime: ['noatime', 'nodiratime', 'relatime', 'strictatime'] as string[],
  atimeChance: 0.25,
} as const;

/** An open-dir step opens with O_DIRECTORY (else O_PATH). */
export const DIRECTORY_FD = 0.15;

/** Scenario-wide choices. */
export const SCENARIO = {
  /** Steps the model follows, before the tail. */
  minSteps: 6,
  maxSteps: 26,
  /** Proposals per step before the generator gives up on a step. */
  triesPerStep: 12,
  /** A shared tmpfs made by `outside` steps, bound into the tree and often made a slave there. */
  externalMaster: 0.15,
  /** With an external master: a host file mount too, bound onto a file in the tree (runtimes' /etc/hosts). */
  externalFile: 0.5,
  /** With an external master: the tree unmounts its inherited copies of the host's mounts. */
  externalUnmount: 0.7,
  /** Spawned tasks nest this deep at most. */
  maxDepth: 2,
  /** A spawned task unshares its mount namespace first. */
  childUnshare: 0.7,
  /** engine.mount-engine. */
  mountEngine: { v2: 5, compat: 3, both: 2 },
  /** engine.restore-twice. */
  restoreTwice: 0.08,
} as const;
