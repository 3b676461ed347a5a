/**
 * What the kernel never prints in a mountinfo line, refused so that a
 * hand-made or damaged capture cannot be compared as a topology that no
 * machine can have (fs/proc_namespace.c:show_mountinfo() and fs/pnode.c):
 *
 * - Mount ids and peer group ids come from an IDA whose ids are C ints
 *   (mnt_alloc_id(), mnt_alloc_group_id()), so none is above 2^31 - 1, and
 *   group ids start at 1, so `shared:0` and `master:0` cannot be printed.
 * - Every tab in a path is printed as \011 (mangle() escapes " \t\n\\").
 * - A slave's master is another peer group (a mount cannot receive from
 *   itself); `propagate_from` is printed only for slaves (under
 *   IS_MNT_SLAVE) and only when it differs from `master`.
 * - A mountpoint is printed by walking up from the mountpoint's dentry
 *   through the parent mount, so it always starts with the parent's
 *   mountpoint.
 */
import { MountinfoParseError, tokenize, type MountEntry } from './mountinfo.js';

export const INT_MAX = 2 ** 31 - 1;

/** Checks one parsed line against the rules above that need only that line. */
export function checkKernelLine(e: MountEntry, text: string, file: string | undefined): void {
  const fail = (reason: string, col: number): never => {
    throw new MountinfoParseError(reason, file, e.line, col);
  };
  const tab = text.indexOf('\t');
  if (tab >= 0)
    fail('a raw tab: the kernel prints a tab in a field as \\011, and fields are separated by single spaces', tab + 1);
  const fields = tokenize(text);
  if (e.mountId > INT_MAX)
    fail(`mount ID ${e.mountId} is out of range: mount IDs are C ints (at most ${INT_MAX})`, fields[0]!.col);
  if (e.parentId > INT_MAX)
    fail(`parent mount ID ${e.parentId} is out of range: mount IDs are C ints (at most ${INT_MAX})`, fields[1]!.col);
  const optional = new Map<string, { value: number; col: number }>();
  for (const f of fields.slice(6)) {
    if (f.text === '-') break;
    const m = /^(shared|master|propagate_from):(\d+)$/.exec(f.text);
    if (m) optional.set(m[1]!, { value: Number(m[2]), col: f.col });
  }
  for (const [tag, { value, col }] of optional) {
    if (value === 0) fail(`${tag}:0: peer group IDs start at 1, the kernel never prints 0`, col);
    if (value > INT_MAX) fail(`${tag}:${value} is out of range: peer group IDs are C ints (at most ${INT_MAX})`, col);
  }
  const shared = optional.get('shared');
  const master = optional.get('master');
  const from = optional.get('propagate_from');
  if (shared && master && shared.value === master.value) {
    fail(
      `master:${master.value} is the mount's own peer group (shared:${shared.value}): ` +
        'a mount cannot be a slave of its own peers',
      master.col,
    );
  }
  if (from && !master)
    fail(`propagate_from:${from.value} without master: the kernel prints propagate_from only for slaves`, from.col);
  if (from && master && from.value === master.value) {
    fail(
      `propagate_from:${from.value} equals master:${master.value}: ` +
        'the kernel prints propagate_from only when it differs',
      from.col,
    );
  }
}

/** Whether `mp` is `parentMp` or a path under it. */
function isBelow(parentMp: string, mp: string): boolean {
  if (mp === parentMp) return true;
  return mp.startsWith(parentMp.endsWith('/') ? parentMp : `${parentMp}/`);
}

/**
 * Checks each mount's mountpoint against its parent's, for the mounts of
 * one task's table; `lineText` gives a line's text for the column.
 */
export function checkBelowParents(
  mounts: readonly MountEntry[],
  lineText: (line: number) => string,
  file: string | undefined,
): void {
  const byId = new Map<number, MountEntry>();
  for (const m of mounts) if (!byId.has(m.mountId)) byId.set(m.mountId, m);
  for (const m of mounts) {
    const p = byId.get(m.parentId);
    if (!p || p === m || isBelow(p.mountPoint, m.mountPoint)) continue;
    const col = tokenize(lineText(m.line))[4]!.col;
    throw new MountinfoParseError(
      `mountpoint ${JSON.stringify(m.mountPoint)} is not below its parent's (mount ID ${p.mountId} on ` +
        `${JSON.stringify(p.mountPoint)}, line ${p.line}): the kernel prints a mountpoint as a path through its parent`,
      file,
      m.line,
      col,
    );
  }
}
