import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parseCapture } from '../capture/capture-file.js';
import { assetPath } from '../paths.js';
import { buildTopology, describeTopology, type Topology, type TopoMount } from './topology.js';

const fixture = (name: string) =>
  parseCapture(readFileSync(assetPath('test/fixtures/mountinfo', name), 'latin1'), name);
const byId = (t: Topology, id: number): TopoMount => t.mounts.find((m) => m.entry.mountId === id)!;

describe('topology', () => {
  describe('seed 002 (LXC container)', () => {
    const t = buildTopology(fixture('seed-002-lxc.mountinfo'));

    it('builds one tree rooted at the container root, whose parent is outside the table', () => {
      assert.equal(t.namespaces.length, 1);
      assert.deepEqual(
        t.namespaces[0]!.roots.map((m) => m.entry.mountId),
        [44],
      );
      assert.equal(t.mounts.length, 21);
    });

    it('names the sysfs over sysfs by stacking depth, and hangs the submounts on the upper one', () => {
      assert.equal(byId(t, 83).label, '/sys');
      assert.equal(byId(t, 84).label, '/sys [stacked 2]');
      assert.equal(byId(t, 84).parent, byId(t, 83));
      assert.equal(byId(t, 89).parent!.label, '/sys [stacked 2]');
      assert.equal(byId(t, 86).label, '/sys/devices/virtual/net [stacked 2]');
    });

    it('keeps /proc/sys (root /sys) on the proc superblock, /proc/sys/net under it', () => {
      const ps = byId(t, 81);
      assert.equal(ps.root, '/sys');
      assert.equal(ps.superblock, byId(t, 79).superblock);
      assert.deepEqual(
        ps.superblock.members.map((m) => m.label),
        ['/proc', '/proc/sys', '/proc/sys/net', '/proc/sysrq-trigger'],
      );
      assert.equal(byId(t, 80).parent, ps);
    });

    it('sees master:N of host groups as groups outside the capture, each its own', () => {
      const masters = t.mounts.filter((m) => m.master).map((m) => [m.label, m.master!.kind, m.master!.id]);
      assert.deepEqual(masters, [
        ['/', 'external', 1],
        ['/sys/fs/fuse/connections', 'external', 23],
        ['/sys/fs/pstore', 'external', 11],
        ['/sys/kernel/debug', 'external', 25],
        ['/sys/kernel/security', 'external', 8],
      ]);
    });
  });

  it('decides stacking by the tree, not by line order (seed 001: four mounts on /tmp)', () => {
    const text = readFileSync(assetPath('test/fixtures/mountinfo/seed-001-stacked.mountinfo'), 'latin1');
    const reversed = text.trim().split('\n').reverse().join('\n');
    for (const cap of [parseCapture(text), parseCapture(reversed)]) {
      const t = buildTopology(cap);
      assert.deepEqual(
        [101, 102, 103, 104].map((id) => byId(t, id).label),
        ['/tmp', '/tmp [stacked 2]', '/tmp [stacked 3]', '/tmp [stacked 4]'],
      );
      // (0,4) -> (4,3) -> (3,1) -> (1,0): each is a slave of the group stacked on it.
      const m101 = byId(t, 101).master!;
      assert.equal(m101.kind === 'group' && m101.group.members[0]!.label, '/tmp [stacked 2]');
      assert.equal(byId(t, 104).master, undefined);
    }
  });

  it("reads seed 001's test.sh output: a nested chain where each mount is a slave of its child's peer group", () => {
    const t = buildTopology(fixture('seed-001-chain.mountinfo'));
    const chain = t.mounts.map((m) => [
      m.label,
      m.parent?.label,
      m.master?.kind === 'group' ? m.master.group.members.map((x) => x.label) : m.master?.kind,
    ]);
    const base = '/tmp/propagation-tests/tmp';
    assert.deepEqual(chain, [
      [base, undefined, [`${base}/sub`]],
      [`${base}/sub`, base, [`${base}/sub/sub`]],
      [`${base}/sub/sub`, `${base}/sub`, [`${base}/sub/sub/sub`]],
      [`${base}/sub/sub/sub`, `${base}/sub/sub`, undefined],
    ]);
    assert.equal(t.superblocks.length, 1);
  });

  it('tells apart two mounts on the same mountpoint string by their parents', () => {
    // /x/y mounted on the root filesystem, then hidden by a mount on /x that has its own /x/y.
    const t = buildTopology(
      parseCapture(
        [
          '1 0 254:0 / / rw - ext4 /dev/vda rw',
          '2 1 0:40 / /x/y rw - tmpfs a rw',
          '3 1 0:41 / /x rw - tmpfs b rw',
          '4 3 0:42 / /x/y rw - tmpfs c rw',
        ].join('\n'),
      ),
    );
    assert.equal(byId(t, 2).label, '/x/y (on /)');
    assert.equal(byId(t, 4).label, '/x/y (on /x)');
    assert.notEqual(byId(t, 2).key, byId(t, 4).key);
  });

  it('gives siblings on one mountpoint an order by content, not by line', () => {
    const lines = [
      '1 0 254:0 / / rw - ext4 /dev/vda rw',
      '2 1 0:40 / /d rw - tmpfs zzz rw',
      '3 1 0:41 / /d rw - tmpfs aaa rw',
    ];
    const a = buildTopology(parseCapture(lines.join('\n')));
    const b = buildTopology(parseCapture([lines[0], lines[2], lines[1]].join('\n')));
    for (const t of [a, b]) {
      assert.deepEqual([byId(t, 3).label, byId(t, 2).label], ['/d [sibling 1]', '/d [sibling 2]']);
    }
  });

  it('groups tasks by namespace, init first, and lets a peer group span namespaces', () => {
    const t = buildTopology(fixture('two-namespaces.before.capture'));
    assert.deepEqual(
      t.namespaces.map((n) => [n.label, n.tasks.map((x) => x.name)]),
      [
        ['ns#1', ['init', 'helper']],
        ['ns#2', ['inner']],
      ],
    );
    const bind = t.mounts.find((m) => m.label === 'ns#1:/bind')!;
    assert.deepEqual(
      bind.peerGroup!.members.map((m) => m.label),
      ['ns#1:/bind', 'ns#1:/w', 'ns#2:/bind'],
    );
    const innerW = t.mounts.find((m) => m.label === 'ns#2:/w')!;
    assert.ok(innerW.master?.kind === 'group' && innerW.master.group === bind.peerGroup);
  });

  it('tells tasks with the same key apart and says so', () => {
    const lines = [
      '@task init pid=1 mntns=5 cwd=/',
      '1 0 0:5 / / rw - tmpfs t rw',
      '@task init pid=2 mntns=6 cwd=/',
      '7 6 0:5 / / rw - tmpfs t rw',
    ];
    const t = buildTopology(parseCapture(`${lines.join('\n')}\n`));
    assert.deepEqual(
      t.tasks.map((x) => [x.name, x.namespace.label]),
      [
        ['init', 'ns#1'],
        ['init~2', 'ns#2'],
      ],
    );
    assert.match(t.notes.join('\n'), /2 tasks carry the key "init"/);
  });

  it('survives a cycle of parent ids', () => {
    // On one mountpoint: a cycle through /a and /a/b is refused by the parser (a mountpoint not below its parent's).
    const t = buildTopology(
      parseCapture('1 2 0:5 / /a rw - tmpfs t rw\n2 1 0:5 / /a rw - tmpfs t rw\n3 3 0:6 / / rw - tmpfs t rw\n'),
    );
    assert.equal(t.mounts.length, 3);
    assert.match(t.notes.join('\n'), /cycle/);
    assert.deepEqual(t.namespaces[0]!.roots.map((m) => m.entry.mountId).sort(), [1, 3]);
  });

  it('describes before and after of a real round trip identically: the model holds no ids', () => {
    const before = describeTopology(buildTopology(fixture('slave-chain-3.before.capture')));
    const after = describeTopology(buildTopology(fixture('slave-chain-3.after.capture')));
    assert.equal(after, before);
    assert.doesNotMatch(before, /\b(412|201|0:53)\b/);
  });
});
