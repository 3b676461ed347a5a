/**
 * The lab's capture format: the mountinfo of every task of the checkpointed
 * tree, each under a header the guest prints (vm/runtime/labctl):
 *
 *   @task <key> pid=<pid> mntns=<ns inode> [cwd=<escaped path>] [root=<escaped path>]
 *   <that task's /proc/PID/mountinfo, verbatim>
 *
 * A plain mountinfo file (no `@` line) is one task with key `init`, so a
 * file copied from /proc can be compared directly. An empty (or blank) text
 * is a capture of no task.
 *
 * Like mountinfo, a capture is bytes: decode it as latin1 (see mountinfo.ts).
 * Line numbers in errors and in MountEntry.line are those of the whole file.
 */
import { escapeMountinfo, MountinfoParseError, formatMountinfoLine, parseMountinfoLine, unescapeMountinfo, type MountEntry } from './mountinfo.js';

export interface TaskCapture {
  /** Stable name given by the lab; pids and namespace inodes are not stable across a restore. */
  key: string;
  pid: number;
  /** The mount namespace's inode number, as text; only equality within one capture means anything. */
  mntNs: string;
  cwd?: string;
  root?: string;
  mounts: MountEntry[];
}

export interface Capture {
  tasks: TaskCapture[];
}

const BLANK = /^[ \t\r]*$/;

export function parseCapture(text: string, file?: string): Capture {
  const lines = text.split('\n');
  // Nothing at all is no task, so that formatCapture({ tasks: [] }) reads back;
  // a live task's mountinfo is never empty.
  if (lines.every((l) => BLANK.test(l))) return { tasks: [] };
  const hasHeaders = lines.some((l) => l.startsWith('@'));
  if (!hasHeaders) {
    const mounts: MountEntry[] = [];
    lines.forEach((l, i) => {
      if (!BLANK.test(l)) mounts.push(parseMountinfoLine(l, i + 1, file));
    });
    return { tasks: [{ key: 'init', pid: 0, mntNs: '', mounts }] };
  }
  const tasks: TaskCapture[] = [];
  let current: TaskCapture | undefined;
  lines.forEach((l, i) => {
    const lineNo = i + 1;
    if (BLANK.test(l)) return;
    if (l.startsWith('@')) {
      current = parseHeader(l, lineNo, file);
      tasks.push(current);
      return;
    }
    if (!current) throw new MountinfoParseError("mountinfo line before the first '@task' header", file, lineNo, 1);
    current.mounts.push(parseMountinfoLine(l, lineNo, file));
  });
  // Duplicate keys are accepted: a child that inherits MOUNTLAB_TASK from its
  // parent carries the parent's key, and refusing the capture would turn a
  // comparable run into an error. buildTopology() tells the copies apart.
  return { tasks };
}

function parseHeader(l: string, line: number, file: string | undefined): TaskCapture {
  const fail = (reason: string, col: number): never => {
    throw new MountinfoParseError(reason, file, line, col);
  };
  const words: { text: string; col: number }[] = [];
  let start = 0;
  for (let i = 0; i <= l.length; i++) {
    if (i === l.length || l[i] === ' ') {
      if (i > start) words.push({ text: l.slice(start, i), col: start + 1 });
      start = i + 1;
    }
  }
  if (words[0]!.text !== '@task') fail(`unknown directive ${JSON.stringify(words[0]!.text)}: expected '@task'`, 1);
  const keyWord = words[1];
  if (!keyWord) fail("expected a task key after '@task'", l.length + 1);
  if (keyWord!.text.includes('=')) fail(`expected a task key after '@task', found the attribute ${JSON.stringify(keyWord!.text)}`, keyWord!.col);
  const attrs = new Map<string, { value: string; col: number }>();
  for (const w of words.slice(2)) {
    const eq = w.text.indexOf('=');
    if (eq <= 0) fail(`expected name=value, found ${JSON.stringify(w.text)}`, w.col);
    const name = w.text.slice(0, eq);
    if (attrs.has(name)) fail(`attribute ${name} appears twice`, w.col);
    attrs.set(name, { value: w.text.slice(eq + 1), col: w.col + eq + 1 });
  }
  const pid = attrs.get('pid');
  if (!pid) fail('expected pid=<number> in the @task header', l.length + 1);
  if (!/^\d+$/.test(pid!.value)) fail(`expected pid=<number>, found pid=${JSON.stringify(pid!.value)}`, pid!.col);
  const ns = attrs.get('mntns');
  if (!ns) fail('expected mntns=<namespace inode> in the @task header', l.length + 1);
  // Other attributes are ignored, so a newer guest script can add some.
  const t: TaskCapture = { key: unescapeMountinfo(keyWord!.text), pid: Number(pid!.value), mntNs: unescapeMountinfo(ns!.value), mounts: [] };
  const cwd = attrs.get('cwd');
  if (cwd) t.cwd = unescapeMountinfo(cwd.value);
  const root = attrs.get('root');
  if (root) t.root = unescapeMountinfo(root.value);
  return t;
}

/** Writes a capture that parseCapture() reads back to an equal one (but for MountEntry.line). */
export function formatCapture(c: Capture): string {
  const out: string[] = [];
  for (const t of c.tasks) {
    if (t.key === '') throw new Error('formatCapture: a task key cannot be empty');
    // '=' is escaped in the key, so a key can never read back as an attribute.
    let h = `@task ${escapeMountinfo(t.key, '=')} pid=${t.pid} mntns=${escapeMountinfo(t.mntNs)}`;
    if (t.cwd !== undefined) h += ` cwd=${escapeMountinfo(t.cwd)}`;
    if (t.root !== undefined) h += ` root=${escapeMountinfo(t.root)}`;
    out.push(h);
    for (const m of t.mounts) out.push(formatMountinfoLine(m));
  }
  return out.join('\n') + '\n';
}
