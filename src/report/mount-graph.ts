import { displayPath } from '../compare/text.js';
import type { Matching } from '../compare/match.js';
import type { GroupRef, PeerGroup, Topology, TopoMount } from '../compare/topology.js';

/**
 * A topology as an SVG picture for index.html: one box per mount
 * namespace holding its mount tree as indented rows (a file-manager
 * layout: one row per mount, so nothing can overlap however wide or deep
 * the tree is), peer groups colour-coded, and master -> slave arrows routed
 * in lanes to the right of the boxes. Pure: text in, text out.
 */

/** What the picture says about one mount compared with the other side. */
export type MountMark = 'changed' | 'added' | 'lost';

/** Letters of peer groups (A, B, ...) and names of masters outside the capture (ext1, ...). */
export interface GroupNames {
  groups: Map<PeerGroup, string>;
  external: Map<number, string>;
}

export interface GraphOptions {
  /** Accessible name of the picture. */
  title?: string;
  /** Default: canonicalGroupNames(t). Pass pairedGroupNames() to colour before and after alike. */
  names?: GroupNames;
  marks?: Map<TopoMount, MountMark>;
  /** Rows beyond this are left out (and counted), so a runaway scenario cannot make a huge page. */
  maxMounts?: number;
}

/**
 * Twelve colours that tell apart on white and in print; no red, which
 * marks differences. Keyed by the group's letter, so group A is always
 * blue, in every picture of the page.
 */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#a6a000',
  '#393b79',
  '#637939',
  '#7b4173',
  '#6b6ecf',
] as const;
export const DIFF_COLOUR = '#d62728';
const EXTERNAL_COLOUR = '#555555';

export function groupColour(letter: string): string {
  let i = 0;
  for (const ch of letter) i = i * 26 + (ch.charCodeAt(0) - 64);
  return PALETTE[(Math.max(i, 1) - 1) % PALETTE.length]!;
}

/** A, B, ... Z, AA, AB ...: the lettering of topology-tree.ts (summary.md). */
export function groupLetter(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/**
 * The letters summary.md uses: groups in the order the canonical mount
 * list meets them, external masters in the order the tree walk meets them.
 */
export function canonicalGroupNames(t: Topology): GroupNames {
  const groups = new Map<PeerGroup, string>();
  for (const m of t.mounts)
    if (m.peerGroup && !groups.has(m.peerGroup)) groups.set(m.peerGroup, groupLetter(groups.size));
  const external = new Map<number, string>();
  const note = (r: GroupRef | undefined) => {
    if (r?.kind === 'external' && !external.has(r.id)) external.set(r.id, `ext${external.size + 1}`);
  };
  for (const m of dfs(t)) note(m.mount.master);
  return { groups, external };
}

/**
 * Before keeps the canonical letters; an after group takes the letter of
 * the before group most of its (matched) members came from, so one group
 * has one colour in both pictures even when an extra or a lost mount
 * shifts the canonical order. Groups that are new after the restore get
 * fresh letters.
 */
export function pairedGroupNames(
  before: Topology,
  after: Topology,
  M: Matching,
): { before: GroupNames; after: GroupNames } {
  const b = canonicalGroupNames(before);
  const groups = new Map<PeerGroup, string>();
  const taken = new Set<string>();
  const afterGroups: PeerGroup[] = [];
  for (const m of after.mounts) if (m.peerGroup && !afterGroups.includes(m.peerGroup)) afterGroups.push(m.peerGroup);
  const wanted = (g: PeerGroup): string[] => {
    const votes = new Map<string, number>();
    for (const a of g.members) {
      const bg = M.back.get(a)?.peerGroup;
      const l = bg && b.groups.get(bg);
      if (l) votes.set(l, (votes.get(l) ?? 0) + 1);
    }
    return [...votes].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([l]) => l);
  };
  for (const g of afterGroups) {
    const l = wanted(g).find((x) => !taken.has(x));
    if (l) {
      groups.set(g, l);
      taken.add(l);
    }
  }
  let next = b.groups.size;
  for (const g of afterGroups) {
    if (groups.has(g)) continue;
    while (taken.has(groupLetter(next))) next++;
    groups.set(g, groupLetter(next));
    taken.add(groupLetter(next));
  }
  const external = new Map<number, string>();
  const extTaken = new Set<string>();
  const walk = dfs(after);
  for (const { mount } of walk) {
    const r = mount.master;
    if (r?.kind !== 'external' || external.has(r.id)) continue;
    const br = M.back.get(mount)?.master;
    const name = br?.kind === 'external' ? b.external.get(br.id) : undefined;
    if (name && !extTaken.has(name)) {
      external.set(r.id, name);
      extTaken.add(name);
    }
  }
  let n = b.external.size;
  for (const { mount } of walk) {
    const r = mount.master;
    if (r?.kind !== 'external' || external.has(r.id)) continue;
    while (extTaken.has(`ext${n + 1}`)) n++;
    external.set(r.id, `ext${n + 1}`);
    extTaken.add(`ext${n + 1}`);
  }
  return { before: b, after: { groups, external } };
}

interface Walked {
  mount: TopoMount;
  depth: number;
}

/** Namespace by namespace, each tree depth first in canonical order: the order of the rows. */
function dfs(t: Topology): Walked[] {
  const out: Walked[] = [];
  for (const ns of t.namespaces) {
    const walk = (m: TopoMount, depth: number) => {
      out.push({ mount: m, depth });
      for (const c of m.children) walk(c, depth + 1);
    };
    for (const r of ns.roots) walk(r, 0);
  }
  return out;
}

// Geometry. The font is monospace so a label's width is its length times
// CHAR_W (DejaVu Sans Mono advances 7.22 px at 12 px; others are close).
const FONT = 12;
const CHAR_W = 7.3;
const ROW = 26;
const NODE_H = 20;
const INDENT = 18;
const PAD = 10;
const HEADER = 24;
const BADGE = 16;
const BOX_GAP = 12;
const LANE_GAP = 11;
const WHERE_MAX = 36;
const WHAT_MAX = 40;

/** Layout of one picture, exposed for tests (no overlap, inside the canvas). */
export interface GraphLayout {
  width: number;
  height: number;
  nodes: { label: string; x: number; y: number; w: number; h: number }[];
  boxes: { label: string; x: number; y: number; w: number; h: number }[];
  lanes: number[];
}

interface Row {
  kind: 'mount' | 'external';
  y: number;
  x: number;
  depth: number;
  mount?: TopoMount;
  extId?: number;
  where: string;
  what: string;
  tags: { text: string; colour: string }[];
  tip: string;
}

interface Box {
  label: string;
  y: number;
  h: number;
  header: string;
}

interface Arrow {
  colour: string;
  from: number;
  to: number[];
  lane: number;
}

export function layoutMountGraph(t: Topology, opts: GraphOptions = {}): GraphLayout {
  return plan(t, opts).layout;
}

export function renderMountGraph(t: Topology, opts: GraphOptions = {}): string {
  const { layout, rows, boxes, arrows, right, col, omitted, names } = plan(t, opts);
  const marks = opts.marks ?? new Map<TopoMount, MountMark>();
  const o: string[] = [];
  const title = opts.title ?? 'mount topology';
  o.push(
    '<svg xmlns="http://www.w3.org/2000/svg" class="mount-graph"' +
      ` width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}"` +
      ` role="img" aria-label="${esc(title)}"` +
      ` font-family="'DejaVu Sans Mono', ui-monospace, Menlo, Consolas, monospace" font-size="${FONT}">`,
    `<title>${esc(title)}</title>`,
  );
  for (const b of boxes) {
    o.push(
      `<g class="ns-box"><rect x="${PAD / 2}" y="${b.y}" width="${right + PAD - PAD / 2}" height="${b.h}"` +
        ' rx="6" fill="#f6f7f9" stroke="#8a8f98"/>',
      `<text x="${PAD}" y="${b.y + 16}" font-weight="bold" fill="#333">${esc(b.header)}</text></g>`,
    );
  }
  // Tree edges under the nodes: an elbow from the parent's left side down to each child.
  const rowOf = new Map<TopoMount, Row>();
  for (const r of rows) if (r.mount) rowOf.set(r.mount, r);
  const edges: string[] = [];
  for (const r of rows) {
    const kids = r.mount?.children.map((c) => rowOf.get(c)).filter((k): k is Row => !!k) ?? [];
    if (!kids.length) continue;
    const x = r.x + 7;
    edges.push(`M${x} ${r.y + NODE_H}V${kids[kids.length - 1]!.y + NODE_H / 2}`);
    for (const k of kids) edges.push(`M${x} ${k.y + NODE_H / 2}H${k.x}`);
  }
  if (edges.length)
    o.push(`<path class="tree-edges" d="${edges.join('')}" fill="none" stroke="#9aa0a6" stroke-width="1.2"/>`);

  for (const r of rows) {
    const w = right - r.x;
    const mark = r.mount ? marks.get(r.mount) : undefined;
    const group = r.mount?.peerGroup ? names.groups.get(r.mount.peerGroup) : undefined;
    const colour = group ? groupColour(group) : r.kind === 'external' ? EXTERNAL_COLOUR : '#b0b4ba';
    const cls = ['mount', r.kind === 'external' ? 'external-master' : '', mark ? `diff diff-${mark}` : '']
      .filter(Boolean)
      .join(' ');
    const label = r.mount ? r.mount.label : `external master ${names.external.get(r.extId!) ?? ''}`;
    o.push(
      `<g class="${cls}" data-label="${esc(label)}"${group ? ` data-group="${group}"` : ''}>` +
        `<title>${esc(r.tip)}</title>`,
    );
    const fill = mark === 'added' ? '#fde7e7' : group ? colour : '#ffffff';
    const fillOpacity = mark !== 'added' && group ? ' fill-opacity="0.16"' : '';
    const dash = r.kind === 'external' ? ' stroke-dasharray="4 3"' : '';
    o.push(
      `<rect x="${r.x}" y="${r.y}" width="${w}" height="${NODE_H}" rx="3" fill="${fill}"${fillOpacity}` +
        ` stroke="${colour}" stroke-width="${group ? 1.6 : 1}"${dash}/>`,
    );
    if (mark) {
      const lost = mark === 'lost' ? ' stroke-dasharray="6 3"' : '';
      o.push(
        `<rect class="diff-outline" x="${r.x - 3}" y="${r.y - 3}" width="${w + 6}" height="${NODE_H + 6}" rx="5"` +
          ` fill="none" stroke="${DIFF_COLOUR}" stroke-width="2.5"${lost}/>`,
      );
    }
    let tx = r.x + 4;
    if (group) {
      o.push(
        `<rect x="${tx}" y="${r.y + (NODE_H - BADGE) / 2}" width="${BADGE + (group.length - 1) * CHAR_W}"` +
          ` height="${BADGE}" rx="2" fill="${colour}"/>`,
        `<text x="${tx + 4}" y="${r.y + 14}" fill="#fff" font-weight="bold">${group}</text>`,
      );
      tx += BADGE + (group.length - 1) * CHAR_W + 4;
    }
    o.push(`<text x="${tx}" y="${r.y + 14}" fill="#111"><tspan font-weight="bold">${esc(r.where)}</tspan>`);
    const whatX = col;
    o.push(`<tspan x="${whatX}" fill="#444">${esc(r.what)}</tspan>`);
    let tagX = whatX + (r.what.length + 2) * CHAR_W;
    for (const tag of markTags(mark).concat(r.tags)) {
      o.push(`<tspan x="${tagX}" fill="${tag.colour}" font-weight="bold">${esc(tag.text)}</tspan>`);
      tagX += (tag.text.length + 1) * CHAR_W;
    }
    o.push('</text></g>');
  }

  for (const a of arrows) {
    const lx = laneX(right, a.lane);
    const from = rows[a.from]!;
    const ys = from.y + NODE_H / 2 - 4;
    const ends = a.to.map((i) => rows[i]!.y + NODE_H / 2 + 4);
    const top = Math.min(ys, ...ends);
    const bottom = Math.max(ys, ...ends);
    const d = [`M${right} ${ys}H${lx}`, `M${lx} ${top}V${bottom}`, ...ends.map((y) => `M${lx} ${y}H${right + 7}`)].join(
      '',
    );
    o.push(
      `<g class="master-arrow" data-from="${esc(from.mount?.label ?? `ext:${names.external.get(from.extId!)}`)}">`,
    );
    o.push(`<path d="${d}" fill="none" stroke="${a.colour}" stroke-width="1.6"/>`);
    o.push(`<circle cx="${right}" cy="${ys}" r="2.8" fill="${a.colour}"/>`);
    for (const y of ends) o.push(`<path d="M${right} ${y}l8 -4v8z" fill="${a.colour}"/>`);
    o.push('</g>');
  }
  if (omitted) {
    o.push(
      `<text x="${PAD}" y="${layout.height - 8}" fill="#333">` +
        `… ${omitted} more mount${omitted === 1 ? '' : 's'} not drawn</text>`,
    );
  }
  o.push('</svg>');
  return o.join('');
}

function markTags(mark: MountMark | undefined): { text: string; colour: string }[] {
  if (mark === 'added') return [{ text: 'extra after restore', colour: DIFF_COLOUR }];
  if (mark === 'lost') return [{ text: 'missing after restore', colour: DIFF_COLOUR }];
  if (mark === 'changed') return [{ text: 'differs', colour: DIFF_COLOUR }];
  return [];
}

function plan(t: Topology, opts: GraphOptions) {
  const names = opts.names ?? canonicalGroupNames(t);
  const marks = opts.marks ?? new Map<TopoMount, MountMark>();
  const maxMounts = opts.maxMounts ?? 400;
  const rows: Row[] = [];
  const boxes: Box[] = [];
  let y = BOX_GAP / 2;

  // Masters outside the capture: one off-tree node each, in a box of their own above the namespaces.
  const externals = [...names.external].filter(([id]) =>
    t.mounts.some((m) => m.master?.kind === 'external' && m.master.id === id),
  );
  if (externals.length) {
    const top = y;
    y += HEADER;
    for (const [id, name] of externals) {
      rows.push({
        kind: 'external',
        y,
        x: PAD,
        depth: 0,
        extId: id,
        where: name,
        what: 'peer group outside the capture',
        tags: [],
        tip:
          `${name}: the master of some mounts here is a peer group with no member in the capture ` +
          `(the host's, or one whose members are all gone); its number here was ${id}`,
      });
      y += ROW;
    }
    boxes.push({ label: 'outside', y: top, h: y - top + 2, header: 'outside the capture' });
    y += BOX_GAP;
  }

  let drawn = 0;
  let omitted = 0;
  for (const ns of t.namespaces) {
    const top = y;
    y += HEADER;
    const tasks = ns.tasks.map((x) => displayPath(x.name));
    const walk = (m: TopoMount, depth: number) => {
      if (drawn >= maxMounts) {
        omitted++;
      } else {
        drawn++;
        rows.push(mountRow(m, depth, y, names, marks.get(m)));
        y += ROW;
      }
      for (const c of m.children) walk(c, depth + 1);
    };
    for (const r of ns.roots) walk(r, 0);
    if (!ns.roots.length) y += ROW / 2;
    const shown =
      tasks.length > 6
        ? `${tasks.slice(0, 5).join(', ')} and ${tasks.length - 5} more`
        : tasks.join(', ') || '(no task)';
    boxes.push({ label: ns.label, y: top, h: y - top + 2, header: clip(`${ns.label}: ${shown}`, 90) });
    y += BOX_GAP;
  }
  if (omitted) y += ROW;

  // Columns: "where" starts after the badge; "what" after the widest "where" (cut at WHERE_MAX).
  let col = 0;
  for (const r of rows) {
    const badge = r.mount?.peerGroup
      ? BADGE + 4 + ((names.groups.get(r.mount.peerGroup)?.length ?? 1) - 1) * CHAR_W
      : 0;
    col = Math.max(col, r.x + 4 + badge + r.where.length * CHAR_W + 2 * CHAR_W);
  }
  let right = 0;
  for (const r of rows) {
    const tagChars = markTags(r.mount ? marks.get(r.mount) : undefined)
      .concat(r.tags)
      .reduce((n, tag) => n + tag.text.length + 1, 0);
    right = Math.max(right, col + (r.what.length + 2 + tagChars) * CHAR_W + 4);
  }
  for (const b of boxes) right = Math.max(right, PAD + b.header.length * CHAR_W + PAD);
  right = Math.ceil(right);
  col = Math.ceil(col);

  const arrows = routeArrows(t, rows, names);
  const lanes = arrows.reduce((n, a) => Math.max(n, a.lane + 1), 0);
  const width = Math.ceil(lanes ? laneX(right, lanes - 1) + 8 : right + PAD + 2);
  const height = Math.ceil(y - BOX_GAP / 2 + 4);
  const layout: GraphLayout = {
    width,
    height,
    nodes: rows.map((r) => ({ label: r.mount?.label ?? `ext:${r.where}`, x: r.x, y: r.y, w: right - r.x, h: NODE_H })),
    boxes: boxes.map((b) => ({ label: b.label, x: PAD / 2, y: b.y, w: right + PAD / 2, h: b.h })),
    lanes: Array.from({ length: lanes }, (_, i) => laneX(right, i)),
  };
  return { layout, rows, boxes, arrows, right, col, omitted, names };
}

/** Lanes start outside the namespace boxes, which end PAD right of the nodes. */
function laneX(right: number, lane: number): number {
  return right + PAD + LANE_GAP * (lane + 1);
}

function mountRow(m: TopoMount, depth: number, y: number, names: GroupNames, mark: MountMark | undefined): Row {
  const where = depth === 0 ? displayPath(m.mountPoint) : relativeTo(m);
  const what = `${displayPath(m.fsType)} ${displayPath(m.source)}${m.root === '/' ? '' : ` [${displayPath(m.root)}]`}`;
  const tags: { text: string; colour: string }[] = [];
  const g = m.peerGroup ? names.groups.get(m.peerGroup) : undefined;
  if (g) tags.push({ text: `shared:${g}`, colour: groupColour(g) });
  if (m.master) {
    const r = m.master;
    const name = r.kind === 'group' ? names.groups.get(r.group) : names.external.get(r.id);
    tags.push({
      text: `master:${name ?? '?'}`,
      colour: r.kind === 'group' && name ? groupColour(name) : EXTERNAL_COLOUR,
    });
  }
  if (m.unbindable) tags.push({ text: 'unbindable', colour: '#333' });
  if (m.mountOptions.includes('ro')) tags.push({ text: 'ro', colour: '#333' });
  const prop = tags.map((x) => x.text).join(' ');
  const tip = [
    m.label + (mark ? ` (${markTags(mark)[0]!.text})` : ''),
    `mountpoint ${displayPath(m.mountPoint)}`,
    `${displayPath(m.fsType)} ${displayPath(m.source)}, root ${displayPath(m.root)}, device ${m.superblock.device}`,
    `options ${m.mountOptions.join(',')}; super ${displayPath(m.superOptions.join(','))}`,
    prop ? `propagation ${prop}` : 'private',
  ].join('\n');
  return {
    kind: 'mount',
    y,
    x: PAD + depth * INDENT,
    depth,
    mount: m,
    where: clip(where, WHERE_MAX),
    what: clip(what, WHAT_MAX),
    tags,
    tip,
  };
}

/** The mountpoint relative to the parent's, as in summary.md's trees ("(on top)" when stacked on it). */
function relativeTo(m: TopoMount): string {
  const parent = m.parent?.mountPoint ?? '/';
  if (m.mountPoint === parent) return '(on top)';
  const base = parent.endsWith('/') ? parent : `${parent}/`;
  return displayPath(m.mountPoint.startsWith(base) ? m.mountPoint.slice(base.length) : m.mountPoint);
}

function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : s;
}

/**
 * One arrow bundle per master: from one member of the master group (the
 * one nearest its slaves, so lanes stay short) to every slave of it. Lanes
 * are handed out greedily by span, so bundles that do not overlap
 * vertically share a lane.
 */
function routeArrows(t: Topology, rows: Row[], names: GroupNames): Arrow[] {
  const index = new Map<TopoMount, number>();
  const extIndex = new Map<number, number>();
  for (const [i, r] of rows.entries()) {
    if (r.mount) index.set(r.mount, i);
    if (r.extId !== undefined) extIndex.set(r.extId, i);
  }
  const slaves = new Map<string, { ref: GroupRef; to: number[] }>();
  for (const m of t.mounts) {
    const r = m.master;
    const i = index.get(m);
    if (!r || i === undefined) continue;
    const key = r.kind === 'group' ? `g${r.id}` : `e${r.id}`;
    let s = slaves.get(key);
    if (!s) slaves.set(key, (s = { ref: r, to: [] }));
    s.to.push(i);
  }
  const bundles: Omit<Arrow, 'lane'>[] = [];
  for (const { ref, to } of slaves.values()) {
    let from: number | undefined;
    let colour = EXTERNAL_COLOUR;
    if (ref.kind === 'group') {
      const l = names.groups.get(ref.group);
      if (l) colour = groupColour(l);
      let best = Infinity;
      for (const m of ref.group.members) {
        const i = index.get(m);
        if (i === undefined) continue;
        const cost = to.reduce((n, j) => n + Math.abs(j - i), 0);
        if (cost < best) [best, from] = [cost, i];
      }
    } else {
      from = extIndex.get(ref.id);
    }
    if (from === undefined) continue;
    bundles.push({ colour, from, to: to.sort((a, b) => a - b) });
  }
  const span = (b: Omit<Arrow, 'lane'>) => [Math.min(b.from, ...b.to), Math.max(b.from, ...b.to)] as const;
  bundles.sort((a, b) => span(a)[0] - span(b)[0] || span(a)[1] - span(b)[1]);
  const laneEnds: number[] = [];
  return bundles.map((b) => {
    const [lo, hi] = span(b);
    let lane = laneEnds.findIndex((end) => end < lo);
    if (lane < 0) lane = laneEnds.push(hi) - 1;
    else laneEnds[lane] = hi;
    return { ...b, lane };
  });
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}
