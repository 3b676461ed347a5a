/**
 * The comparator's time on big captures (no VM):
 *
 *   node dist/bench/compare.js [RUNS]
 *
 * - N unmatched siblings: N tmpfs mounts under one parent, every one
 *   renamed after "restore" (the matcher must pair them by content), for
 *   N = 10,000 and 20,000.
 * - About 100,000 mounts (fs.mount-max's default, the most a capture may hold):
 *   a tree four levels deep with peer groups, slaves and shared
 *   superblocks, compared with itself renumbered and its lines reversed.
 *
 * - The same size with 1,000 mounts each beside another on its mountpoint,
 *   alike but for their superblocks: ties that colour refinement and
 *   marking must order (topology.ts, refine.ts).
 *
 * Prints the median of RUNS (default 3) for parsing both sides and for the
 * comparison alone.
 */
import { parseCapture } from '../src/capture/capture-file.js';
import { compareCaptures } from '../src/compare/compare.js';
import { fmtStats, loadContext, stats } from './lib.js';

const runs = Number(process.argv[2]) || 3;
const say = (s: string) => process.stdout.write(`${s}\n`);

function siblings(n: number, name: string, idBase: number): string {
  const lines = [`${idBase} 1 0:40 / / rw - tmpfs root rw`, `${idBase + 1} ${idBase} 0:41 / /a rw - tmpfs a rw`];
  for (let i = 0; i < n; i++)
    lines.push(`${idBase + 2 + i} ${idBase + 1} 0:${42 + i} / /a/${name}${i} rw - tmpfs x rw`);
  return `${lines.join('\n')}\n`;
}

/**
 * 100,000 mounts: 10 x 10 x 10 x 98 below a root (99,111 in all), every tenth shared (groups of 10), every 20th a
 * slave.
 */
function big(idBase: number, groupBase: number, minorBase: number, reverse: boolean, ties = false): string {
  const lines: string[] = [`${idBase} 1 0:${minorBase} / / rw - tmpfs root rw`];
  let id = idBase;
  let n = 1;
  const add = (parent: number, mp: string): number => {
    const me = ++id;
    const k = n++;
    let opt = '';
    if (k % 10 === 0) opt += ` shared:${groupBase + Math.floor(k / 100)}`;
    if (k % 20 === 5) opt += ` master:${groupBase + Math.floor(k / 100)}`;
    const minor = minorBase + 1 + (k % 3 === 0 ? Math.floor(k / 3) : k);
    lines.push(`${me} ${parent} 0:${minor} / ${mp} rw,relatime${opt} - tmpfs t${k % 7} rw`);
    return me;
  };
  for (let a = 0; a < 10; a++) {
    const pa = add(idBase, `/a${a}`);
    for (let b = 0; b < 10; b++) {
      const pb = add(pa, `/a${a}/b${b}`);
      for (let c = 0; c < 10; c++) {
        const pc = add(pb, `/a${a}/b${b}/c${c}`);
        for (let d = 0; d < (ties ? 97 : 98); d++) add(pc, `/a${a}/b${b}/c${c}/d${d}`);
        // A twin of d0 on a superblock of its own: a tie only refinement and marking can order.
        if (ties)
          lines.push(
            `${++id} ${pc} 0:${minorBase + 200_000 + id - idBase} / /a${a}/b${b}/c${c}/d0 rw,relatime - tmpfs t1 rw`,
          );
      }
    }
  }
  if (reverse) lines.reverse();
  return `${lines.join('\n')}\n`;
}

function time(label: string, before: string, after: string, expectEquivalent: boolean): void {
  const parse: number[] = [];
  const cmp: number[] = [];
  let mounts = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const b = parseCapture(before);
    const a = parseCapture(after);
    const t1 = performance.now();
    const c = compareCaptures(b, a);
    const t2 = performance.now();
    if (c.equivalent !== expectEquivalent) throw new Error(`${label}: expected equivalent=${expectEquivalent}`);
    mounts = b.tasks[0]!.mounts.length;
    parse.push(t1 - t0);
    cmp.push(t2 - t1);
  }
  say(`${label} (${mounts} mounts): parse ${fmtStats(stats(parse))}; compare ${fmtStats(stats(cmp))}`);
}

say(loadContext());
for (const n of [10_000, 20_000])
  time(`${n} renamed siblings`, siblings(n, 's', 100), siblings(n, 'r', 900_000), false);
time('~100,000 mounts vs renumbered and reversed', big(100, 1, 100, false), big(500_000, 7000, 300_000, true), true);
time('the same with 1,000 tied pairs', big(100, 1, 100, false, true), big(500_000, 7000, 300_000, true, true), true);
