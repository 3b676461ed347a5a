/**
 * The round trip of `mountlab import --verify`: what the scenario built,
 * before any dump, against the topology the plan promised (the paste with
 * its stand-ins), compared by src/compare/ as any two captures are.
 *
 * The built tree sits under the scenario's base directory inside the lab's
 * root, next to the lab's own mounts (its overlay root, /proc). So each
 * task's table is cut down to the mounts at or below the base, with the
 * base rebased to "/": then the pasted "/" and the rebuilt one are the same
 * path, their parents outside the table on both sides, and the comparator
 * needs nothing new.
 */
import type { Capture } from '../capture/capture-file.js';
import {
  compareCaptures,
  DEFAULT_IGNORED_SUPER_OPTIONS,
  type Comparison,
  type Difference,
  type IgnoredSuperOption,
} from '../compare/compare.js';
import { buildTopology } from '../compare/topology.js';
import type { ImportPlan } from './plan-import.js';

/**
 * The guest's tmpfs prints inode64 (or inode32) whatever the options were
 * (CONFIG_TMPFS_INODE64); a paste from an older kernel has neither. It says
 * nothing about the topology. The comparator reports every use of the rule.
 */
const TMPFS_INODE_REASON =
  'the guest kernel prints inode64 or inode32 on every tmpfs (CONFIG_TMPFS_INODE64); ' +
  'a paste from another kernel may not';
export const IMPORT_IGNORED_SUPER_OPTIONS: readonly IgnoredSuperOption[] = [
  ...DEFAULT_IGNORED_SUPER_OPTIONS,
  { option: 'inode64', fsType: 'tmpfs', reason: TMPFS_INODE_REASON },
  { option: 'inode32', fsType: 'tmpfs', reason: TMPFS_INODE_REASON },
];

/** Each task's mounts at or below `base`, rebased so that `base` reads "/"; no fds, cwd or root (a paste has none). */
export function subtreeCapture(c: Capture, base: string): Capture {
  const b = Buffer.from(base, 'utf8').toString('latin1');
  return {
    tasks: c.tasks.map((t) => ({
      key: t.key,
      pid: t.pid,
      mntNs: t.mntNs,
      mounts: t.mounts
        .filter((m) => m.mountPoint === b || m.mountPoint.startsWith(`${b}/`))
        .map((m) => ({ ...m, mountPoint: m.mountPoint === b ? '/' : m.mountPoint.slice(b.length) })),
      fds: [],
    })),
  };
}

export interface ImportCheck {
  equivalent: boolean;
  /** What differs: each a sentence from the comparator. */
  differences: Difference[];
  /** Differences that are a planned stand-in (a loop device's source), listed, not counted. */
  explained: Difference[];
  /**
   * Mounts left outside the rebuilt tree besides the lab's own root and
   * /proc (a scratch mount not unmounted): the comparison cannot see them,
   * but CRIU would dump them.
   */
  leftovers: string[];
  comparison: Comparison;
}

/** Compares a capture of the built scenario with what the plan promised. */
export function checkImport(plan: ImportPlan, built: Capture): ImportCheck {
  const expected: Capture = { tasks: plan.expected.tasks.map((t) => ({ ...t, fds: [] })) };
  const got = subtreeCapture(built, plan.base);
  // Tasks the scenario has but the paste does not (none today) would only add noise.
  got.tasks = got.tasks.filter((t) => expected.tasks.some((e) => e.key === t.key));
  // Block devices are the pasting machine's disks: kept as a partition, not by number.
  const comparison = compareCaptures(expected, got, {
    ignoreSuperOptions: IMPORT_IGNORED_SUPER_OPTIONS,
    literalBlockDevices: false,
  });
  const loose = new Set(plan.looseSources);
  const deviceOf = new Map(buildTopology(expected).mounts.map((m) => [m.label, m.superblock.device]));
  const explainedBy = (d: Difference) =>
    d.kind === 'source-changed' && (d.mounts ?? [d.mount ?? '']).every((l) => loose.has(deviceOf.get(l) ?? ''));
  const explained = comparison.differences.filter(explainedBy);
  const differences = comparison.differences.filter((d) => !explainedBy(d));
  const b = Buffer.from(plan.base, 'utf8').toString('latin1');
  const leftovers = built.tasks.flatMap((t) =>
    t.mounts
      .filter(
        (m) =>
          m.mountPoint !== '/' && m.mountPoint !== '/proc' && m.mountPoint !== b && !m.mountPoint.startsWith(`${b}/`),
      )
      .map((m) => `${t.key}: ${m.mountPoint} (${m.fsType} ${m.source})`),
  );
  return {
    equivalent: differences.length === 0 && leftovers.length === 0,
    differences,
    explained,
    leftovers,
    comparison,
  };
}
