/**
 * Compares the file mappings (`@map` lines) of the tasks a before-capture
 * and an after-capture have in common, as fds.ts compares their fds.
 *
 * CRIU puts every mapping back at the address it had, so mappings are
 * matched by their address range: a mapping missing after restore is
 * `map-lost` (a restore that drops a mapped ghost file), one that appears
 * is `map-added`. For a matched pair: the file (path and whether it is
 * deleted, `map-file-changed`), MAP_SHARED against MAP_PRIVATE
 * (`map-sharing-changed`: a shared mapping restored private no longer
 * writes to the file), the protection and the file offset (`map-changed`),
 * and the mount the file is mapped through, by the matching of the
 * topologies, not by id (`map-mount-changed`).
 */
import type { Capture, MapEntry } from '../capture/capture-file.js';
import type { Difference, DifferenceKind } from './difference.js';
import type { Namer } from './explain.js';
import { side } from './fds.js';
import type { Matching } from './match.js';
import { displayPath } from './text.js';
import type { Topology, TopoMount } from './topology.js';

export interface MapComparisonInput {
  before: Capture;
  after: Capture;
  B: Topology;
  A: Topology;
  M: Matching;
  namer: Namer;
}

const d = displayPath;

function sharing(m: MapEntry): string {
  return m.perms.endsWith('s') ? 'shared' : 'private';
}

/** '/w/data (deleted), shared r-- at offset 0, 4096 bytes, at 7f00-7f01'. */
export function mapText(m: MapEntry): string {
  const len = BigInt(`0x${m.end}`) - BigInt(`0x${m.start}`);
  return (
    `${d(m.path)}${m.deleted ? ' (deleted)' : ''}, ${sharing(m)} ${m.perms.slice(0, 3)} ` +
    `at offset ${m.offset}, ${len} bytes, at ${m.start}-${m.end}`
  );
}

export function compareMaps(input: MapComparisonInput): { differences: Difference[]; notes: string[] } {
  const { before, after, B, A, M, namer } = input;
  const out: Difference[] = [];
  const notes: string[] = [];
  const hasB = before.tasks.some((t) => t.maps?.length);
  const hasA = after.tasks.some((t) => t.maps?.length);
  if (!hasB && !hasA) return { differences: out, notes };
  const sb = side(before, B);
  const sa = side(after, A);
  const inA = new Map(A.tasks.map((t) => [t.name, t]));
  const diff = (kind: DifferenceKind, task: string, sentence: string) =>
    out.push({ kind, task, tasks: [task], sentence });
  const mountText = (m: TopoMount | undefined, e: MapEntry, s: 'before' | 'after') =>
    m ? `the mount ${namer.label(m, s)}` : `a mount outside the captured tables (mnt_id ${e.mntId})`;
  for (const tb of B.tasks) {
    const ta = inA.get(tb.name);
    if (!ta) continue; // reported as a lost task
    const mb = sb.captures.get(tb)?.maps ?? [];
    const ma = sa.captures.get(ta)?.maps ?? [];
    const key = (m: MapEntry) => `${m.start}-${m.end}`;
    const byA = new Map(ma.map((m) => [key(m), m]));
    const byB = new Map(mb.map((m) => [key(m), m]));
    const who = `task ${d(tb.name)}`;
    for (const b of mb) {
      const a = byA.get(key(b));
      if (!a) {
        diff('map-lost', tb.name, `${who}: the mapping of ${mapText(b)} is gone after restore`);
        continue;
      }
      if (b.path !== a.path || b.deleted !== a.deleted) {
        diff('map-file-changed', tb.name, `${who}: the mapping at ${key(b)} was of ${mapText(b)}; now ${mapText(a)}`);
        continue;
      }
      if (sharing(b) !== sharing(a))
        diff(
          'map-sharing-changed',
          tb.name,
          `${who}: the mapping of ${mapText(b)} is ${sharing(a)} after restore, not ${sharing(b)}`,
        );
      const changes: string[] = [];
      if (b.perms.slice(0, 3) !== a.perms.slice(0, 3))
        changes.push(`protection ${b.perms.slice(0, 3)} -> ${a.perms.slice(0, 3)}`);
      if (b.offset !== a.offset) changes.push(`file offset ${b.offset} -> ${a.offset}`);
      if (changes.length) diff('map-changed', tb.name, `${who}: the mapping of ${mapText(b)}: ${changes.join(', ')}`);
      const mountB = b.mntId >= 0 ? sb.lookup(tb, b.mntId) : undefined;
      const mountA = a.mntId >= 0 ? sa.lookup(ta, a.mntId) : undefined;
      const same = mountB && mountA ? M.mounts.get(mountB) === mountA : !mountB && !mountA;
      if (!same)
        diff(
          'map-mount-changed',
          tb.name,
          `${who}: the mapping of ${mapText(b)} was through ${mountText(mountB, b, 'before')}; ` +
            `after restore through ${mountText(mountA, a, 'after')}`,
        );
    }
    for (const a of ma)
      if (!byB.has(key(a)))
        diff('map-added', tb.name, `${who}: after restore there is an extra mapping of ${mapText(a)}`);
  }
  if (hasB && !hasA)
    notes.push('after: the capture has no file mappings (@map lines) at all; each mapping before is reported as lost');
  return { differences: out, notes };
}
