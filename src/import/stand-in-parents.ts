/**
 * A partial paste: some lines of a long table, so some mounts' parents are
 * not in it. A mount whose parent is missing is rebuilt as a root of the
 * tree, which is all it needs, until two such roots lie one within the
 * other (`/sys`, whose parent "/" was left out, and `/sys/fs/cgroup/pids`,
 * whose parent `/sys/fs/cgroup` was): then where the inner one hangs is
 * unknown, and it was refused.
 *
 * Instead, each missing parent that such a mount needs is rebuilt as a
 * stand-in: a tmpfs with the parent's mount id, at the deepest directory
 * holding all its pasted children (the parent's path, or below it), hung
 * on the deepest pasted mount that holds that directory. Each stand-in is
 * said in the notes, which the summary and the scenario's header carry.
 * Mounts whose parents are missing and that nothing else lies within stay
 * roots, as before.
 */
import type { MountEntry } from '../capture/mountinfo.js';
import type { Paste, PastedTask } from './parse-paste.js';

export const STAND_IN_SOURCE = 'none';

/** Whether path p is dir or below it. */
const within = (p: string, dir: string) => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
const dirname = (p: string) => (p === '/' ? '/' : p.slice(0, p.lastIndexOf('/')) || '/');

function commonDir(paths: string[]): string {
  let dir = paths[0]!;
  for (const p of paths) while (dir !== '/' && !within(p, dir)) dir = dirname(dir);
  return dir;
}

/** The paste with a stand-in for each missing parent that a partial table needs; the same paste when none. */
export function addStandInParents(paste: Paste): Paste {
  const minors = new Set(paste.tasks.flatMap((t) => t.mounts.filter((m) => m.major === 0).map((m) => m.minor)));
  let nextMinor = 1000;
  const freshMinor = () => {
    while (minors.has(nextMinor)) nextMinor++;
    minors.add(nextMinor);
    return nextMinor;
  };
  const notes: string[] = [];
  const standIns: number[] = [];
  // Stand-ins are shared across tasks: mount ids are system-wide, so one missing parent is one mount.
  const made = new Map<number, MountEntry>();
  const tasks = paste.tasks.map((t): PastedTask => {
    const mounts = [...t.mounts];
    for (let round = 0; round < 64; round++) {
      const ids = new Set(mounts.map((m) => m.mountId));
      // Paths that are not absolute are refused by the planner, at their line.
      const orphans = mounts.filter((m) => !ids.has(m.parentId) && m.mountPoint.startsWith('/'));
      const needy = new Map<number, MountEntry[]>();
      for (const m of orphans) {
        if (orphans.some((o) => o !== m && o.mountPoint !== m.mountPoint && within(m.mountPoint, o.mountPoint)))
          needy.set(m.parentId, []);
      }
      if (needy.size === 0) break;
      for (const m of orphans) needy.get(m.parentId)?.push(m);
      for (const [parentId, children] of [...needy].sort((a, b) => a[0] - b[0])) {
        const known = made.get(parentId);
        const entry = known ? { ...known } : standIn(parentId, children, mounts, freshMinor);
        if (!known) {
          made.set(parentId, entry);
          standIns.push(parentId);
          const lines = children.map((c) => c.line).join(', ');
          notes.push(
            `mount ${parentId}, the parent of line${children.length === 1 ? '' : 's'} ${lines}, is not in the paste: ` +
              `a tmpfs stands in for it at ${JSON.stringify(entry.mountPoint)}` +
              (entry.parentId !== undefined && ids.has(entry.parentId)
                ? `, on mount ${entry.parentId}`
                : ', a root of the rebuilt tree'),
          );
        }
        mounts.push(entry);
        ids.add(parentId);
      }
    }
    return { ...t, mounts };
  });
  if (!standIns.length) return paste;
  return { ...paste, tasks, notes: [...paste.notes, ...notes], standInParents: [...standIns] };
}

function standIn(parentId: number, children: MountEntry[], mounts: MountEntry[], freshMinor: () => number): MountEntry {
  const path = commonDir(children.map((c) => dirname(c.mountPoint)));
  // Not in the children's subtrees: the stand-in would be its own ancestor.
  const below = new Set<number>(children.map((c) => c.mountId));
  for (let grew = true; grew; ) {
    grew = false;
    for (const m of mounts)
      if (below.has(m.parentId) && !below.has(m.mountId)) {
        below.add(m.mountId);
        grew = true;
      }
  }
  const holders = mounts.filter((m) => !below.has(m.mountId) && within(path, m.mountPoint));
  const deepest = Math.max(-1, ...holders.map((m) => m.mountPoint.length));
  const atDeepest = holders.filter((m) => m.mountPoint.length === deepest);
  // Of mounts stacked on one path, the top one: the one no other of them is the parent of.
  const top = atDeepest.find((m) => !atDeepest.some((o) => o.parentId === m.mountId)) ?? atDeepest[0];
  const ids = new Set(mounts.map((m) => m.mountId));
  let rootParent = 0;
  while (ids.has(rootParent) || rootParent === parentId) rootParent++;
  return {
    line: Math.min(...children.map((c) => c.line)),
    mountId: parentId,
    parentId: top ? top.mountId : rootParent,
    major: 0,
    minor: freshMinor(),
    root: '/',
    mountPoint: path,
    mountOptions: ['rw', 'relatime'],
    unbindable: false,
    fsType: 'tmpfs',
    source: STAND_IN_SOURCE,
    superOptions: ['rw'],
  };
}
