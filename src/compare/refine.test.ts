import { strict as assert } from 'node:assert';
import { parseCapture } from '../capture/capture-file.js';
import { compareCaptures, type Comparison } from './compare.js';
import { prng, shuffle } from './gen.testutil.js';
import { byColours, refineColours, type RefineNode } from './refine.js';
import { buildTopology, describeTopology } from './topology.js';

/** Every order of the lines of `text`, or 300 random ones when there are more than 720. */
function orders(text: string): string[] {
  const lines = text.trim().split('\n');
  if (lines.length > 6) {
    const r = prng(lines.length);
    return Array.from({ length: 300 }, () => `${shuffle(r, lines).join('\n')}\n`);
  }
  const out: string[] = [];
  const go = (rest: string[], acc: string[]) => {
    if (rest.length === 0) out.push(`${acc.join('\n')}\n`);
    for (const [i, l] of rest.entries()) go([...rest.slice(0, i), ...rest.slice(i + 1)], [...acc, l]);
  };
  go(lines, []);
  return out;
}

/** Mount ids +1000 and peer groups +50: what a restore does to the numbers. */
const renumber = (text: string) =>
  text
    .replace(/^(\d+) (\d+)/gm, (_m, id, p) => `${Number(id) + 1000} ${Number(p) + 1000}`)
    .replace(/(shared|master|propagate_from):(\d+)/g, (_m, f, n) => `${f}:${Number(n) + 50}`);

const why = (c: Comparison) => c.differences.map((d) => d.sentence).join('\n');

function assertOrderFree(text: string): void {
  const base = parseCapture(text);
  const description = describeTopology(buildTopology(base));
  for (const o of orders(text)) {
    for (const other of [o, renumber(o)]) {
      const c = compareCaptures(base, parseCapture(other));
      assert.ok(c.equivalent, `${why(c)}\n--- against\n${other}`);
      assert.equal(
        describeTopology(buildTopology(parseCapture(other))).replace(/outside#\d/g, 'outside'),
        description.replace(/outside#\d/g, 'outside'),
      );
    }
  }
}

describe('ties on one mountpoint compare as a function of the topology, not of line order (issue 16.1)', () => {
  it('class: side by side on one mountpoint, differing only by peer group', () => {
    assertOrderFree(`1 0 0:40 / / rw - tmpfs root rw
2 1 0:41 / /a rw shared:5 - tmpfs s rw
3 1 0:41 / /b rw shared:6 - tmpfs s rw
4 1 0:41 / /x rw shared:5 - tmpfs s rw
5 1 0:41 / /x rw shared:6 - tmpfs s rw`);
  });

  it('class: two roots on one mountpoint in a chrooted view, differing only by superblock', () => {
    assertOrderFree(`10 1 0:50 / / rw - tmpfs t rw
11 1 0:51 / / rw - tmpfs t rw
12 2 0:50 /d /data rw - tmpfs t rw
13 3 0:52 / / rw - tmpfs t rw`);
  });

  it('class: stacks whose members differ only in their group', () => {
    assertOrderFree(`1 0 0:40 / / rw - tmpfs root rw
2 1 0:41 / /tmp rw - tmpfs tmp rw
3 2 0:42 / /tmp rw shared:1 - tmpfs s rw
4 2 0:42 / /tmp rw shared:2 - tmpfs s rw
5 3 0:43 / /tmp rw - tmpfs top rw
6 4 0:43 / /tmp rw - tmpfs top rw
7 1 0:42 / /peer rw shared:2 - tmpfs s rw`);
  });

  it("class: ties linked to other ties (one pair's peers are the other pair): one choice, followed through", () => {
    assertOrderFree(`1 0 0:40 / / rw - tmpfs root rw
2 1 0:41 / /x rw shared:1 - tmpfs s rw
3 1 0:41 / /x rw shared:2 - tmpfs s rw
4 1 0:41 / /y rw shared:1 - tmpfs s rw
5 1 0:41 / /y rw shared:2 - tmpfs s rw`);
  });

  it('class: ties that differ only by which master outside the capture they share with another mount', () => {
    assertOrderFree(`1 0 0:40 / / rw - tmpfs root rw
2 1 0:41 / /x rw master:7 - tmpfs s rw
3 1 0:41 / /x rw master:8 - tmpfs s rw
4 1 0:41 / /y rw master:8 - tmpfs s rw`);
  });

  it('a real regrouping of tied mounts still differs, in any line order', () => {
    const before = `1 0 0:40 / / rw - tmpfs root rw
2 1 0:41 / /a rw shared:5 - tmpfs s rw
3 1 0:41 / /b rw shared:6 - tmpfs s rw
4 1 0:41 / /x rw shared:5 - tmpfs s rw
5 1 0:41 / /x rw shared:6 - tmpfs s rw`;
    for (const after of orders(before.replace('5 1 0:41 / /x rw shared:6', '5 1 0:41 / /x rw shared:5'))) {
      assert.equal(compareCaptures(parseCapture(before), parseCapture(after)).equivalent, false, after);
    }
  });

  it('refineColours: colour sequences split a tied pair by what they link to, the same whichever comes first', () => {
    const make = (groups: string[]): RefineNode[] => {
      const parent: RefineNode = { parent: undefined, children: [], initial: 'p', links: [], line: 0 };
      const kids = groups.map(
        (g, i): RefineNode => ({
          parent,
          children: [],
          initial: 'k',
          links: [{ role: 'shared', set: g }],
          line: i + 1,
        }),
      );
      const other: RefineNode = { parent, children: [], initial: 'o', links: [{ role: 'shared', set: 'A' }], line: 9 };
      parent.children = [...kids, other];
      return [parent, ...kids, other];
    };
    const one = make(['A', 'B']);
    const two = make(['B', 'A']);
    const c1 = refineColours(one, [[one[1]!, one[2]!]]);
    const c2 = refineColours(two, [[two[1]!, two[2]!]]);
    // The kid in group A (with `other`) gets the same colours in both listings.
    assert.deepEqual(c1.get(one[1]!), c2.get(two[2]!));
    assert.notEqual(byColours(c1.get(one[1]!)!, c1.get(one[2]!)!), 0);
  });
});
