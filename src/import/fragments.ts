/**
 * Pieces of one table: what people paste when the table is long and only
 * part of it matters.
 *
 * - A cut mark (`...`, `[...]`, `…`, `[snip]`, `<snip>`, `[ 40 lines
 *   snipped ]`) on a line of its own is a cut inside one table: the lines
 *   around it stay one paste.
 * - Fragments separated by prose ("line 663:", then "and lines 623-633:")
 *   are one table when their mount ids and parents fit together: no id in
 *   two of them, and every fragment joined to the others by a parent id
 *   that is a mount of another. Fragments that share an id, or that no
 *   parent links, are separate pastes, and --pick chooses.
 */
import type { MountEntry } from '../capture/mountinfo.js';
import { asText } from './annotations.js';

/** A line that marks where the paster left lines out; tested on the text as UTF-8. */
const GONE = String.raw`(?:snipped|omitted|cut|removed|trimmed)`;
const CUT = new RegExp(
  [
    String.raw`^(?:\.{3,}|…+`,
    // [...], [snip], (...), <snip>, [ 40 lines snipped ], [...snip...]
    String.raw`|[[(<{]\s*(?:\.{2,}|…|snip(?:ped)?|cut|more|trimmed|omitted`,
    String.raw`|(?:\d+\s+)?(?:more\s+)?lines?(?:\s+${GONE})?`,
    String.raw`|\.\.\.\s*(?:snip(?:ped)?|cut)\s*\.\.\.)\s*[\])>}]`,
    // --- snip ---, -- 8< --
    String.raw`|-*\s*(?:snip|8<|>8)\s*-*)$`,
  ].join(''),
  'i',
);

export function isCutMark(body: string): boolean {
  return CUT.test(asText(body).trim());
}

export interface Fragment {
  first: number;
  last: number;
  mounts: MountEntry[];
}

/**
 * Whether the fragments are one table: distinct ids, joined by parent
 * links. When they are not, the reason, for the refusal that lists them.
 */
export function fitTogether(fragments: Fragment[]): { fit: true } | { fit: false; why: string } {
  const owner = new Map<number, number>();
  for (const [i, f] of fragments.entries()) {
    for (const m of f.mounts) {
      const j = owner.get(m.mountId);
      if (j !== undefined && j !== i)
        return {
          fit: false,
          why: `mount id ${m.mountId} is in two of them (lines ${m.line} and ${lineOf(fragments[j]!, m.mountId)})`,
        };
      owner.set(m.mountId, i);
    }
  }
  const root = fragments.map((_, i) => i);
  const find = (i: number): number => (root[i] === i ? i : (root[i] = find(root[i]!)));
  for (const [i, f] of fragments.entries()) {
    for (const m of f.mounts) {
      const j = owner.get(m.parentId);
      if (j !== undefined && j !== i) root[find(i)] = find(j);
    }
  }
  const apart = fragments.findIndex((_, i) => find(i) !== find(0));
  if (apart >= 0) {
    const f = fragments[apart]!;
    return { fit: false, why: `no parent id links lines ${f.first}-${f.last} to the rest` };
  }
  return { fit: true };
}

function lineOf(f: Fragment, id: number): number {
  return f.mounts.find((m) => m.mountId === id)?.line ?? f.first;
}

/** The sentence for the summary and the scenario's header. */
export function describeFragments(fragments: Fragment[]): string {
  const spans = fragments.map((f) => (f.first === f.last ? `line ${f.first}` : `lines ${f.first}-${f.last}`));
  return (
    `${spans.join(', ')} are fragments of one table (their mount ids and parents fit together), ` +
    'read as one; the text between them was skipped'
  );
}

/** The sentence for cut marks read as a cut inside one table. */
export function describeCuts(lines: number[]): string {
  return (
    `${lines.length === 1 ? 'line' : 'lines'} ${lines.join(', ')} ${lines.length === 1 ? 'marks' : 'mark'} ` +
    'a cut inside the table (lines left out); the parts around are read as one table'
  );
}
