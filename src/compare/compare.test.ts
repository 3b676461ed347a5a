import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parseCapture, type Capture } from '../capture/capture-file.js';
import { assetPath } from '../paths.js';
import { compareCaptures, DEFAULT_IGNORED_SUPER_OPTIONS, type Comparison } from './compare.js';

const text = (name: string) => readFileSync(assetPath('test/fixtures/mountinfo', name), 'latin1');
const cap = (t: string): Capture => parseCapture(t);
const CHAIN_BEFORE = text('slave-chain-3.before.capture');
const CHAIN_AFTER = text('slave-chain-3.after.capture');

/** Replaces one line (found by its start) of a capture text. */
function edit(t: string, lineStart: string, replace: (line: string) => string): string {
  const lines = t.split('\n');
  const i = lines.findIndex((l) => l.startsWith(lineStart));
  assert.ok(i >= 0, `no line starts with ${lineStart}`);
  lines[i] = replace(lines[i]!);
  return lines.join('\n');
}

const sentences = (c: Comparison) => c.differences.map((d) => d.sentence);

describe('compare', () => {
  describe('realistic CRIU round trips (ids, peer groups, minors renumbered; sibling order changed)', () => {
    it('a three-level slave chain with a propagated child compares equal', () => {
      const c = compareCaptures(cap(CHAIN_BEFORE), cap(CHAIN_AFTER));
      assert.deepEqual(sentences(c), []);
      assert.equal(c.equivalent, true);
    });

    it('two namespaces with cross-namespace peer groups and three tasks compare equal', () => {
      const c = compareCaptures(cap(text('two-namespaces.before.capture')), cap(text('two-namespaces.after.capture')));
      assert.deepEqual(sentences(c), []);
    });

    it('seed 002 compares equal to itself with every id renumbered and the lines reversed', () => {
      const orig = text('seed-002-lxc.mountinfo');
      const renum = orig
        .trim()
        .split('\n')
        .reverse()
        .map((l) =>
          l.replace(
            /^(\d+) (\d+) (\d+):(\d+)/,
            (_m, id, p, major, minor) =>
              `${Number(id) + 500} ${Number(p) + 500} ${major}:${major === '0' ? Number(minor) + 70 : minor}`,
          ),
        )
        .join('\n');
      assert.equal(compareCaptures(cap(orig), cap(renum)).equivalent, true);
    });
  });

  it('names a mount that lost or gained MNT_LOCKED, where both sides were probed, and nothing otherwise', () => {
    const probed = (t: string, locked: string, unlocked: string) =>
      t.replace(/^(@task init [^\n]*)/, `$1 locked=${locked} unlocked=${unlocked}`);
    const before = probed(CHAIN_BEFORE, '412,414', '415');
    const ids = (t: string, mp: string) =>
      t
        .split('\n')
        .find((l) => l.split(' ')[4] === mp)!
        .split(' ')[0];
    // The same mounts locked after restore, by their new ids: equivalent.
    const same = probed(CHAIN_AFTER, `${ids(CHAIN_AFTER, '/')},${ids(CHAIN_AFTER, '/w')}`, ids(CHAIN_AFTER, '/a')!);
    assert.deepEqual(sentences(compareCaptures(cap(before), cap(same))), []);
    const unlocked = probed(CHAIN_AFTER, ids(CHAIN_AFTER, '/')!, `${ids(CHAIN_AFTER, '/w')},${ids(CHAIN_AFTER, '/a')}`);
    const c = compareCaptures(cap(before), cap(unlocked));
    assert.deepEqual(
      c.differences.map((d) => [d.kind, d.mount]),
      [['lock-changed', '/w']],
    );
    assert.match(c.differences[0]!.sentence, /^\/w was locked \(MNT_LOCKED: .*\); after restore it is not locked$/);
    const gained = probed(
      CHAIN_AFTER,
      ids(CHAIN_AFTER, '/')! + `,${ids(CHAIN_AFTER, '/w')},${ids(CHAIN_AFTER, '/a')}`,
      '',
    );
    assert.match(
      sentences(compareCaptures(cap(before), cap(gained.replace(' unlocked=', ''))))[0]!,
      /^\/a was not locked; after restore it is locked \(MNT_LOCKED\)/,
    );
    // Not probed after restore (the restored namespace is the guest's user namespace's): nothing to say.
    assert.deepEqual(sentences(compareCaptures(cap(before), cap(CHAIN_AFTER))), []);
  });

  it('fails on a lost master link, with a sentence naming the slave and its master', () => {
    const after = edit(CHAIN_AFTER, '651 ', (l) => l.replace(' master:291', ''));
    const c = compareCaptures(cap(CHAIN_BEFORE), cap(after));
    assert.equal(c.equivalent, false);
    assert.deepEqual(
      c.differences.map((d) => [d.kind, d.mount, d.sentence]),
      [['master-lost', '/b', '/b was a slave of the peer group of /a (master:202); after restore it is private']],
    );
  });

  it('fails on a private mount turned shared', () => {
    const after = edit(CHAIN_AFTER, '641 ', (l) => l.replace('rw,relatime -', 'rw,relatime shared:300 -'));
    const c = compareCaptures(cap(CHAIN_BEFORE), cap(after));
    assert.deepEqual(
      c.differences.map((d) => [d.kind, d.mount, d.sentence]),
      [['shared-changed', '/proc', '/proc was private; after restore it is shared (shared:300)']],
    );
  });

  it('fails when a slave hangs off another peer group, though it still "has a master" (zdtm cannot see it)', () => {
    const after = edit(CHAIN_AFTER, '660 ', (l) => l.replace('master:293', 'master:292'));
    const c = compareCaptures(cap(CHAIN_BEFORE), cap(after));
    assert.deepEqual(
      c.differences.map((d) => [d.kind, d.mount, d.sentence]),
      [
        [
          'master-changed',
          '/c/sub',
          '/c/sub was a slave of the peer group of /a/sub (master:204); ' +
            'after restore it is a slave of the peer group of /w/sub (master:292)',
        ],
      ],
    );
  });

  it('fails when peer groups are regrouped', () => {
    // /w/sub joins the peer group of /a/sub instead of being its master.
    let after = edit(CHAIN_AFTER, '653 ', (l) => l.replace('shared:292', 'shared:293'));
    after = edit(after, '655 ', (l) => l.replace(' master:292', ''));
    const c = compareCaptures(cap(CHAIN_BEFORE), cap(after));
    assert.deepEqual(c.differences.map((d) => d.kind).sort(), ['master-lost', 'peers-merged']);
    assert.deepEqual(sentences(c), [
      '/a/sub (shared:204) and /w/sub (shared:203) were in different peer groups; ' +
        'after restore they are peers (shared:293)',
      '/a/sub was a slave of the peer group of /w/sub (master:203); after restore it is shared (shared:293)',
    ]);
  });

  it('fails when the tree changes shape under unchanged mountpoints, fstype or superblock sharing', () => {
    // /b/sub hangs on / instead of on /b: same mountpoint string, other parent.
    const reparented = compareCaptures(
      cap(CHAIN_BEFORE),
      cap(edit(CHAIN_AFTER, '659 ', (l) => l.replace('659 651', '659 640'))),
    );
    assert.deepEqual(sentences(reparented), [
      '/b/sub was a child of the mount /b; after restore it is a child of the mount /',
    ]);
    const fstype = compareCaptures(
      cap(CHAIN_BEFORE),
      cap(edit(CHAIN_AFTER, '641 ', (l) => l.replace('- proc proc', '- sysfs proc'))),
    );
    assert.deepEqual(sentences(fstype), ['/proc: filesystem type changed: proc -> sysfs']);
    const split = compareCaptures(cap(CHAIN_BEFORE), cap(edit(CHAIN_AFTER, '660 ', (l) => l.replace('0:62', '0:63'))));
    assert.deepEqual(
      split.differences.map((d) => [d.kind, d.mount]),
      [['superblock-split', '/a/sub']],
    );
    assert.equal(
      split.differences[0]!.sentence,
      '/a/sub, /b/sub, /c/sub and /w/sub were mounts of one superblock (tmpfs, 0:54); ' +
        'after restore they are on 2 different superblocks: /a/sub, /b/sub and /w/sub (0:62); /c/sub (0:63)',
    );
  });

  it('reports a lost mount once, with its lost descendants, and nothing about them changing parent', () => {
    const after = CHAIN_AFTER.split('\n')
      .filter((l) => !l.startsWith('650 ') && !l.startsWith('655 '))
      .join('\n');
    const c = compareCaptures(cap(CHAIN_BEFORE), cap(after));
    // /b and /c were slaves of /a's group, whose only member is gone; that
    // their master is now a number outside the capture follows from the loss.
    assert.deepEqual(
      c.differences.map((d) => [d.kind, d.mounts, d.sentence]),
      [
        [
          'mount-lost',
          ['/a', '/a/sub'],
          '/a is missing after restore (tmpfs from w on /a, root /), and so is the mount on it: /a/sub',
        ],
      ],
    );
  });

  it('reports a mount that comes back elsewhere as a changed mountpoint, and its children as unchanged', () => {
    let after = edit(CHAIN_AFTER, '651 ', (l) => l.replace(' /b ', ' /b2 '));
    after = edit(after, '659 ', (l) => l.replace(' /b/sub ', ' /b2/sub '));
    const c = compareCaptures(cap(CHAIN_BEFORE), cap(after));
    assert.deepEqual(sentences(c), ['/b: mountpoint changed: /b -> /b2']);
  });

  it('says which mount options changed, in the direction of the restore', () => {
    const orig = text('seed-002-lxc.mountinfo');
    const c = compareCaptures(cap(orig), cap(edit(orig, '81 ', (l) => l.replace(' ro,', ' rw,'))));
    assert.deepEqual(sentences(c), ['/proc/sys: mount options changed: ro -> rw']);
  });

  it('sorts differences: tasks first, then by mount label', () => {
    let after = edit(CHAIN_AFTER, '660 ', (l) => l.replace('rw,relatime', 'ro,relatime'));
    after = edit(after, '648 ', (l) => l.replace('rw,relatime', 'rw,nosuid,relatime'));
    after = after.replace('@task init pid=2533', '@task init pid=2533 cwd=/w');
    after = after.replace(' cwd=/ root=/', ' root=/');
    const c = compareCaptures(cap(CHAIN_BEFORE), cap(after));
    assert.deepEqual(
      c.differences.map((d) => d.task ?? d.mount),
      ['init', '/c/sub', '/w'],
    );
    assert.equal(c.differences[0]!.sentence, 'task init: working directory changed: / -> /w');
  });

  it('notices a task that moved to another mount namespace, without blaming the mounts', () => {
    const before = text('two-namespaces.before.capture');
    const after = text('two-namespaces.after.capture');
    // helper now lives in inner's namespace, so it prints inner's table.
    const blocks = after.split(/(?=^@task )/m);
    const inner = blocks.find((b) => b.startsWith('@task inner'))!;
    const moved = blocks
      .map((b) =>
        b.startsWith('@task helper')
          ? inner.replace('@task inner pid=3110', '@task helper pid=3105').replace('cwd=/ ', 'cwd=/w ')
          : b,
      )
      .join('');
    const c = compareCaptures(cap(before), cap(moved));
    assert.deepEqual(sentences(c), [
      'tasks helper (ns#1) and inner (ns#2) were in different mount namespaces before the dump; ' +
        'after restore they share one',
      'tasks init and helper shared a mount namespace (ns#1) before the dump; ' +
        'after restore they are in 2 different ones: init; helper',
    ]);
    assert.ok(c.differences.every((d) => d.kind === 'task-namespace-changed' && d.tasks!.includes('helper')));
  });

  it('ignores only the documented super options, and says what it ignored', () => {
    const beforeLines = [
      '1 0 254:0 / / rw - ext4 /dev/vda rw',
      '2 1 0:50 / /net rw,relatime - autofs systemd-1 ' +
        'rw,fd=5,pgrp=1,timeout=0,minproto=5,maxproto=5,direct,pipe_ino=1234',
    ];
    const afterLines = [
      '9 8 254:0 / / rw - ext4 /dev/vda rw',
      '10 9 0:61 / /net rw,relatime - autofs systemd-1 ' +
        'rw,fd=7,pgrp=412,timeout=0,minproto=5,maxproto=5,direct,pipe_ino=99',
    ];
    const before = `${beforeLines.join('\n')}\n`;
    const after = `${afterLines.join('\n')}\n`;
    const c = compareCaptures(cap(before), cap(after));
    assert.equal(c.equivalent, true);
    assert.deepEqual(
      c.filtered.map((f) => [f.option, f.fsType, f.mounts, f.differed]),
      [
        ['fd', 'autofs', ['/net'], true],
        ['pgrp', 'autofs', ['/net'], true],
        ['pipe_ino', 'autofs', ['/net'], true],
      ],
    );
    assert.ok(c.filtered.every((f) => f.reason.length > 20));
    assert.equal(DEFAULT_IGNORED_SUPER_OPTIONS.length, 3);
    const strict = compareCaptures(cap(before), cap(after), { ignoreSuperOptions: [] });
    assert.deepEqual(sentences(strict), [
      '/net: super options changed: fd=5,pgrp=1,pipe_ino=1234 -> fd=7,pgrp=412,pipe_ino=99',
    ]);
    // A timeout is not on the list: it is compared.
    const t = compareCaptures(cap(before), cap(after.replace('timeout=0', 'timeout=300')));
    assert.deepEqual(sentences(t), ['/net: super options changed: timeout=0 -> timeout=300']);
  });

  it('reports a super option change once per superblock', () => {
    const after = CHAIN_AFTER.replace(/0:62 (.*) rw,inode64$/gm, '0:62 $1 rw,size=4k,inode64');
    const c = compareCaptures(cap(CHAIN_BEFORE), cap(after));
    assert.deepEqual(sentences(c), ['/a/sub, /b/sub, /c/sub and /w/sub: super options changed: size=4k added']);
  });

  it('compares block devices by number and anonymous devices only as a partition', () => {
    const anon = compareCaptures(cap(CHAIN_BEFORE), cap(CHAIN_AFTER.replace(/0:61/g, '0:99')));
    assert.equal(anon.equivalent, true);
    const disk = compareCaptures(cap(CHAIN_BEFORE), cap(CHAIN_AFTER.replace('254:0', '254:16')));
    assert.deepEqual(sentences(disk), ['/: device changed: 254:0 -> 254:16']);
    assert.equal(
      compareCaptures(cap(CHAIN_BEFORE), cap(CHAIN_AFTER.replace('254:0', '254:16')), { literalBlockDevices: false })
        .equivalent,
      true,
    );
  });

  it('compares nsfs bind mounts by which namespace they share, not by inode number', () => {
    const baseLines = [
      '1 0 254:0 / / rw - ext4 /dev/vda rw',
      '2 1 0:4 net:[4026531992] /a rw - nsfs nsfs rw',
      '3 1 0:4 net:[4026531992] /b rw - nsfs nsfs rw',
    ];
    const base = `${baseLines.join('\n')}\n`;
    assert.equal(compareCaptures(cap(base), cap(base.replace(/4026531992/g, '4026532777'))).equivalent, true);
    const c = compareCaptures(cap(base), cap(base.replace('net:[4026531992] /b', 'net:[4026532001] /b')));
    assert.deepEqual(
      c.differences.map((d) => [d.kind, d.mounts]),
      [['root-changed', ['/a', '/b']]],
    );
  });

  it('never throws on odd pairs: empty captures, a capture against nothing', () => {
    const empty: Capture = { tasks: [] };
    assert.equal(compareCaptures(empty, empty).equivalent, true);
    const c = compareCaptures(cap(CHAIN_BEFORE), empty);
    assert.deepEqual(c.differences.map((d) => d.kind).sort(), [
      'namespace-count-changed',
      'namespace-lost',
      'task-lost',
    ]);
    const d = compareCaptures(empty, cap(CHAIN_BEFORE));
    assert.equal(d.equivalent, false);
    const noMounts = compareCaptures(cap('@task init pid=1 mntns=1\n'), cap(CHAIN_AFTER));
    assert.ok(noMounts.differences.some((x) => x.kind === 'mount-added'));
  });
});
