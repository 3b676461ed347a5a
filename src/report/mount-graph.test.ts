import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parseCapture } from '../capture/capture-file.js';
import { matchTopologies } from '../compare/match.js';
import { buildTopology, type Topology, type TopoMount } from '../compare/topology.js';
import { assetPath } from '../paths.js';
import { genModel, identityNumbering, prng, renderCapture } from '../compare/gen.testutil.js';
import {
  canonicalGroupNames,
  groupColour,
  layoutMountGraph,
  pairedGroupNames,
  renderMountGraph,
  type GraphLayout,
  type MountMark,
} from './mount-graph.js';
import { renderTopologyTree } from './topology-tree.js';

const fixture = (name: string) =>
  buildTopology(parseCapture(readFileSync(assetPath('test', 'fixtures', 'captures', name), 'latin1'), name));
const topo = (lines: string[]) => buildTopology(parseCapture(`${lines.join('\n')}\n`));

/**
 * About 60 mounts in two namespaces: deep chains, wide fan-outs, stacked
 * mounts, peer groups spanning both namespaces, slave chains and masters
 * outside the capture, with long names.
 */
function bigCapture(seed: number): string {
  const r = prng(seed);
  const out: string[] = [];
  for (const [ns, base, key] of [
    [1, 100, 'init'],
    [2, 300, 'child'],
  ] as const) {
    out.push(`@task ${key} pid=${base} mntns=${ns} cwd=/ root=/`);
    const mps: { id: number; mp: string }[] = [{ id: base + 1, mp: '/' }];
    out.push(`${base + 1} ${base} 254:0 / / rw - ext4 /dev/vda rw`);
    for (let i = 2; i <= 31; i++) {
      const parent = mps[r.int(0, mps.length - 1)]!;
      const stacked = r.int(0, 9) === 0;
      const name = r.int(0, 5) === 0 ? `a-rather-long-directory-name-${i}` : `d${i}`;
      const mp = stacked ? parent.mp : `${parent.mp === '/' ? '' : parent.mp}/${name}`;
      const shared = r.int(0, 2) === 0 ? r.int(1, 8) : 0;
      const master = r.int(0, 3) === 0 ? r.int(1, 12) : 0;
      // A slave of its own peer group is no capture a kernel prints, and the parser refuses it.
      const prop = [shared ? `shared:${shared}` : '', master && master !== shared ? `master:${master}` : '']
        .filter(Boolean)
        .join(' ');
      out.push(
        `${base + i} ${parent.id} 0:${40 + (i % 7)} / ${mp.replace(/ /g, '\\040')}` +
          ` rw${prop ? ` ${prop}` : ''} - tmpfs src${i} rw`,
      );
      mps.push({ id: base + i, mp });
    }
  }
  return `${out.join('\n')}\n`;
}

function overlaps(
  a: { x: number; y: number; w: number; h: number },
  b: { x: number; y: number; w: number; h: number },
): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function assertSound(l: GraphLayout, t: Topology, what: string): void {
  for (let i = 0; i < l.nodes.length; i++) {
    const n = l.nodes[i]!;
    assert.ok(
      n.x >= 0 && n.y >= 0 && n.x + n.w <= l.width && n.y + n.h <= l.height,
      `${what}: ${n.label} outside the canvas`,
    );
    for (let j = i + 1; j < l.nodes.length; j++)
      assert.ok(!overlaps(n, l.nodes[j]!), `${what}: ${n.label} overlaps ${l.nodes[j]!.label}`);
  }
  for (let i = 0; i < l.boxes.length; i++) {
    for (let j = i + 1; j < l.boxes.length; j++)
      assert.ok(
        !overlaps(l.boxes[i]!, l.boxes[j]!),
        `${what}: boxes ${l.boxes[i]!.label} and ${l.boxes[j]!.label} overlap`,
      );
  }
  // Each namespace's mounts sit inside its box; arrow lanes run right of every box.
  for (const ns of t.namespaces) {
    const box = l.boxes.find((b) => b.label === ns.label)!;
    for (const m of ns.mounts) {
      const n = l.nodes.find((x) => x.label === m.label)!;
      assert.ok(
        n.x >= box.x && n.x + n.w <= box.x + box.w && n.y >= box.y && n.y + n.h <= box.y + box.h,
        `${what}: ${m.label} outside ${ns.label}'s box`,
      );
    }
  }
  const right = Math.max(...l.boxes.map((b) => b.x + b.w));
  for (const x of l.lanes)
    assert.ok(
      x > right && x < l.width,
      `${what}: lane at ${x} not between the boxes (${right}) and the edge (${l.width})`,
    );
}

describe('mount graph (SVG)', () => {
  it('lays out about 60 mounts in two namespaces with no overlap, lanes outside the boxes', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const t = buildTopology(parseCapture(bigCapture(seed)));
      assert.ok(t.mounts.length >= 60, String(t.mounts.length));
      const l = layoutMountGraph(t);
      assert.equal(
        l.nodes.length,
        t.mounts.length + new Set(t.mounts.filter((m) => m.master?.kind === 'external').map((m) => m.master!.id)).size,
      );
      assertSound(l, t, `seed ${seed}`);
      assert.ok(l.lanes.length >= 1);
      // Rows: the picture grows with the mount count, not beyond it.
      assert.ok(l.height < 30 * (l.nodes.length + 6), String(l.height));
    }
  });

  it('lays out random topologies (escapes, stacks, nsfs, several namespaces) soundly', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const t = buildTopology(renderCapture(genModel(prng(seed)), identityNumbering()));
      assertSound(layoutMountGraph(t), t, `seed ${seed}`);
    }
  });

  it('draws the slave chain: tree edges, a badge per peer group, an arrow bundle per master, a head per slave', () => {
    const t = fixture('vm-trixie-slave-chain-3.before.capture');
    const svg = renderMountGraph(t, { title: 'slave chain' });
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="mount-graph"/);
    assert.ok(svg.endsWith('</svg>'));
    assert.equal((svg.match(/<g class="mount[ "]/g) ?? []).length, t.mounts.length);
    // Letters as summary.md's tree has them.
    const tree = renderTopologyTree(t).join('\n');
    const names = canonicalGroupNames(t);
    for (const [g, letter] of names.groups) {
      assert.match(tree, new RegExp(`shared:${letter}\\b`));
      for (const m of g.members)
        assert.ok(svg.includes(`data-label="${m.label}" data-group="${letter}"`), `${m.label} in group ${letter}`);
    }
    const masters = new Set(t.mounts.filter((m) => m.master).map((m) => m.master!.id));
    assert.equal((svg.match(/class="master-arrow"/g) ?? []).length, masters.size);
    const heads = (svg.match(/l8 -4v8z/g) ?? []).length;
    assert.equal(heads, t.mounts.filter((m) => m.master).length);
    // /b is a slave of /a's group: its arrow comes in the colour of that group.
    const a = t.mounts.find((m) => m.mountPoint === '/a')!;
    assert.ok(svg.includes(`stroke="${groupColour(names.groups.get(a.peerGroup!)!)}" stroke-width="1.6"`));
  });

  it('shows a master outside the capture as a labelled node with an arrow to its slave', () => {
    const t = topo([
      '@task init pid=1 mntns=1',
      '10 1 0:20 / / rw - overlay root rw',
      '11 10 0:21 / /host rw master:77 - tmpfs h rw',
      '12 10 0:21 / /other rw master:78 - tmpfs h rw',
    ]);
    const svg = renderMountGraph(t);
    assert.match(svg, /class="mount external-master" data-label="external master ext1"/);
    assert.match(svg, /class="mount external-master" data-label="external master ext2"/);
    assert.match(svg, />outside the capture</);
    assert.equal((svg.match(/data-from="ext:ext\d"/g) ?? []).length, 2);
    assertSound(layoutMountGraph(t), t, 'externals');
  });

  it("keeps a group's colour from before to after when an extra mount shifts the canonical letters", () => {
    const before = topo([
      '@task init pid=1 mntns=1',
      '10 1 0:20 / / rw - overlay root rw',
      '11 10 0:21 / /m rw shared:5 - tmpfs m rw',
      '12 10 0:21 / /n rw shared:5 - tmpfs m rw',
    ]);
    // After: an extra shared mount at /a sorts before /m and would take letter A.
    const after = topo([
      '@task init pid=2 mntns=9',
      '20 2 0:30 / / rw - overlay root rw',
      '23 20 0:32 / /a rw shared:1 - tmpfs x rw',
      '21 20 0:31 / /m rw shared:9 - tmpfs m rw',
      '22 20 0:31 / /n rw shared:9 - tmpfs m rw',
    ]);
    assert.equal(
      canonicalGroupNames(after).groups.get(after.mounts.find((m) => m.mountPoint === '/m')!.peerGroup!),
      'B',
    );
    const names = pairedGroupNames(before, after, matchTopologies(before, after));
    const letterOf = (t: Topology, n: typeof names.before, mp: string) =>
      n.groups.get(t.mounts.find((m) => m.mountPoint === mp)!.peerGroup!);
    assert.equal(letterOf(before, names.before, '/m'), 'A');
    assert.equal(letterOf(after, names.after, '/m'), 'A');
    assert.equal(letterOf(after, names.after, '/a'), 'B');
    const svg = renderMountGraph(after, { names: names.after });
    assert.ok(svg.includes('data-label="/m" data-group="A"'));
    assert.ok(svg.includes('data-label="/a" data-group="B"'));
  });

  it('outlines marked mounts in red and says why on the picture', () => {
    const t = fixture('vm-trixie-slave-chain-3.before.capture');
    const marks = new Map<TopoMount, MountMark>([
      [t.mounts.find((m) => m.mountPoint === '/b')!, 'changed'],
      [t.mounts.find((m) => m.mountPoint === '/c/sub')!, 'lost'],
      [t.mounts.find((m) => m.mountPoint === '/w')!, 'added'],
    ]);
    const svg = renderMountGraph(t, { marks });
    assert.match(svg, /<g class="mount diff diff-changed" data-label="\/b"/);
    assert.match(svg, /<g class="mount diff diff-lost" data-label="\/c\/sub"/);
    assert.match(svg, /<g class="mount diff diff-added" data-label="\/w"/);
    assert.equal((svg.match(/class="diff-outline"/g) ?? []).length, 3);
    for (const text of ['differs', 'missing after restore', 'extra after restore'])
      assert.ok(svg.includes(`>${text}</tspan>`), text);
    assert.equal((renderMountGraph(t).match(/diff-outline/g) ?? []).length, 0);
  });

  it('escapes what a path may hold (<, &, quotes) and shows control bytes as octal escapes', () => {
    const t = topo([
      '@task init pid=1 mntns=1',
      '10 1 0:20 / / rw - overlay root rw',
      `11 10 0:21 /r"t /x<script>&amp;'q\\040sp\\011tab rw - tmpfs s<b> rw`,
    ]);
    const svg = renderMountGraph(t, { title: 'a "title" <here>' });
    assert.ok(!svg.includes('<script>'));
    assert.ok(!svg.includes('<b>'));
    assert.ok(svg.includes('x&lt;script&gt;&amp;amp;&#39;q sp\\011tab'), svg);
    assert.ok(svg.includes('s&lt;b&gt; [/r&quot;t]'));
    assert.ok(svg.includes('aria-label="a &quot;title&quot; &lt;here&gt;"'));
    // Nothing but markup may contain a raw '<': every one opens a known SVG element.
    for (const tag of svg.match(/<\/?[a-zA-Z]+/g)!)
      assert.match(tag, /^<\/?(svg|title|g|rect|text|tspan|path|circle)$/);
  });

  it('stops drawing at maxMounts and says how many were left out', () => {
    const t = buildTopology(parseCapture(bigCapture(7)));
    const svg = renderMountGraph(t, { maxMounts: 10 });
    assert.equal(
      (svg.match(/<g class="mount[ "]/g) ?? []).length,
      10 + new Set(t.mounts.filter((m) => m.master?.kind === 'external').map((m) => m.master!.id)).size,
    );
    assert.ok(svg.includes(`… ${t.mounts.length - 10} more mounts not drawn`));
  });

  it('gives group A the same colour everywhere and never the difference red', () => {
    assert.equal(groupColour('A'), groupColour('A'));
    assert.notEqual(groupColour('A'), groupColour('B'));
    const all = Array.from({ length: 40 }, (_, i) =>
      groupColour(i < 26 ? String.fromCharCode(65 + i) : `A${String.fromCharCode(65 + i - 26)}`),
    );
    assert.ok(!all.includes('#d62728'));
    assert.equal(groupColour('AA'), all[26]);
  });
});
