import type { IgnoredSuperOption } from './super-options.js';

/**
 * The vocabulary of differences: what the comparator, the fd comparison and
 * the live probes say, and what a comparison returns. It has a file of its
 * own so that each of them imports it from here, not from one another.
 */

/** Every kind, in the order differences about one mount are listed. */
export const DIFFERENCE_KINDS = [
  'namespace-count-changed',
  'namespace-lost',
  'namespace-added',
  'task-lost',
  'task-added',
  'task-namespace-changed',
  'task-cwd-changed',
  'task-root-changed',
  'mount-lost',
  'mount-added',
  'parent-changed',
  'mountpoint-changed',
  'root-changed',
  'fstype-changed',
  'source-changed',
  'device-changed',
  'superblock-split',
  'superblock-merged',
  'mount-options-changed',
  'super-options-changed',
  'shared-changed',
  'peers-split',
  'peers-merged',
  'master-gained',
  'master-lost',
  'master-changed',
  'propagate-from-changed',
  'unbindable-changed',
  // MNT_LOCKED (vm/helper/locks.c): a mount inherited from a more privileged mount namespace.
  'lock-changed',
  // A mount the scenario expects CRIU to drop (expect: dropped) that is there after restore.
  'mount-not-dropped',
  // Open files (fds.ts); these differences name a task, not a mount.
  'fd-lost',
  'fd-added',
  'fd-path-changed',
  'fd-deleted-changed',
  'fd-link-changed',
  'fd-type-changed',
  'fd-mount-changed',
  'fd-inode-split',
  'fd-inode-merged',
  'fd-flags-changed',
  'fd-offset-changed',
  'fd-size-changed',
  'fd-content-changed',
  'fd-names-changed',
  'fd-device-changed',
  'fd-socket-changed',
  // File mappings (maps.ts): a task's @map lines, matched by address.
  'map-lost',
  'map-added',
  'map-file-changed',
  'map-sharing-changed',
  'map-changed',
  'map-mount-changed',
  // A live write through a restored fd (fd-probe.ts), not a capture field.
  'fd-write-misdirected',
  // Live propagation probes (propagation-probe.ts): what the kernel did with a new mount.
  'propagation-missing',
  'propagation-extra',
] as const;

export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

export interface Difference {
  kind: DifferenceKind;
  /** The mount the sentence is about, by its before-dump label, e.g. '/w/c', '/tmp [stacked 2]', 'ns#2:/w/c'. */
  mount?: string;
  /** Every mount the sentence names (peers, superblock sharers, lost descendants), `mount` first. */
  mounts?: string[];
  task?: string;
  /** Every task the sentence names, `task` first. */
  tasks?: string[];
  sentence: string;
}

/** A rule of the ignore list that applied, and where: nothing is ignored silently. */
export interface FilteredSuperOption extends IgnoredSuperOption {
  /** Mounts (before labels) on which the option was present and left out of the comparison. */
  mounts: string[];
  /** Whether its value differed on any of them, i.e. whether ignoring it hid a difference. */
  differed: boolean;
}

export interface Comparison {
  equivalent: boolean;
  /** Sorted: task and namespace differences first, then by mount label. */
  differences: Difference[];
  filtered: FilteredSuperOption[];
  /** Oddities in either input that the model had to resolve; not differences. */
  notes: string[];
}
