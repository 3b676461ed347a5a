import type { Capture, TaskCapture } from '../capture/capture-file.js';
import type { MountEntry } from '../capture/mountinfo.js';
import { compareCaptures, type CompareOptions } from './compare.js';
import type { Comparison, Difference } from './difference.js';

/**
 * Comparing a restore that is expected to lack some mounts (`expect: {dropped: [...]}`): CRIU leaves
 * out what it is told to (`--skip-mnt PATH`: it logs "skip FS @ ./PATH"). Each listed mountpoint's top
 * mount, and every mount on it, is set aside in the before capture, and the rest is compared as
 * usual, so that any other difference still counts. A listed mountpoint that is still there after
 * restore (as many mounts on it as before), or that was no mount before the dump, is a difference
 * of its own, `mount-not-dropped`; that mount is then set aside on both sides, so that it is named
 * once.
 */
export function compareWithDropped(
  before: Capture,
  after: Capture,
  dropped: readonly string[],
  opts: CompareOptions = {},
): Comparison & { droppedAsExpected: string[] } {
  if (dropped.length === 0) return { ...compareCaptures(before, after, opts), droppedAsExpected: [] };
  const own: Difference[] = [];
  const setAsideAfter: string[] = [];
  const droppedAsExpected: string[] = [];
  for (const path of dropped) {
    const counts = before.tasks.map((b) => {
      const a = after.tasks.find((t) => t.key === b.key);
      return { before: mountsAt(b, path).length, after: a ? mountsAt(a, path).length : 0 };
    });
    if (counts.every((c) => c.before === 0)) {
      own.push({
        kind: 'mount-not-dropped',
        mount: path,
        sentence: `${path} is expected to be dropped by CRIU, but no task had a mount there before the dump`,
      });
    } else if (counts.some((c) => c.before > 0 && c.after >= c.before)) {
      own.push({
        kind: 'mount-not-dropped',
        mount: path,
        sentence: `${path} is expected to be dropped by CRIU (expect: dropped), but it is still mounted after restore`,
      });
      setAsideAfter.push(path);
    } else droppedAsExpected.push(path);
  }
  const cmp = compareCaptures(setAside(before, dropped), setAside(after, setAsideAfter), opts);
  const differences = [...own, ...cmp.differences];
  return { ...cmp, equivalent: cmp.equivalent && own.length === 0, differences, droppedAsExpected };
}

/** The mounts on a mountpoint in one task's view, lowest first as the kernel lists them. */
function mountsAt(task: TaskCapture, path: string): MountEntry[] {
  return task.mounts.filter((m) => m.mountPoint === path);
}

/** The capture without each path's top mount and the mounts below it in the tree. */
export function setAside(capture: Capture, paths: readonly string[]): Capture {
  if (paths.length === 0) return capture;
  return {
    ...capture,
    tasks: capture.tasks.map((task) => {
      const gone = new Set<number>();
      for (const path of paths) {
        const here = mountsAt(task, path);
        // The top of a stack is the one no other mount on the same mountpoint sits on.
        for (const m of here) if (!here.some((o) => o.parentId === m.mountId)) gone.add(m.mountId);
      }
      let grew = gone.size > 0;
      while (grew) {
        grew = false;
        for (const m of task.mounts) {
          if (!gone.has(m.mountId) && gone.has(m.parentId)) {
            gone.add(m.mountId);
            grew = true;
          }
        }
      }
      return { ...task, mounts: task.mounts.filter((m) => !gone.has(m.mountId)) };
    }),
  };
}
