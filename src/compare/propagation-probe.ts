/**
 * Live propagation probes (issue 4): the captures say which mounts share
 * peer groups and who is whose master, as numbers in mountinfo; a probe
 * asks the kernel. After the restored tree has been captured and compared,
 * a small tmpfs (the marker) is mounted on top of a mount that propagates
 * or receives, the kernel's copies of it are looked for in every namespace
 * of the tree, and the marker is unmounted again. The copies must sit
 * exactly on the counterparts of the mounts that the before-dump
 * propagation graph says would receive it, and nowhere else: restoring the
 * right numbers with the wrong live groups (or the reverse) is a failure.
 *
 * What the kernel does (fs/pnode.c propagate_mnt), and so what is predicted:
 * a mount made under M is copied to every other member of M's peer group,
 * to every slave of that group, and on through each slave's own group and
 * slaves; a receiver gets the copy only if the mountpoint's dentry lies
 * within its root (is_subdir), i.e. its root is M's root or above it. The
 * marker is mounted on M's root, so a receiver qualifies when its root is a
 * prefix of M's. Mounts outside the captured tree (the guest's own, which
 * may be masters of external mounts) are not seen and not predicted.
 *
 * 1. planPropagationProbes(before, after, nonce): the probes and the stdin
 *    of `labctl probe` (vm/runtime/labctl).
 * 2. labctl mounts, looks and unmounts, one probe at a time.
 * 3. judgePropagationProbes(plan, stdout): differences, notes and counts.
 */
import { buildTopology, type PeerGroup, type Topology, type TopoMount } from './topology.js';
import { matchTopologies } from './match.js';
import type { Capture } from '../capture/capture-file.js';
import type { PropagationProbeReplies } from '../capture/probe-answers.js';
import type { Difference } from './difference.js';
import { listText, plural } from './text.js';

export interface PropagationProbe {
  /** 1-based; the marker's source is `mlprobe-NONCE-K`. */
  k: number;
  /** The probed mount, by its before-dump label (as in every difference). */
  mount: string;
  /** Why it is probed: its propagation before the dump, e.g. 'shared:3 master:1'. */
  state: string;
  /** Where the marker is mounted: the after-mount's view task and mountpoint. */
  pid: number;
  path: string;
  /** The after-mount's id in its namespace, to recognise the marker that landed on it. */
  afterId: number;
  /** Before-labels of the mounts that must receive a copy (the probed mount excluded). */
  expected: string[];
}

export interface PropagationProbePlan {
  nonce: string;
  probes: PropagationProbe[];
  /** Propagating mounts that were not probed, each with why. */
  skipped: string[];
  /** The stdin of `labctl probe ID`. */
  input: string;
  /** After-mounts by "pid:id" of their namespace's view task, to name where copies landed. */
  afterByViewId: Map<string, { label: string; before?: string }>;
}

export interface PropagationProbeResult {
  differences: Difference[];
  /** Probes whose marker landed and was judged. */
  checks: number;
  /** Receivers checked, summed over probes (each predicted or observed copy). */
  copiesChecked: number;
  notes: string[];
}

/** More would cost seconds per scenario under TCG for no new information. */
export const MAX_PROBES = 64;

function isPrefixRoot(receiverRoot: string, senderRoot: string): boolean {
  return receiverRoot === '/' || receiverRoot === senderRoot || senderRoot.startsWith(`${receiverRoot}/`);
}

/** Every mount a new mount under `m` propagates to, per propagate_mnt, without the root filter. */
export function propagationReach(m: TopoMount, t: Topology): Set<TopoMount> {
  const slavesOf = new Map<number, TopoMount[]>();
  for (const x of t.mounts) {
    if (x.master?.kind === 'group') {
      const list = slavesOf.get(x.master.id) ?? [];
      list.push(x);
      slavesOf.set(x.master.id, list);
    }
  }
  const reach = new Set<TopoMount>();
  const seen = new Set<PeerGroup>();
  const visit = (g: PeerGroup) => {
    if (seen.has(g)) return;
    seen.add(g);
    for (const peer of g.members) reach.add(peer);
    for (const slave of slavesOf.get(g.id) ?? []) {
      reach.add(slave);
      if (slave.peerGroup) visit(slave.peerGroup);
    }
  };
  if (m.peerGroup) visit(m.peerGroup);
  reach.delete(m);
  return reach;
}

const underOrAt = (path: string, dir: string) => path === dir || dir === '/' || path.startsWith(`${dir}/`);

/**
 * The mount that hides `m` from path lookup in its namespace, if any: one at
 * m's mountpoint or above it that is not on m's parent chain (stacked on
 * m, or on a mountpoint above m). A marker mounted by path would land on it.
 * Lookups start at the task's root and never step onto what is stacked on
 * that root, so mounts at / hide nothing below them; of those at / only the
 * lowest, the root itself, is what "/" reaches.
 */
export function coveredBy(m: TopoMount): TopoMount | undefined {
  if (m.mountPoint === '/') return m.parent?.mountPoint === '/' ? m.parent : undefined;
  const chain = new Set<TopoMount>();
  for (let p: TopoMount | undefined = m; p; p = p.parent) chain.add(p);
  return m.ns.mounts.find((n) => !chain.has(n) && n.mountPoint !== '/' && underOrAt(m.mountPoint, n.mountPoint));
}

function stateOf(m: TopoMount): string {
  const parts: string[] = [];
  if (m.entry.shared !== undefined) parts.push(`shared:${m.entry.shared}`);
  if (m.entry.master !== undefined) parts.push(`master:${m.entry.master}`);
  return parts.join(' ');
}

/**
 * Every byte as a \ooo escape: labctl turns it back with dash's printf, and
 * no byte can be a shell or format character.
 */
export function octalPath(path: string): string {
  return [...Buffer.from(path, 'latin1')].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
}

export function planPropagationProbes(before: Capture, after: Capture, nonce: string): PropagationProbePlan {
  const bt = buildTopology(before);
  const at = buildTopology(after);
  const match = matchTopologies(bt, at);
  const probes: PropagationProbe[] = [];
  const skipped: string[] = [];
  const afterByViewId = new Map<string, { label: string; before?: string }>();
  for (const a of at.mounts) {
    if (!a.ns.view) continue;
    const b = match.back.get(a);
    afterByViewId.set(`${a.ns.view.pid}:${a.entry.mountId}`, { label: a.label, ...(b ? { before: b.label } : {}) });
  }
  for (const m of bt.mounts) {
    if (!m.peerGroup && m.master === undefined) continue;
    const a = match.mounts.get(m);
    if (!a) {
      skipped.push(`${m.label}: no counterpart after restore (reported by the comparison)`);
      continue;
    }
    if (!a.ns.view) {
      skipped.push(`${m.label}: its namespace has no task to enter`);
      continue;
    }
    const cover = coveredBy(a);
    if (cover) {
      skipped.push(
        a.mountPoint === '/'
          ? `${m.label}: stacked on the task's root, and "/" names the root; no path reaches it`
          : `${m.label}: no path reaches it (covered by ${match.back.get(cover)?.label ?? cover.label})`,
      );
      continue;
    }
    if (a.mountPoint === '/' && a.ns.view.root !== undefined && a.ns.view.root !== '/') {
      skipped.push(`${m.label}: the root of a chrooted view, which the marker could not be taken off again`);
      continue;
    }
    if (probes.length >= MAX_PROBES) {
      skipped.push(`${m.label}: over the limit of ${MAX_PROBES} probes per scenario`);
      continue;
    }
    const expected = [...propagationReach(m, bt)]
      .filter((r) => isPrefixRoot(r.root, m.root) && match.mounts.has(r))
      .map((r) => r.label)
      .sort();
    probes.push({
      k: probes.length + 1,
      mount: m.label,
      state: stateOf(m),
      pid: a.ns.view.pid,
      path: a.mountPoint,
      afterId: a.entry.mountId,
      expected,
    });
  }
  const pids = [...new Set(at.namespaces.flatMap((ns) => (ns.view ? [ns.view.pid] : [])))];
  const lines = [`@reps ${pids.join(' ')}`, ...probes.map((p) => `${p.k} ${p.pid} ${octalPath(p.path)}`)];
  const input = `${lines.join('\n')}\n`;
  return { nonce, probes, skipped, input, afterByViewId };
}

/** Judges the helper's answers for `plan` (capture/probe-answers.ts reads them). */
export function judgePropagationProbes(
  plan: PropagationProbePlan,
  byK: PropagationProbeReplies,
): PropagationProbeResult {
  const differences: Difference[] = [];
  const notes: string[] = [];
  let checks = 0;
  let copiesChecked = 0;
  for (const probe of plan.probes) {
    const seen = byK.get(probe.k);
    const what = `a mount made on ${probe.mount} (${probe.state} before the dump)`;
    if (!seen) {
      notes.push(`probe ${probe.k} (${probe.mount}) did not run`);
      continue;
    }
    if (seen.status.startsWith('mount-failed')) {
      notes.push(
        `probe ${probe.k} (${probe.mount}): ` +
          `the marker could not be mounted (${seen.status.replace(/^mount-failed: /, '')})`,
      );
      continue;
    }
    const landed = seen.copies.find((c) => c.pid === probe.pid && c.parent === probe.afterId);
    if (!landed) {
      // The path reaches another mount (the probed one is covered): what
      // propagates from there says nothing about this mount.
      notes.push(`probe ${probe.k} (${probe.mount}): not reachable by its path (covered by another mount), not judged`);
      continue;
    }
    checks++;
    if (seen.status === 'umount-failed')
      notes.push(`probe ${probe.k} (${probe.mount}): the marker could not be unmounted afterwards`);
    const observed = new Set<string>();
    const unknown: string[] = [];
    for (const c of seen.copies) {
      if (c === landed) continue;
      const parent = plan.afterByViewId.get(`${c.pid}:${c.parent}`);
      if (!parent) unknown.push(`mount ${c.parent} seen by pid ${c.pid}`);
      else observed.add(parent.before ?? `${parent.label} (after restore; no counterpart before)`);
    }
    const expected = new Set(probe.expected);
    copiesChecked += new Set([...expected, ...observed]).size;
    const missing = [...expected].filter((e) => !observed.has(e)).sort();
    const extra = [...observed, ...unknown].filter((o) => !expected.has(o)).sort();
    if (missing.length) {
      differences.push({
        kind: 'propagation-missing',
        mount: probe.mount,
        mounts: [probe.mount, ...missing],
        sentence:
          `${what} did not propagate to ${listText(missing)}, ` +
          `which ${missing.length === 1 ? 'was its peer or slave' : 'were its peers or slaves'} ` +
          'before the dump (live probe)',
      });
    }
    if (extra.length) {
      differences.push({
        kind: 'propagation-extra',
        mount: probe.mount,
        mounts: [probe.mount, ...extra],
        sentence:
          `${what} propagated to ${listText(extra)}, ` +
          `which ${extra.length === 1 ? 'was' : 'were'} neither its peer nor its slave before the dump (live probe)`,
      });
    }
  }
  if (plan.skipped.length)
    notes.push(`${plural(plan.skipped.length, 'propagating mount')} not probed: ${plan.skipped.join('; ')}`);
  return { differences, checks, copiesChecked, notes };
}
