/**
 * The vocabulary of the comparator's sentences: how a mount, a peer group, a
 * master link and a propagation state are named for a kernel developer.
 * Every after-restore mount is named in before terms where it has a
 * counterpart, so one mount keeps one name throughout a report.
 */
import { byText, displayPath, listText } from './text.js';
import type { GroupRef, PeerGroup, TopoMount } from './topology.js';

export type Side = 'before' | 'after';

export interface Namer {
  /** The label of a mount, in before terms when it has a counterpart. */
  label(m: TopoMount, side: Side): string;
}

/** "tmpfs on /w/x, root /" with the source when it says something the type does not. */
export function mountSummary(m: TopoMount): string {
  const src = m.source && m.source !== m.fsType && m.source !== 'none' ? ` from ${displayPath(m.source)}` : '';
  return `${displayPath(m.fsType)}${src} on ${displayPath(m.mountPoint)}, root ${displayPath(m.root)}`;
}

/** "the peer group of /w/b", named by its member that sorts first. */
export function groupName(g: PeerGroup, side: Side, namer: Namer): string {
  const labels = g.members.map((m) => namer.label(m, side)).sort(byText);
  return `the peer group of ${labels[0]}`;
}

/** master:N (or propagate_from:N) as a phrase that completes "X is ...". */
export function masterText(
  r: GroupRef,
  side: Side,
  namer: Namer,
  field: 'master' | 'propagate_from' = 'master',
): string {
  const num = `${field}:${r.id}`;
  if (r.kind === 'group') return `a slave of ${groupName(r.group, side, namer)} (${num})`;
  return `a slave of ${outsideName(r)} (${num})`;
}

/** Where propagate_from:N points, as a noun phrase. */
export function propagateFromText(r: GroupRef | undefined, side: Side, namer: Namer): string {
  if (!r) return 'none';
  if (r.kind === 'group') return `${groupName(r.group, side, namer)} (propagate_from:${r.id})`;
  return `${outsideName(r)} (propagate_from:${r.id})`;
}

/** A group outside the capture, by the outside mounts that carry it when the capture lists them. */
function outsideName(r: GroupRef & { kind: 'external' }): string {
  if (!r.outside) return 'a peer group outside the capture';
  if (r.outside.length === 0) return 'a peer group that no mount outside the tree carries';
  return `the host group of ${listText(r.outside.map(displayPath))}`;
}

/**
 * The whole propagation state, completing "X is ...": "private",
 * "shared (shared:3, peer of /a) and a slave of ...". `peers` are the other
 * members worth naming.
 */
export function stateText(m: TopoMount, side: Side, namer: Namer, peers: readonly string[] = []): string {
  const parts: string[] = [];
  if (m.peerGroup) parts.push(`shared (shared:${m.peerGroup.id}${peers.length ? `, peer of ${listText(peers)}` : ''})`);
  if (m.master) parts.push(masterText(m.master, side, namer));
  if (m.unbindable) parts.push('unbindable');
  if (parts.length === 0) return 'private';
  return parts.join(' and ');
}

/** Subject of a sentence about one or several mounts, with the verb forms that agree with it. */
export function subject(labels: readonly string[]): { text: string; was: string; is: string; has: string } {
  const one = labels.length === 1;
  return {
    text: listText(labels),
    was: one ? 'was' : 'were',
    is: one ? 'it is' : 'they are',
    has: one ? 'has' : 'have',
  };
}

/** "a,b" option lists for sentences. */
export function optionsText(opts: readonly string[]): string {
  return opts.length ? displayPath(opts.join(',')) : '(none)';
}
