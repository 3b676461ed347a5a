import { strict as assert } from 'node:assert';
import { parseError } from './capture.testutil.js';
import { parseCapture } from './capture-file.js';

const ROOT = '1 0 0:40 / / rw - tmpfs root rw';

describe('captures no kernel prints (issue 16.7)', () => {
  // [what, text, the text the error points at in the last line, message]
  const cases: [string, string, string, RegExp][] = [
    [
      'a mount id above 2^31',
      `${ROOT}\n2147483648 1 0:41 / /a rw - tmpfs a rw`,
      '2147483648',
      /mount ID 2147483648 is out of range/,
    ],
    [
      'a parent id above 2^31',
      `${ROOT}\n2 4294967296 0:41 / /a rw - tmpfs a rw`,
      '4294967296',
      /parent mount ID 4294967296 is out of range/,
    ],
    ['a raw tab inside a field', `${ROOT}\n2 1 0:41 / /a\tb rw - tmpfs a rw`, '\t', /a raw tab/],
    ['a raw tab in the super options', `${ROOT}\n2 1 0:41 / /a rw - tmpfs a rw,x=\t`, '\t', /a raw tab/],
    [
      'a slave of its own peer group',
      `${ROOT}\n2 1 0:41 / /a rw shared:5 master:5 - tmpfs a rw`,
      'master:5',
      /own peer group/,
    ],
    ['shared:0', `${ROOT}\n2 1 0:41 / /a rw shared:0 - tmpfs a rw`, 'shared:0', /shared:0: peer group IDs start at 1/],
    ['master:0', `${ROOT}\n2 1 0:41 / /a rw master:0 - tmpfs a rw`, 'master:0', /master:0: peer group IDs start at 1/],
    [
      'a group id above 2^31',
      `${ROOT}\n2 1 0:41 / /a rw shared:2147483648 - tmpfs a rw`,
      'shared:',
      /shared:2147483648 is out of range/,
    ],
    [
      'propagate_from without master',
      `${ROOT}\n2 1 0:41 / /a rw propagate_from:3 - tmpfs a rw`,
      'propagate_from',
      /without master/,
    ],
    [
      'propagate_from equal to master',
      `${ROOT}\n2 1 0:41 / /a rw master:3 propagate_from:3 - tmpfs a rw`,
      'propagate_from',
      /equals master:3/,
    ],
    [
      "a mountpoint not below its parent's",
      `${ROOT}\n2 1 0:41 / /a rw - tmpfs a rw\n3 2 0:42 / /b/c rw - tmpfs c rw`,
      '/b/c',
      /"\/b\/c" is not below its parent's \(mount ID 2 on "\/a", line 2\)/,
    ],
    [
      "a mountpoint that only starts with its parent's name",
      `${ROOT}\n2 1 0:41 / /a rw - tmpfs a rw\n3 2 0:42 / /ab rw - tmpfs c rw`,
      '/ab',
      /not below/,
    ],
  ];
  for (const [what, text, at, re] of cases) {
    it(`refuses ${what} with file:line:col, in a plain file and under a @task header`, () => {
      const lines = text.split('\n');
      const line = lines.length;
      const col = lines[line - 1]!.indexOf(at) + 1;
      const e = parseError(() => parseCapture(text, 'cap'));
      assert.deepEqual([e.file, e.line, e.column], ['cap', line, col]);
      assert.match(e.message, re);
      const inTask = parseError(() => parseCapture(`@task init pid=1 mntns=7\n${text}`, 'cap'));
      assert.deepEqual([inTask.line, inTask.column], [line + 1, col]);
    });
  }

  it('still reads what kernels print: 2^31 - 1, propagate_from beside another master, stacked, nested mounts', () => {
    const text = [
      '2147483647 2147483646 0:40 / / rw - tmpfs root rw',
      '5 2147483647 0:41 / /a rw shared:2147483647 master:1 propagate_from:2 - tmpfs a rw',
      '6 5 0:42 / /a rw - tmpfs a2 rw',
      '7 6 0:43 / /a/b/c rw - tmpfs c rw',
      '8 7 0:44 / /a/b/c/d\\011e rw - tmpfs d rw',
    ].join('\n');
    assert.equal(parseCapture(text).tasks[0]!.mounts.length, 5);
  });
});
