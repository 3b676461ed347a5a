import { unescapeMountinfo } from './mountinfo.js';

/**
 * What the guest's helper answers to the live probes, read into data here
 * and nowhere else: the guest client returns these, compare/ judges them.
 */

/** One propagation probe: `mounted`, `mount-failed: MESSAGE` or `umount-failed`, and where its marker showed up. */
export interface PropagationProbeSeen {
  status: string;
  /** Each copy of the marker: seen by PID as mount ID on parent PARENT. */
  copies: { pid: number; id: number; parent: number }[];
}

/** By probe number. */
export type PropagationProbeReplies = Map<number, PropagationProbeSeen>;

/**
 * vm/helper/probe.c's output: per probe `@probe K mounted` then `@in PID
 * <mountinfo line>` for each copy of the marker in the namespace PID
 * views, or `@probe K mount-failed MESSAGE`; `@probe K umount-failed` when
 * the marker could not be taken away again.
 */
export function readPropagationProbeOutput(output: string): PropagationProbeReplies {
  const byK: PropagationProbeReplies = new Map();
  let current: PropagationProbeSeen | undefined;
  for (const line of output.split('\n')) {
    const p = line.match(/^@probe (\d+) (\S+)(?: (.*))?$/);
    if (p) {
      if (p[2] === 'umount-failed') {
        const e = byK.get(Number(p[1]));
        if (e) e.status = 'umount-failed';
        continue;
      }
      current = { status: p[3] ? `${p[2]}: ${p[3]}` : p[2]!, copies: [] };
      byK.set(Number(p[1]), current);
      continue;
    }
    const c = line.match(/^@in (\d+) (\d+) (\d+) /);
    if (c && current) current.copies.push({ pid: Number(c[1]), id: Number(c[2]), parent: Number(c[3]) });
  }
  return byK;
}

/** One fd write probe's answer. */
export interface FdProbeReply {
  ok: boolean;
  /** ok: the verdict by (unescaped) candidate path. */
  verdicts: Map<string, string>;
  /** not ok: the step that failed and its errno name. */
  step?: string;
  errno?: string;
}

export interface FdProbeReplies {
  /** By "PID FD", in the order the helper answered. */
  byFd: Map<string, FdProbeReply[]>;
  /** Lines this lab does not read, as the helper wrote them. */
  unread: string[];
}

/** The helper's `fd-probe` output: `probe PID FD ok VERDICT:PATH...` or `probe PID FD error STEP ERRNO`. */
export function readFdProbeOutput(output: string): FdProbeReplies {
  const byFd = new Map<string, FdProbeReply[]>();
  const unread: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    const w = line.trim().split(/[ \t]+/);
    let answer: FdProbeReply | undefined;
    if (w[0] === 'probe' && w[3] === 'ok') {
      const verdicts = new Map<string, string>();
      for (const t of w.slice(4)) {
        const colon = t.indexOf(':');
        if (colon > 0) verdicts.set(unescapeMountinfo(t.slice(colon + 1)), t.slice(0, colon));
      }
      answer = { ok: true, verdicts };
    } else if (w[0] === 'probe' && w[3] === 'error' && w.length === 6) {
      answer = { ok: false, verdicts: new Map(), step: w[4]!, errno: w[5]! };
    }
    if (!answer) {
      unread.push(line);
      continue;
    }
    const key = `${w[1]} ${w[2]}`;
    const l = byFd.get(key);
    if (l) l.push(answer);
    else byFd.set(key, [answer]);
  }
  return { byFd, unread };
}
