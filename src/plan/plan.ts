/** What the plan stage hands to a target: everything the guest will run for one scenario. */
export interface GuestPlan {
  /** Unique within the guest: names the scenario's work directory. */
  id: string;
  scenario: string;
  /**
   * The program the guest's helper runs (outside steps included), as its
   * wire text, and its rendering in words.
   */
  program: { wire: string; rendering: string };
  /** Task names, init first. */
  tasks: string[];
  /** The sync-point directory inside the scenario root, removed at clean-up. */
  syncDir: string;
  /** Labels of the outside steps (run in the guest's own namespaces, chrooted into the scenario root), for errors. */
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

/**
 * How the tree's init is made (zdtm's flavours): `ns`, in fresh mount and
 * pid namespaces; `uns`, in a fresh user namespace too, which owns them.
 */
export type Flavor = 'ns' | 'uns';
export const FLAVORS: readonly Flavor[] = ['ns', 'uns'];

export interface PhaseLimits {
  setup: number;
  dump: number;
  restore: number;
  capture: number;
}

export const DEFAULT_LIMITS: PhaseLimits = { setup: 60, dump: 120, restore: 120, capture: 30 };
