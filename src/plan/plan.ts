/** What the plan stage hands to a target: everything the guest will run for one scenario. */
export interface GuestPlan {
  /** Unique within the guest: names the scenario's work directory. */
  id: string;
  scenario: string;
  /** Shell script run as init of the new mount+pid namespaces; $1 is the scenario root. */
  treeScript: string;
  /** One human label per step, for error messages ("step 3: bind /w -> /a"). */
  stepLabels: string[];
  /** Time limits, seconds, enforced in the guest. */
  limits: PhaseLimits;
  criu: { dumpArgs: string[]; restoreArgs: string[] };
}

export interface PhaseLimits {
  setup: number;
  dump: number;
  restore: number;
  capture: number;
}

export const DEFAULT_LIMITS: PhaseLimits = { setup: 60, dump: 120, restore: 120, capture: 30 };
