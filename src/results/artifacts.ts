import { join } from 'node:path';

/**
 * The files of a run directory, reports/<run-id>/ (reports/README.md):
 * written by the reporters, read by merge, diff-runs and the scheduler.
 */
export const RUN_FILES = {
  results: 'results.json',
  summary: 'summary.md',
  html: 'index.html',
  junit: 'junit.xml',
  tap: 'results.tap',
} as const;

/**
 * A scenario's files, in its directory (scenarioDir). Their names are also
 * the keys of ScenarioResult.artifacts, by which the reports find them.
 */
export const SCENARIO_FILES = {
  /** The program in words (plan/render-program.ts), and as the guest got it (plan/wire.ts). */
  program: 'program.txt',
  wirePlan: 'plan.wire',
  setupErr: 'setup.err',
  before: 'before.capture',
  dumpLog: 'dump.log',
  restoreLog: 'restore.log',
  after: 'after.capture',
  restoreAgainLog: 'restore-again.log',
  afterAgain: 'after-again.capture',
  probes: 'probes.out',
  fdProbes: 'fd-probes.out',
  kernelTrouble: 'kernel-trouble.txt',
} as const;

/** A scenario's logs, in the order a reader wants them (the pipeline's). */
export const SCENARIO_LOGS: readonly string[] = [
  SCENARIO_FILES.setupErr,
  SCENARIO_FILES.dumpLog,
  SCENARIO_FILES.restoreLog,
  SCENARIO_FILES.restoreAgainLog,
  SCENARIO_FILES.kernelTrouble,
];

/**
 * A scenario's directory, relative to the run directory: <cell>/<scenario>/,
 * and attempt-K/ below it for the later attempts of --repeat.
 */
export function scenarioDir(cell: string, scenario: string, attempt = 1): string {
  return join(cell, scenario, ...(attempt > 1 ? [`attempt-${attempt}`] : []));
}
