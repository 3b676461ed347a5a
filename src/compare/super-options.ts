/**
 * Super options that legitimately differ after a correct restore, because
 * they quote a pid, an fd or an inode number of the restoring process rather
 * than describe the filesystem. Everything not listed here is compared.
 */

export interface IgnoredSuperOption {
  /** The option's name: the text before '=' (or the whole option if it has none). */
  option: string;
  /** Only for this filesystem type; every type when absent. */
  fsType?: string;
  /** Why it may change; reported with every comparison that used the rule. */
  reason: string;
}

/**
 * autofs is the one filesystem whose mount options name the automount
 * daemon's process state: CRIU re-creates the daemon's pipe and the mount
 * (criu/autofs.c), so these three come back with new numbers by design.
 */
export const DEFAULT_IGNORED_SUPER_OPTIONS: readonly IgnoredSuperOption[] = Object.freeze([
  {
    option: 'fd',
    fsType: 'autofs',
    reason:
      "the automount daemon's end of the autofs pipe, an fd number in the daemon; " +
      'CRIU restores the pipe under the fd it gets',
  },
  {
    option: 'pgrp',
    fsType: 'autofs',
    reason:
      "the automount daemon's process group id; pids are not preserved unless the whole pid namespace is restored",
  },
  {
    option: 'pipe_ino',
    fsType: 'autofs',
    reason: 'the inode number of the autofs pipe; a restored pipe is a new pipe inode',
  },
]);

export function optionName(opt: string): string {
  const eq = opt.indexOf('=');
  return eq < 0 ? opt : opt.slice(0, eq);
}

/** The rule that drops `opt` on a mount of type `fsType`, if any. */
export function ignoringRule(
  rules: readonly IgnoredSuperOption[],
  fsType: string,
  opt: string,
): IgnoredSuperOption | undefined {
  const name = optionName(opt);
  return rules.find((r) => r.option === name && (r.fsType === undefined || r.fsType === fsType));
}

/**
 * Super options whose order is meaning, compared as a sequence; every other
 * super option is a flag or a name=value whose position the filesystem
 * ignores, so those compare as a set. overlayfs stacks one lower layer per
 * `lowerdir+=` (the first is the top one) and one data-only layer per
 * `datadir+=`, and prints them in that order (ovl_show_options()): swapping
 * two layers changes which file shows through, though the set is the same.
 * (`lowerdir=a:b` is one option, its order inside the value.)
 */
export const SEQUENCE_SUPER_OPTIONS: readonly { fsType: string; option: string }[] = Object.freeze([
  { fsType: 'overlay', option: 'lowerdir+' },
  { fsType: 'overlay', option: 'datadir+' },
]);

/** The options of `opts` that form a sequence on `fsType`, in their order; [] for most filesystems. */
export function sequenceOptions(fsType: string, opts: readonly string[]): string[] {
  if (!SEQUENCE_SUPER_OPTIONS.some((s) => s.fsType === fsType)) return [];
  return opts.filter((o) => SEQUENCE_SUPER_OPTIONS.some((s) => s.fsType === fsType && s.option === optionName(o)));
}

/** Super options in a form where only meaning counts: the set sorted, then the sequences in order. */
export function canonicalSuperOptions(fsType: string, opts: readonly string[]): string[] {
  const seq = new Set(sequenceOptions(fsType, opts));
  const rest = opts.filter((o) => !seq.has(o)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...rest, '\0', ...sequenceOptions(fsType, opts)];
}
