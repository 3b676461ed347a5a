/* Generated from results.schema.json by scripts/gen-types.mjs. Do not edit. */

/**
 * The kind of target: vm, container or vagrant.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "targetKind".
 */
export type TargetKind = 'vm' | 'container' | 'vagrant';
/**
 * The CRIU mount engine that restored a scenario.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "mountEngine".
 */
export type MountEngine = 'v2' | 'compat';
/**
 * The verdict of a scenario in a cell: a closed set (after tmt), decided by what the kernel and CRIU did.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "outcome".
 */
export type Outcome = 'pass' | 'fail' | 'error' | 'skip' | 'xfail' | 'xpass';
/**
 * A step of running a scenario in a cell. preflight: a check that the target's kernel can run CRIU at all (targets on the host kernel).
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "phase".
 */
export type Phase =
  | 'boot'
  | 'preflight'
  | 'setup'
  | 'capture-before'
  | 'dump'
  | 'restore'
  | 'capture-after'
  | 'compare'
  | 'probe'
  | 'restore-again'
  | 'capture-again'
  | 'cleanup';

/**
 * What `mountlab run` writes to reports/<run-id>/results.json. It is rewritten atomically after every scenario with complete: false and only format, runId, startedAt and results; the final file has every field. The format string names the major version: readers (diff-runs, merge) refuse other majors. This schema is the single source of truth: the TypeScript types in src/results/results.generated.ts are generated from it (node scripts/gen-types.mjs), and tests check that what a run writes conforms (src/run/run-writes-schema.test.ts, and the VM end-to-end test on a real run).
 */
export interface ResultsFile {
  /**
   * mountlab-results/MAJOR: bumped on any incompatible change; readers of old files check it.
   */
  format: 'mountlab-results/1';
  /**
   * The run's id, also its directory name.
   */
  runId: string;
  /**
   * package.json version of mountlab.
   */
  mountlabVersion?: string;
  /**
   * ISO 8601.
   */
  startedAt: string;
  /**
   * ISO 8601.
   */
  finishedAt?: string;
  /**
   * Milliseconds the run took.
   */
  durationMs?: number;
  /**
   * The machine mountlab ran on.
   */
  host?: {
    /**
     * Its kernel.
     */
    kernel: string;
    /**
     * Node.js version.
     */
    node: string;
  };
  /**
   * Target configurations: target x kernel x criu.
   */
  cells?: CellResult[];
  /**
   * Every scenario x cell that finished, in order.
   */
  results: ScenarioResult[];
  /**
   * Results per outcome.
   */
  counts?: {
    /**
     * Number of pass results.
     */
    pass: number;
    /**
     * Number of fail results.
     */
    fail: number;
    /**
     * Number of error results.
     */
    error: number;
    /**
     * Number of skip results.
     */
    skip: number;
    /**
     * Number of xfail results.
     */
    xfail: number;
    /**
     * Number of xpass results.
     */
    xpass: number;
  };
  /**
   * mountlab's exit code: 0, 1, 2, or 130 when interrupted.
   */
  exitCode?: number;
  /**
   * False while the run is still going (or when it was killed): a killed run leaves a valid file covering what finished. A merged run is complete when all its inputs were.
   */
  complete: boolean;
  /**
   * `mountlab merge`: the run ids this run was merged from, in the order given.
   */
  mergedFrom?: string[];
}
/**
 * One target configuration that runs scenarios: target x kernel x criu.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "cellResult".
 */
export interface CellResult {
  /**
   * e.g. vm-debian-6.12-criu-4.1.1.
   */
  id: string;
  facts: TargetFacts;
  /**
   * Set when the cell could not start at all.
   */
  error?: string;
}
/**
 * What a started target is, as recorded in every result.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "targetFacts".
 */
export interface TargetFacts {
  target: TargetKind;
  /**
   * uname -r of the guest (the host's, for a container).
   */
  kernel: string;
  /**
   * criu --version of the rootfs.
   */
  criu: string;
  /**
   * Whether `criu check` passed on this target.
   */
  criuCheck: 'ok' | 'failed';
  /**
   * Targets on the host kernel only: what the CRIU preflight (a dump and restore of a sleeping task) found, e.g. "ok in 0.6 s", "ok (cached)". `criu check` can say "Looks good" on a host where every dump hangs, so these targets try a real one first.
   */
  preflight?: string;
  /**
   * util-linux version of the rootfs.
   */
  utilLinux: string;
  /**
   * vm only: the accelerator that actually ran the guest.
   */
  accel?: 'kvm' | 'tcg';
  /**
   * Milliseconds from launch until the first command could run (vm: ssh logged in).
   */
  bootMs?: number;
  /**
   * Milliseconds from launch until the target was ready for scenarios (facts gathered).
   */
  readyMs: number;
  /**
   * The rootfs (and kernel) the guest booted, e.g. trixie-ee629449e899+debian-6.12-c260a3919096.
   */
  image?: string;
  /**
   * The GitID line of criu --version as the guest reports it (a user's build).
   */
  criuGitId?: string;
  criuBuild?: CriuOrigin;
}
/**
 * Where a user's criu came from (--criu PATH): its tree or binary.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "criuOrigin".
 */
export interface CriuOrigin {
  /**
   * git checkout, unpacked tarball or prebuilt binary.
   */
  kind: 'git' | 'tarball' | 'binary';
  /**
   * The tree's or binary's absolute path on the host.
   */
  path: string;
  /**
   * git: HEAD's full hash.
   */
  commit?: string;
  /**
   * git describe --tags (with -dirty), or the tarball's version.
   */
  describe?: string;
  /**
   * git: uncommitted changes or untracked files went into the build.
   */
  dirty?: boolean;
  /**
   * The cache entry under ~/.cache/mountlab/criu-builds: "<tree directory name>-<hash>", or "bin-<hash>".
   */
  build: string;
  /**
   * git trees: whether each commit named by a scenario's known-bug fixed-by is in the tree (an ancestor of HEAD, not reverted; src/criu/fix-presence.ts).
   */
  fixes?: {
    [k: string]: boolean;
  };
}
/**
 * One scenario's run in one cell.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "scenarioResult".
 */
export interface ScenarioResult {
  /**
   * The scenario's name; NAME[v2] or NAME[compat] when it runs under both mount engines.
   */
  scenario: string;
  mountEngine: MountEngine;
  /**
   * The scenario file, relative to where mountlab ran.
   */
  file: string;
  /**
   * The cell id.
   */
  cell: string;
  outcome: Outcome;
  /**
   * One line saying why: the first difference, the error headline, or "restored topology identical".
   */
  reason: string;
  /**
   * The expectation as written ("identical", "dump-fails /pattern/").
   */
  expected: string;
  /**
   * Phases that ran, in order, with their time.
   */
  phases: PhaseTiming[];
  /**
   * Every difference, one sentence each.
   */
  differences: DifferenceRecord[];
  probes?: ProbeSummary;
  /**
   * Super options the comparator ignored by its documented list, and where: nothing is filtered silently.
   */
  filtered: FilteredSuperOption[];
  /**
   * What failed, for error verdicts (and failures with a log excerpt).
   */
  error?: {
    phase: Phase;
    /**
     * The headline.
     */
    message: string;
    /**
     * The phase hung until its limit killed it (a hang, not an orderly failure): the runner stops a cell after two in a row.
     */
    hung?: boolean;
    /**
     * The relevant log or console lines.
     */
    excerpt?: string;
  };
  /**
   * Tasks outside the checkpointed tree that share one of its own namespaces (seed 003's "leaks"), found before the dump, one line each.
   */
  leaks: string[];
  /**
   * Files in the run directory, by name (src/results/artifacts.ts), relative to it.
   */
  artifacts: {
    [k: string]: string;
  };
  /**
   * Milliseconds the scenario took (all attempts, with --repeat).
   */
  durationMs: number;
  /**
   * --repeat N: every attempt's verdict, in order. Absent when the scenario ran once.
   *
   * @minItems 2
   */
  attempts?: AttemptSummary[];
  /**
   * --repeat N: the attempts disagreed. outcome and reason are then the most severe attempt's (src/results/outcome.ts), and reason starts with every verdict in order.
   */
  flaky?: boolean;
}
/**
 * A phase's timing.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "phaseTiming".
 */
export interface PhaseTiming {
  phase: Phase;
  /**
   * Milliseconds.
   */
  ms: number;
  /**
   * Whether it succeeded.
   */
  ok: boolean;
}
/**
 * A difference between the topology before the dump and after the restore.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "differenceRecord".
 */
export interface DifferenceRecord {
  /**
   * Its kind (src/compare/difference.ts DIFFERENCE_KINDS).
   */
  kind: string;
  /**
   * The mount it is about, by its before-dump label.
   */
  mount?: string;
  /**
   * The task it is about.
   */
  task?: string;
  /**
   * The explanation, in kernel vocabulary.
   */
  sentence: string;
}
/**
 * What the live probes checked (absent when probes were off or never reached).
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "probeSummary".
 */
export interface ProbeSummary {
  /**
   * Propagation probes judged: one marker mount each.
   */
  propagation: number;
  /**
   * Predicted or observed copies of the markers that were checked, summed.
   */
  copies: number;
  /**
   * Restored fds written through.
   */
  fdWrites: number;
  /**
   * Candidate paths checked for those writes.
   */
  fdChecks: number;
  /**
   * Mounts and fds that could not be probed, and why.
   */
  notes: string[];
}
/**
 * A super option the comparator ignored by its documented list, and where: nothing is filtered silently.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "filteredSuperOption".
 */
export interface FilteredSuperOption {
  /**
   * The option's name.
   */
  option: string;
  /**
   * Only for this filesystem type.
   */
  fsType?: string;
  /**
   * Why it may change.
   */
  reason: string;
  /**
   * Mounts it was present on.
   */
  mounts: string[];
  /**
   * Whether ignoring it hid a difference.
   */
  differed: boolean;
}
/**
 * One attempt of a scenario run --repeat N times.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "attemptSummary".
 */
export interface AttemptSummary {
  outcome: Outcome;
  /**
   * One line saying why.
   */
  reason: string;
  /**
   * Milliseconds the attempt took.
   */
  durationMs: number;
}
