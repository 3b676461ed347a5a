import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parseCapture, type Capture } from '../capture/capture-file.js';
import { assetPath } from '../paths.js';
import { compareCaptures } from './compare.js';
import { compareWithDropped, setAside } from './dropped-mounts.js';

const text = (name: string) => readFileSync(assetPath('test/fixtures/mountinfo', name), 'latin1');
const cap = (t: string): Capture => parseCapture(t);
const BEFORE = text('slave-chain-3.before.capture');
const AFTER = text('slave-chain-3.after.capture');

/** The capture text without the lines that start with these mount ids. */
const without = (t: string, ...ids: string[]) =>
  t
    .split('\n')
    .filter((l) => !ids.some((id) => l.startsWith(`${id} `)))
    .join('\n');

const kinds = (c: { differences: { kind: string; sentence: string }[] }) =>
  c.differences.map((d) => [d.kind, d.sentence]);

describe('comparing a restore that drops mounts on purpose (expect: dropped)', () => {
  it('passes when exactly the listed mount is missing after restore', () => {
    const c = compareWithDropped(cap(BEFORE), cap(without(AFTER, '641')), ['/proc']);
    assert.deepEqual(kinds(c), []);
    assert.equal(c.equivalent, true);
    assert.deepEqual(c.droppedAsExpected, ['/proc']);
    // The same restore, expected identical, is a lost mount.
    assert.equal(compareCaptures(cap(BEFORE), cap(without(AFTER, '641'))).differences[0]!.kind, 'mount-lost');
  });

  it('takes the mounts on a dropped mount with it', () => {
    const c = compareWithDropped(cap(BEFORE), cap(without(AFTER, '652', '660')), ['/c']);
    assert.deepEqual(kinds(c), []);
  });

  it('names a listed mount that is still there after restore, once, as a difference of its own', () => {
    const c = compareWithDropped(cap(BEFORE), cap(AFTER), ['/proc']);
    assert.equal(c.equivalent, false);
    assert.deepEqual(kinds(c), [
      [
        'mount-not-dropped',
        '/proc is expected to be dropped by CRIU (expect: dropped), but it is still mounted after restore',
      ],
    ]);
    assert.deepEqual(c.droppedAsExpected, []);
  });

  it('names a listed path that was no mount before the dump', () => {
    const c = compareWithDropped(cap(BEFORE), cap(AFTER), ['/nowhere']);
    assert.deepEqual(kinds(c), [
      [
        'mount-not-dropped',
        '/nowhere is expected to be dropped by CRIU, but no task had a mount there before the dump',
      ],
    ]);
  });

  it('still fails on any other difference', () => {
    const c = compareWithDropped(cap(BEFORE), cap(without(AFTER, '641', '660')), ['/proc']);
    assert.equal(c.equivalent, false);
    assert.deepEqual(
      c.differences.map((d) => [d.kind, d.mount]),
      [['mount-lost', '/c/sub']],
    );
  });

  it('drops only the top of a stack on the listed mountpoint', () => {
    const stacked = (t: string, id: string, parent: string) =>
      `${t.trimEnd()}\n${id} ${parent} 0:70 / /proc rw,relatime - binfmt_misc binfmt_misc rw\n`;
    const before = cap(stacked(BEFORE, '430', '413'));
    // CRIU skipped the fs on top; the mount under it came back.
    assert.deepEqual(kinds(compareWithDropped(before, cap(AFTER), ['/proc'])), []);
    // Both came back: not dropped.
    const kept = compareWithDropped(before, cap(stacked(AFTER, '670', '641')), ['/proc']);
    assert.deepEqual(
      kept.differences.map((d) => d.kind),
      ['mount-not-dropped'],
    );
    // Both gone: the lower one is a difference of its own.
    const both = compareWithDropped(before, cap(without(AFTER, '641')), ['/proc']);
    assert.deepEqual(
      both.differences.map((d) => [d.kind, d.mount]),
      [['mount-lost', '/proc']],
    );
  });

  it('with nothing listed, is the plain comparison', () => {
    const after = cap(without(AFTER, '641'));
    const c = compareWithDropped(cap(BEFORE), after, []);
    assert.deepEqual(kinds(c), kinds(compareCaptures(cap(BEFORE), after)));
    assert.equal(setAside(after, []), after);
  });
});
