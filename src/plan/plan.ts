import type { Executor } from './executor-choice.js';

/** What the plan stage hands to a target: everything the guest will run for one scenario. */
export interface GuestPlan {
  /** Unique within the guest: names the scenario's work directory. */
  id: string;
  scenario: string;
  /** What builds the tree in the guest: treeScript and outsideScript (bash), or program (helper). */
  executor: Executor;
  /** The bash program of the whole tree: `bash -c SCRIPT mountlab TASK FROM`, ML_ROOT set for init. */
  treeScript: string;
  /**
   * The helper's program (executor helper only): its wire text, which the
   * guest runs (outside steps included), and its rendering in words.
   */
  program?: { wire: string; rendering: string };
  /** Task names, init first. */
  tasks: string[];
  /** The sync-point directory inside the scenario root, removed at clean-up. */
  syncDir: string;
  /** Run by labctl in the guest's own namespaces, chrooted into the scenario root, before the tree; '' when none. */
  outsideScript: string;
  /** Labels of the outside steps, for errors. */
  outsideLabels: string[];
  /** Namespaces of init that a task outside the tree joins after setup (seed 003). */
  leak: string[];
  /** One human label per step, for error messages ("step 3: bind /w -> /a"). */
  stepLabels: string[];
  /** Time limits, seconds, enforced in the guest. */
  limits: PhaseLimits;
  criu: { dumpArgs: string[]; restoreArgs: string[] };
}

/** CRIU's two mount restorers: mount-v2 (MOVE_MOUNT_SET_GROUP) and the old one, --mntns-compat-mode. */
export type MountEngine = 'v2' | 'compat';

export interface PhaseLimits {
  setup: number;
  dump: number;
  restore: number;
  capture: number;
}

export const DEFAULT_LIMITS: PhaseLimits = { setup: 60, dump: 120, restore: 120, capture: 30 };
