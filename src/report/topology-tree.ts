import { displayPath } from '../compare/text.js';
import type { GroupRef, PeerGroup, Topology, TopoMount } from '../compare/topology.js';

/** Plain text for terminals and mail: lines are cut to this many columns. */
export const TREE_WIDTH = 79;

/**
 * A topology as indented trees, one per mount namespace, for summary.md:
 *
 *   ns#1: init, child
 *   /            overlay mountlab-root
 *   ├─ /w        tmpfs w                  shared:A
 *   │  └─ sub    tmpfs sub                shared:B master:A
 *   └─ /a        tmpfs w [/sub]           master:A
 *
 * Peer groups are lettered in the order the canonical tree meets them, not
 * by their kernel numbers, so the before and after trees of an unchanged
 * topology read the same. A master outside the capture (the host's) is
 * `master:ext1`.
 */
export function renderTopologyTree(t: Topology, maxLines = 60): string[] {
  const letters = new Map<PeerGroup, string>();
  const external = new Map<number, string>();
  const letter = (g: PeerGroup) => {
    if (!letters.has(g)) letters.set(g, groupLetter(letters.size));
    return letters.get(g)!;
  };
  const ref = (r: GroupRef) => {
    if (r.kind === 'group') return letter(r.group);
    if (!external.has(r.id)) external.set(r.id, `ext${external.size + 1}`);
    return external.get(r.id)!;
  };
  // Letter the groups in canonical order first, so a slave's master has its letter even when the master comes later.
  for (const m of t.mounts) if (m.peerGroup) letter(m.peerGroup);

  const lines: string[] = [];
  for (const ns of t.namespaces) {
    lines.push(`${ns.label}: ${ns.tasks.map((x) => displayPath(x.name)).join(', ') || '(no task)'}`);
    const walk = (m: TopoMount, prefix: string, last: boolean, depth: number) => {
      const branch = depth === 0 ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
      const where = depth === 0 ? displayPath(m.mountPoint) : displayPath(relativeTo(m));
      const root = m.root === '/' ? '' : ` [${displayPath(m.root)}]`;
      const what = `${displayPath(m.fsType)} ${displayPath(m.source)}${root}`;
      const prop = [
        m.peerGroup ? `shared:${letter(m.peerGroup)}` : '',
        m.master ? `master:${ref(m.master)}` : '',
        m.unbindable ? 'unbindable' : '',
        m.mountOptions.includes('ro') ? 'ro' : '',
      ]
        .filter(Boolean)
        .join(' ');
      lines.push(fit(`${branch}${where}`, what, prop));
      const next = depth === 0 ? '' : `${prefix}${last ? '   ' : '│  '}`;
      for (const [i, c] of m.children.entries()) walk(c, next, i === m.children.length - 1, depth + 1);
    };
    for (const r of ns.roots) walk(r, '', true, 0);
  }
  if (lines.length > maxLines)
    return [...lines.slice(0, maxLines - 1), `... ${lines.length - maxLines + 1} more lines`];
  return lines;
}

/** A, B, ... Z, AA, AB ... */
function groupLetter(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** The mountpoint relative to the parent's ('' when stacked on it, shown as "(on top)"). */
function relativeTo(m: TopoMount): string {
  const parent = m.parent?.mountPoint ?? '/';
  if (m.mountPoint === parent) return '(on top)';
  const base = parent.endsWith('/') ? parent : `${parent}/`;
  return m.mountPoint.startsWith(base) ? m.mountPoint.slice(base.length) : m.mountPoint;
}

/**
 * Three columns, the first two cut with "…" so the line stays within
 * TREE_WIDTH; the propagation labels are kept whole.
 */
function fit(where: string, what: string, prop: string): string {
  let base = `${where.padEnd(Math.max(where.length + 1, 24))}${what}`;
  const room = prop ? TREE_WIDTH - prop.length - 1 : TREE_WIDTH;
  if (base.length > room) base = `${base.slice(0, Math.max(room - 1, 1))}…`;
  return prop ? `${base.padEnd(Math.min(Math.max(base.length + 1, 50), room + 1))}${prop}` : base;
}
