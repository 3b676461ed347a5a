/**
 * A live check of where a write through a restored fd lands (issue 4).
 *
 * The captures say which inode an fd is open on and which paths named that
 * inode (fds.ts); this checks it the way the program would notice: after
 * restore, a marker is appended through the task's own open file
 * description (vm/helper's `fd-probe`: pidfd_getfd, then pwrite at the end
 * of the file, so the task's offset is untouched), and each path that
 * mattered before the dump is read back. In seed 004's `open a; link a b;
 * unlink a; creat a`, a write through a's fd must appear in b and not in the
 * new a.
 *
 * Probed: every fd of a task both captures have (matched by name, as in
 * compare.ts) that after restore is open for writing (O_WRONLY or O_RDWR,
 * not O_PATH) on a regular file, and whose before-counterpart (same fd
 * number) was a regular file that was deleted or had a `names` list. The
 * candidates are the paths that named its inode before the dump, and the
 * path it was open by (which after `creat a` names another file); the
 * marker must appear in exactly the former.
 *
 * 1. planFdProbes(before, after, nonce): the probes and the helper's stdin.
 * 2. The lab runs `mountlab-helper fd-probe` in the guest with that stdin,
 *    after the after-capture, while the restored tree is still alive (the
 *    probe writes to its files, so nothing may be captured after it).
 * 3. judgeFdProbes(plan, stdout): differences, notes and counts.
 */
import type { Capture, FdEntry } from '../capture/capture-file.js';
import { escapeMountinfo } from '../capture/mountinfo.js';
import type { FdProbeReplies } from '../capture/probe-answers.js';
import type { Difference } from './difference.js';
import { O_ACCMODE, O_PATH, onText, pairTaskCaptures } from './fds.js';
import { displayPath, listText, plural } from './text.js';

export interface FdProbe {
  /** The task's name (topology.ts), as in other differences. */
  task: string;
  fd: number;
  /** The restored task's pid, where the helper runs. */
  pid: number;
  /** The bytes appended through the fd (latin1, like paths). */
  marker: string;
  /** The paths that named the fd's inode before the dump: the marker must reach exactly these. */
  expected: string[];
  /** `expected`, then the path the fd was open by when that is not among them. */
  candidates: string[];
  /** The fd as captured before the dump. */
  before: FdEntry;
}

export interface FdProbePlan {
  probes: FdProbe[];
  /** stdin for `mountlab-helper fd-probe`; empty when there is nothing to probe (then do not run it). */
  input: string;
  /** Fds that qualified but cannot be probed, one sentence each. */
  notes: string[];
}

export interface FdProbeResult {
  /** Kind fd-write-misdirected, one per fd whose write landed wrong. */
  differences: Difference[];
  /** A summary with the counts first, then whatever could not be checked. */
  notes: string[];
  /** Fds planned, fds written through, and candidate paths whose verdict was judged. */
  planned: number;
  probed: number;
  checks: number;
}

/** The helper's tokens are separated by spaces, tabs, CR and LF; its escapes are mountinfo's. */
const esc = (s: string) => escapeMountinfo(s, '\r');

const fdName = (task: string, fd: number) => `task ${displayPath(task)} fd ${fd}`;

function writable(f: FdEntry): boolean {
  const acc = f.flags & O_ACCMODE;
  return !(f.flags & O_PATH) && (acc === 1 || acc === 2);
}

/**
 * Chooses the fds to probe (see the top of this file) and writes the
 * helper's input. `nonce` makes the markers of this run unique (any text;
 * a random one in the lab, a fixed one in tests).
 */
export function planFdProbes(before: Capture, after: Capture, nonce: string): FdProbePlan {
  const probes: FdProbe[] = [];
  const notes: string[] = [];
  for (const pair of pairTaskCaptures(before, after)) {
    const byFd = new Map(pair.before.fds.map((f) => [f.fd, f]));
    for (const a of [...pair.after.fds].sort((x, y) => x.fd - y.fd)) {
      const b = byFd.get(a.fd);
      if (!b || a.type !== 'file' || b.type !== 'file' || !writable(a)) continue;
      if (b.names === undefined && !b.deleted) continue;
      const name = fdName(pair.name, a.fd);
      let expected: string[];
      if (b.names !== undefined) expected = b.deleted ? b.names : [...new Set([...b.names, b.path])];
      else if (b.nlink === 0) expected = [];
      else {
        const why = b.namesError !== undefined ? `its names were not found (${b.namesError})` : 'it has no names list';
        notes.push(
          `${name} (${onText(b)}): not probed: in the capture before the dump ${why}, ` +
            'so where a write should land is unknown',
        );
        continue;
      }
      const candidates = expected.includes(b.path) ? [...expected] : [...expected, b.path];
      const marker = `mountlab-fd-probe:${nonce}:${probes.length + 1}\n`;
      probes.push({ task: pair.name, fd: a.fd, pid: pair.after.pid, marker, expected, candidates, before: b });
    }
  }
  const input = probes.map((p) => `${[p.pid, p.fd, esc(p.marker), ...p.candidates.map(esc)].join(' ')}\n`).join('');
  return { probes, input, notes };
}

/** Judges the helper's answers for `plan` (capture/probe-answers.ts reads them). */
export function judgeFdProbes(plan: FdProbePlan, replies: FdProbeReplies): FdProbeResult {
  const differences: Difference[] = [];
  const notes = replies.unread.map(
    (line) => `fd probe: the helper answered a line this lab does not read: ${JSON.stringify(line.slice(0, 200))}`,
  );
  // Each answer is used once: a copy, so that the caller's replies stay as they were.
  const answers = new Map([...replies.byFd].map(([k, v]) => [k, [...v]]));
  let probed = 0;
  let checks = 0;
  for (const p of plan.probes) {
    const name = fdName(p.task, p.fd);
    const ans = answers.get(`${p.pid} ${p.fd}`)?.shift();
    if (!ans) {
      notes.push(`${name} (${onText(p.before)}): not probed: the helper gave no answer for it`);
      continue;
    }
    if (!ans.ok) {
      const old =
        ans.errno === 'ENOSYS' && ans.step?.startsWith('pidfd')
          ? ` (the kernel has no ${ans.step}: it needs Linux 5.6+)`
          : '';
      notes.push(`${name} (${onText(p.before)}): not probed: ${ans.step} failed with ${ans.errno}${old}`);
      continue;
    }
    probed++;
    const wrong: string[] = [];
    const lost: string[] = [];
    const gone: string[] = [];
    for (const c of p.candidates) {
      const v = ans.verdicts.get(c);
      const should = p.expected.includes(c);
      if (v === undefined || !['yes', 'no', 'missing'].includes(v)) {
        notes.push(
          `${name}: the probe could not check ${displayPath(c)}: ` +
            (v === undefined ? 'the helper did not answer for it' : `reading it failed with ${v}`),
        );
        continue;
      }
      checks++;
      if (should && v === 'no') lost.push(displayPath(c));
      else if (should && v === 'missing') gone.push(displayPath(c));
      else if (!should && v === 'yes') wrong.push(displayPath(c));
    }
    if (!wrong.length && !lost.length && !gone.length) continue;
    const parts: string[] = [];
    if (wrong.length)
      parts.push(
        `reached ${listText(wrong)}, ` +
          `which ${wrong.length === 1 ? 'was not a name' : 'were not names'} of its file before the dump`,
      );
    if (lost.length) parts.push(`did not reach ${listText(lost)}, which named its file before the dump`);
    if (gone.length) parts.push(`found no file at ${listText(gone)}, which named its file before the dump`);
    const should = p.expected.length
      ? `it should reach exactly ${listText(p.expected.map(displayPath))}`
      : 'its file had no name left before the dump, so it should reach none of these paths';
    differences.push({
      kind: 'fd-write-misdirected',
      task: p.task,
      tasks: [p.task],
      sentence: `${name} (${onText(p.before)}): a write through it ${parts.join(', and ')}; ${should}`,
    });
  }
  for (const [key, rest] of answers) {
    if (rest.length) notes.push(`fd probe: the helper answered for pid and fd ${key}, which was not asked`);
  }
  const summary =
    `fd probe: ${plural(plan.probes.length, 'fd')} to probe, ${probed} written through, ` +
    `${plural(checks, 'path')} checked, ${differences.length} misdirected`;
  return { differences, notes: [summary, ...plan.notes, ...notes], planned: plan.probes.length, probed, checks };
}
