import { strict as assert } from 'node:assert';
import { readFdProbeOutput } from '../capture/probe-answers.js';
import { parseCapture } from '../capture/capture-file.js';
import { judgeFdProbes, planFdProbes } from './fd-probe.js';

/** The helper's text as the guest client reads it, then judged. */
const judge = (plan: Parameters<typeof judgeFdProbes>[0], out: string) => judgeFdProbes(plan, readFdProbeOutput(out));

const H = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

/** One task per key, mount 24 (before) or 77 (after) on /w. */
function capture(
  tasks: Record<string, { pid: number; fds: string[] }>,
  after = false,
): ReturnType<typeof parseCapture> {
  const lines: string[] = [];
  for (const [key, t] of Object.entries(tasks)) {
    lines.push(`@task ${key} pid=${t.pid} mntns=4026532296 cwd=/ root=/`);
    lines.push(after ? '70 69 254:0 / / rw - ext4 /dev/vda rw' : '21 20 254:0 / / rw - ext4 /dev/vda rw');
    lines.push(after ? '77 70 0:51 / /w rw - tmpfs w rw' : '24 21 0:41 / /w rw - tmpfs w rw');
    lines.push(...t.fds.map((f) => (after ? f.replace(/mnt=24/, 'mnt=77').replace(/dev=0:41/, 'dev=0:51') : f)));
  }
  return parseCapture(`${lines.join('\n')}\n`);
}

const fd = (n: number, flags: string, rest: string) =>
  `@fd ${n} flags=${flags} pos=7 mnt=24 ino=${n} dev=0:41 type=file size=5 sha256=${H} ${rest}`;

// Seed 004 in task init (fd 20 = a_fd, fd 21 = the new a), with fds that must
// not be probed around it, and a ghost file in task kid.
const BEFORE_INIT = [
  fd(20, '100002', 'nlink=1 names=/w/b path=/w/a\\040(deleted)'),
  fd(21, '100001', 'nlink=1 path=/w/a'), // plain file: its path is its only name
  fd(22, '100000', 'nlink=1 names=/w/b path=/w/a\\040(deleted)'), // read-only
  fd(23, '10000002', 'nlink=1 names=/w/b path=/w/a\\040(deleted)'), // O_PATH
  fd(24, '100002', 'nlink=2 names=/w/c,/w/my\\040dir/d path=/w/c'), // linked twice, not deleted
  '@fd 25 flags=1 pos=0 mnt=13 ino=9 dev=0:13 nlink=1 type=fifo size=0 path=pipe:[9]',
];
const BEFORE_KID = [fd(3, '2001', 'nlink=0 path=/w/g\\040(deleted)')];

const before = capture({ init: { pid: 10, fds: BEFORE_INIT }, kid: { pid: 11, fds: BEFORE_KID } });
/** The same after restore, pids renumbered; `edit` rewrites after-side lines. */
const restored = (edit: (l: string) => string = (l) => l) =>
  capture({ kid: { pid: 201, fds: BEFORE_KID.map(edit) }, init: { pid: 200, fds: BEFORE_INIT.map(edit) } }, true);

describe('fd probe', () => {
  describe('planFdProbes', () => {
    it('probes writable regular files that were deleted or had names; candidates: the before names and path', () => {
      const plan = planFdProbes(before, restored(), 'N');
      assert.deepEqual(
        plan.probes.map((p) => [p.task, p.fd, p.pid, p.expected, p.candidates]),
        [
          ['init', 20, 200, ['/w/b'], ['/w/b', '/w/a']],
          ['init', 24, 200, ['/w/c', '/w/my dir/d'], ['/w/c', '/w/my dir/d']],
          ['kid', 3, 201, [], ['/w/g']],
        ],
      );
      assert.equal(
        plan.input,
        '200 20 mountlab-fd-probe:N:1\\012 /w/b /w/a\n' +
          '200 24 mountlab-fd-probe:N:2\\012 /w/c /w/my\\040dir/d\n' +
          '201 3 mountlab-fd-probe:N:3\\012 /w/g\n',
      );
      assert.deepEqual(plan.notes, []);
    });

    it('goes by the after side for writability, the before for names; an unmatched task or fd is not probed', () => {
      const ro = planFdProbes(
        before,
        restored((l) => (l.startsWith('@fd 20 ') ? l.replace('flags=100002', 'flags=100000') : l)),
        'N',
      );
      assert.deepEqual(
        ro.probes.map((p) => p.fd),
        [24, 3],
      );
      const lost = planFdProbes(
        before,
        capture({ init: { pid: 200, fds: BEFORE_INIT.filter((l) => !l.startsWith('@fd 20 ')) } }, true),
        'N',
      );
      assert.deepEqual(
        lost.probes.map((p) => [p.task, p.fd]),
        [['init', 24]],
      );
    });

    it('notes a deleted, still linked file whose names the capture lacks; nothing to send without names', () => {
      const noNames = BEFORE_INIT.map((l) =>
        l.replace(/ names=\S+/, '').replace('path=/w/c', 'names-error=covered path=/w/c'),
      );
      const plan = planFdProbes(
        capture({ init: { pid: 10, fds: noNames } }),
        capture({ init: { pid: 200, fds: noNames } }, true),
        'N',
      );
      assert.deepEqual(plan.probes, []);
      assert.equal(plan.input, '');
      assert.deepEqual(plan.notes, [
        'task init fd 20 (/w/a (deleted, still linked as another name)): not probed: ' +
          'in the capture before the dump it has no names list, so where a write should land is unknown',
      ]);
      const r = judge(plan, '');
      assert.deepEqual([r.differences, r.planned, r.probed, r.checks], [[], 0, 0, 0]);
      assert.equal(r.notes[0], 'fd probe: 0 fds to probe, 0 written through, 0 paths checked, 0 misdirected');
      assert.equal(r.notes.length, 2);
    });
  });

  describe('judgeFdProbes', () => {
    const plan = planFdProbes(before, restored(), 'N');
    const GOOD = [
      'probe 200 20 ok yes:/w/b no:/w/a',
      'probe 200 24 ok yes:/w/c yes:/w/my\\040dir/d',
      'probe 201 3 ok missing:/w/g',
    ];

    it('finds nothing wrong when each write reached exactly the names, and counts what it checked', () => {
      const r = judge(plan, `${GOOD.join('\n')}\n`);
      assert.deepEqual(r.differences, []);
      assert.deepEqual([r.planned, r.probed, r.checks], [3, 3, 5]);
      assert.deepEqual(r.notes, ['fd probe: 3 fds to probe, 3 written through, 5 paths checked, 0 misdirected']);
    });

    it('reports seed 004 restored onto the new a: the write reached a, not b', () => {
      const r = judge(plan, ['probe 200 20 ok no:/w/b yes:/w/a', GOOD[1], GOOD[2]].join('\n'));
      assert.deepEqual(r.differences, [
        {
          kind: 'fd-write-misdirected',
          task: 'init',
          tasks: ['init'],
          sentence:
            'task init fd 20 (/w/a (deleted, still linked as another name)): ' +
            'a write through it reached /w/a, which was not a name of its file before the dump, ' +
            'and did not reach /w/b, which named its file before the dump; it should reach exactly /w/b',
        },
      ]);
      assert.equal(r.notes[0], 'fd probe: 3 fds to probe, 3 written through, 5 paths checked, 1 misdirected');
    });

    it('reports a name with no file left, a second name missed, and a ghost whose write reached its old path', () => {
      const r = judge(
        plan,
        [
          'probe 200 20 ok missing:/w/b no:/w/a',
          'probe 200 24 ok yes:/w/c no:/w/my\\040dir/d',
          'probe 201 3 ok yes:/w/g',
        ].join('\n'),
      );
      assert.deepEqual(
        r.differences.map((d) => d.sentence),
        [
          'task init fd 20 (/w/a (deleted, still linked as another name)): ' +
            'a write through it found no file at /w/b, which named its file before the dump; ' +
            'it should reach exactly /w/b',
          'task init fd 24 (/w/c (not deleted)): a write through it did not reach /w/my dir/d, ' +
            'which named its file before the dump; it should reach exactly /w/c and /w/my dir/d',
          'task kid fd 3 (/w/g (deleted, no link left: nlink 0)): ' +
            'a write through it reached /w/g, which was not a name of its file before the dump; ' +
            'its file had no name left before the dump, so it should reach none of these paths',
        ],
      );
      assert.deepEqual(
        r.differences.map((d) => d.task),
        ['init', 'init', 'kid'],
      );
    });

    it('notes what it could not probe: no pidfd_getfd, a missing answer, an unreadable candidate, stray lines', () => {
      const r = judge(
        plan,
        ['probe 200 20 error pidfd_getfd ENOSYS', 'probe 201 3 ok EACCES:/w/g', 'probe 999 1 ok', 'garbage'].join('\n'),
      );
      assert.deepEqual(r.differences, []);
      assert.deepEqual([r.probed, r.checks], [1, 0]);
      assert.deepEqual(r.notes, [
        'fd probe: 3 fds to probe, 1 written through, 0 paths checked, 0 misdirected',
        'fd probe: the helper answered a line this lab does not read: "garbage"',
        'task init fd 20 (/w/a (deleted, still linked as another name)): ' +
          'not probed: pidfd_getfd failed with ENOSYS (the kernel has no pidfd_getfd: it needs Linux 5.6+)',
        'task init fd 24 (/w/c (not deleted)): not probed: the helper gave no answer for it',
        'task kid fd 3: the probe could not check /w/g: reading it failed with EACCES',
        'fd probe: the helper answered for pid and fd 999 1, which was not asked',
      ]);
    });
  });
});
