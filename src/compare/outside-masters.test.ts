import { strict as assert } from 'node:assert';
import { formatCapture, parseCapture } from '../capture/capture-file.js';
import { compareCaptures, type Comparison } from './compare.js';

const tree = (master: number, from?: number) => `@task init pid=10 mntns=7
1 0 0:40 / / rw - tmpfs root rw
2 1 0:41 / /a rw master:${master}${from ? ` propagate_from:${from}` : ''} - tmpfs a rw
3 1 0:42 / /b rw - tmpfs b rw
`;
/** The guest's own mounts: group 1 on /host/x, group 5 on /host/y and /host/y2. */
const OUTSIDE = `@outside pid=1 mntns=3
30 20 0:60 / /host/x rw shared:1 - tmpfs x rw
31 20 0:61 / /host/y rw shared:5 - tmpfs y rw
32 20 0:61 / /host/y2 rw shared:5 - tmpfs y rw
`;
const sentences = (c: Comparison) => c.differences.map((d) => [d.kind, d.sentence]);
const compare = (b: string, a: string) => compareCaptures(parseCapture(b), parseCapture(a));

describe('masters outside the capture (issue 16.2, 16.3)', () => {
  it('class: a mount moved to another host group is a difference naming both groups by their outside mounts', () => {
    const c = compare(tree(1) + OUTSIDE, tree(5) + OUTSIDE);
    assert.deepEqual(sentences(c), [
      [
        'master-changed',
        '/a was a slave of the host group of /host/x (master:1); ' +
          'after restore it is a slave of the host group of /host/y and /host/y2 (master:5)',
      ],
    ]);
  });

  it('class: the same host group under another number (renumbered outside) is no difference', () => {
    const renumbered = OUTSIDE.replace('shared:1', 'shared:9');
    assert.equal(compare(tree(1) + OUTSIDE, tree(9) + renumbered).equivalent, true);
  });

  it('class: a propagate_from moved to another host group differs too', () => {
    const c = compare(
      tree(5, 1) + OUTSIDE,
      tree(5, 9) + OUTSIDE.replace('shared:1', 'shared:9').replace('/host/x', '/host/z'),
    );
    assert.deepEqual(sentences(c), [
      [
        'propagate-from-changed',
        '/a: propagate_from changed: the host group of /host/x (propagate_from:1) -> ' +
          'the host group of /host/z (propagate_from:9)',
      ],
    ]);
  });

  it('a master no outside mount carries on one side only differs; on both sides it falls back to the partition', () => {
    const c = compare(tree(1) + OUTSIDE, tree(8) + OUTSIDE);
    assert.deepEqual(sentences(c), [
      [
        'master-changed',
        '/a was a slave of the host group of /host/x (master:1); ' +
          'after restore it is a slave of a peer group that no mount outside the tree carries (master:8)',
      ],
    ]);
    assert.equal(compare(tree(7) + OUTSIDE, tree(8) + OUTSIDE).equivalent, true);
  });

  it(
    'plain files and captures without the section keep the partition rule: ' +
      'one mount from master:1 to master:5 is equal',
    () => {
      assert.equal(compare(tree(1), tree(5)).equivalent, true);
      assert.equal(compare(tree(1) + OUTSIDE, tree(5)).equivalent, true);
      const plain = (m: number) => `1 0 0:40 / / rw - tmpfs root rw\n2 1 0:41 / /a rw master:${m} - tmpfs a rw\n`;
      assert.equal(compare(plain(1), plain(5)).equivalent, true);
    },
  );

  it('the section reads back through formatCapture, and must come last', () => {
    const c = parseCapture(tree(1) + OUTSIDE);
    assert.deepEqual(
      [c.outside!.pid, c.outside!.mntNs, c.outside!.mounts.map((m) => m.mountPoint)],
      [1, '3', ['/host/x', '/host/y', '/host/y2']],
    );
    assert.equal(formatCapture(parseCapture(formatCapture(c))), formatCapture(c));
    assert.throws(
      () => parseCapture(`${tree(1) + OUTSIDE}@task t2 pid=11 mntns=7\n`),
      /:9:1: @task after the '@outside' section, which comes last/,
    );
    assert.throws(
      () => parseCapture(`${tree(1)}@outside mntns=3\n`),
      /:5:\d+: expected pid=<number> in the '@outside' header/,
    );
  });

  it(
    'class (16.3): a master and a propagate_from that named one outside group ' +
      'must name one group after renumbering',
    () => {
      const two = (m: number, f: number) => `1 0 0:40 / / rw - tmpfs root rw
2 1 0:41 / /a rw master:${m} - tmpfs a rw
3 1 0:42 / /b rw master:4 propagate_from:${f} - tmpfs b rw
`;
      // Renumbered together: equal.
      assert.equal(compare(two(1, 1), two(6, 6)).equivalent, true);
      const c = compare(two(1, 1), two(6, 7));
      assert.deepEqual(sentences(c), [
        [
          'master-changed',
          '/a (master) and /b (propagate_from) named the same peer group outside the capture ' +
            '(master:1, propagate_from:1); ' +
            'after restore they name 2 different ones: /a (master:6); /b (propagate_from:7)',
        ],
      ]);
      // And the other way: two groups become one.
      assert.equal(compare(two(6, 7), two(1, 1)).equivalent, false);
    },
  );
});
