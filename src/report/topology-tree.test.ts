import { strict as assert } from 'node:assert';
import { parseCapture } from '../capture/capture-file.js';
import { buildTopology } from '../compare/topology.js';
import { renderTopologyTree, TREE_WIDTH } from './topology-tree.js';

const capture = (base: number) =>
  [
    `@task init pid=${base} mntns=1 cwd=/ root=/`,
    `${base + 1} ${base} 0:20 / / rw - overlay mountlab-root rw`,
    `${base + 2} ${base + 1} 0:30 / /w rw shared:${base + 7} master:${base + 99} - tmpfs w rw`,
    `${base + 3} ${base + 2} 0:31 / /w/sub ro shared:${base + 8} master:${base + 7} - tmpfs sub rw`,
    `${base + 4} ${base + 1} 0:30 /sub /a rw master:${base + 7} - tmpfs w rw`,
    `${base + 5} ${base + 4} 0:32 / /a rw unbindable - tmpfs top rw`,
    `${base + 6} ${base + 1} 0:33 / /${'very-long-directory-name/'.repeat(3)}leaf rw shared:${base + 8}` +
      ` - tmpfs ${'s'.repeat(30)} rw`,
    '',
  ].join('\n');

describe('topology trees for summary.md', () => {
  it('draws the tree with lettered peer groups, masters, roots, ro and unbindable, under 80 columns', () => {
    const lines = renderTopologyTree(buildTopology(parseCapture(capture(10))));
    assert.deepEqual(lines.slice(0, 6), [
      'ns#1: init',
      '/                       overlay mountlab-root',
      '├─ a                    tmpfs w [/sub]            master:B',
      '│  └─ (on top)          tmpfs top                 unbindable',
      '├─ very-long-directory-name/very-long-directory-name/very-long-direct… shared:A',
      '└─ w                    tmpfs w                   shared:B master:ext1',
    ]);
    // letters follow the canonical order: the first group met is the long path's
    assert.equal(lines[6], '   └─ sub               tmpfs sub                 shared:A master:B ro');
    for (const l of lines) assert.ok(l.length <= TREE_WIDTH, `${l.length}: ${l}`);
  });

  it('reads the same for a renumbered copy (ids, groups and minors are not shown)', () => {
    assert.deepEqual(
      renderTopologyTree(buildTopology(parseCapture(capture(10)))),
      renderTopologyTree(buildTopology(parseCapture(capture(500)))),
    );
  });
});
