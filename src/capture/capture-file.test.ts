import { strict as assert } from 'node:assert';
import { fixture, parseError } from './capture.testutil.js';
import { formatCapture, parseCapture, type Capture } from './capture-file.js';

/** A capture without line numbers, which formatting does not preserve. */
const lineless = (c: Capture) => ({
  tasks: c.tasks.map((t) => ({ ...t, mounts: t.mounts.map(({ line: _l, ...rest }) => rest) })),
});

describe('capture files', () => {
  it('reads a plain mountinfo file as one task called init', () => {
    const c = parseCapture(fixture('seed-002-lxc.mountinfo'));
    assert.equal(c.tasks.length, 1);
    assert.deepEqual([c.tasks[0]!.key, c.tasks[0]!.pid, c.tasks[0]!.mntNs], ['init', 0, '']);
    assert.equal(c.tasks[0]!.mounts.length, 21);
  });

  it('reads tasks with pid, mntns, escaped cwd and root, numbering lines over the whole file', () => {
    const text = [
      '@task init pid=10 mntns=4026532296 cwd=/w/my\\040dir root=/',
      '1 0 254:0 / / rw - ext4 /dev/vda rw',
      '',
      '@task second\\040one pid=11 mntns=4026532297',
      '5 4 254:0 / / rw - ext4 /dev/vda rw',
      '6 5 0:40 / /t rw - tmpfs t rw',
    ].join('\n');
    const c = parseCapture(text);
    assert.deepEqual(
      c.tasks.map((t) => [t.key, t.pid, t.mntNs, t.cwd, t.root, t.mounts.map((m) => m.line)]),
      [
        ['init', 10, '4026532296', '/w/my dir', '/', [2]],
        ['second one', 11, '4026532297', undefined, undefined, [5, 6]],
      ],
    );
  });

  it('reads locked= and unlocked= into one map of mount ids, writes them back, and refuses a bad list', () => {
    const text = [
      '@task init pid=10 mntns=7 cwd=/ root=/ locked=2,3 unlocked=4',
      '1 0 254:0 / / rw - ext4 /dev/vda rw',
      '2 1 254:0 /usr /usr rw - ext4 /dev/vda rw',
      '3 1 0:40 / /t rw - tmpfs t rw',
      '4 1 0:41 / /u rw - tmpfs u rw',
      '',
    ].join('\n');
    const c = parseCapture(text);
    assert.deepEqual(
      [...c.tasks[0]!.locks!],
      [
        [2, true],
        [3, true],
        [4, false],
      ],
    );
    assert.equal(formatCapture(c), text);
    assert.equal(parseCapture('@task init pid=1 mntns=2\n').tasks[0]!.locks, undefined);
    const bad = parseError(() => parseCapture('@task init pid=1 mntns=2 locked=2,x'));
    assert.match(bad.message, /expected locked=<mount id>,\.\.\., found "2,x"/);
    assert.equal(bad.column, 33);
    assert.match(parseError(() => parseCapture('@task i pid=1 mntns=2 locked=2 unlocked=2')).message, /listed twice/);
  });

  it('reports a bad mountinfo line in the second task with its line in the whole file', () => {
    const text =
      '@task init pid=1 mntns=1\n1 0 0:5 / / rw - tmpfs t rw\n@task t2 pid=2 mntns=1\n2 1 0:5 / /x rw tmpfs t rw\n';
    const e = parseError(() => parseCapture(text, 'cap'));
    assert.equal(e.line, 4);
    assert.match(e.message, /^cap:4:\d+: missing the separator/);
  });

  it('refuses malformed headers with line:col', () => {
    const cases: [string, number, number, RegExp][] = [
      ['1 0 0:5 / / rw - tmpfs t rw\n@task init pid=1 mntns=2', 1, 1, /before the first '@task' header/],
      ['@task init mntns=2', 1, 19, /expected pid=<number>/],
      ['@task init pid=x1 mntns=2', 1, 16, /expected pid=<number>, found pid="x1"/],
      ['@task init pid=1', 1, 17, /expected mntns=/],
      ['@task', 1, 6, /expected a task key/],
      ['@task pid=1 mntns=2', 1, 7, /expected a task key/],
      ['@task init pid=1 mntns=2 junk', 1, 26, /expected name=value/],
      ['@tsak init pid=1 mntns=2', 1, 1, /unknown directive "@tsak"/],
    ];
    for (const [text, line, col, re] of cases) {
      const e = parseError(() => parseCapture(text));
      assert.deepEqual([e.line, e.column], [line, col], text);
      assert.match(e.message, re, text);
    }
  });

  it('reads an empty text as a capture of no task, so that one round-trips too', () => {
    assert.deepEqual(parseCapture(''), { tasks: [] });
    assert.deepEqual(parseCapture(formatCapture({ tasks: [] })), { tasks: [] });
  });

  it('accepts duplicate task keys: a child inherits MOUNTLAB_TASK from its parent', () => {
    const c = parseCapture('@task init pid=1 mntns=2\n@task init pid=3 mntns=2\n');
    assert.deepEqual(
      c.tasks.map((t) => t.pid),
      [1, 3],
    );
  });

  it('formats captures that parse back to the same capture (escapes, empty source, unknown fields)', () => {
    const c = parseCapture(
      '@task a\\075b\\040c pid=1 mntns=9 cwd=/x\\012y root=/\n' +
        '1 0 0:5 / /m\\040n rw shared:1 future:3 - tmpfs  rw,o=\\054\n',
    );
    assert.equal(c.tasks[0]!.key, 'a=b c');
    const again = parseCapture(formatCapture(c));
    assert.deepEqual(lineless(again), lineless(c));
  });

  it('round-trips sha256, hashed, names (commas and spaces escaped) and their error fields on @fd lines', () => {
    const H = 'ec0ab7e0d3829e766b3f32e9534b58d56580d9faff5fc16cd91127589886d915';
    const text = [
      '@task init pid=1 mntns=2',
      '1 0 0:5 / / rw - tmpfs t rw',
      `@fd 20 flags=100002 pos=0 mnt=1 ino=7 dev=0:5 nlink=3 type=file size=11 sha256=${H} ` +
        'names=/w/b,/w/sp\\040ace\\054x/d,/w/back\\134slash path=/w/a\\040(deleted)',
      `@fd 21 flags=0 pos=0 mnt=1 ino=8 dev=0:5 nlink=1 type=file size=68157440 sha256=${H} ` +
        'hashed=67108864 names= names-truncated=20000 path=/w/big\\040(deleted)',
      '@fd 22 flags=0 pos=0 mnt=1 ino=9 dev=0:5 nlink=2 type=file size=1 ' +
        'sha256-error=EACCES names-error=covered path=/w/c',
    ].join('\n');
    const c = parseCapture(text);
    const [a, b, d] = c.tasks[0]!.fds;
    assert.deepEqual(a!.names, ['/w/b', '/w/sp ace,x/d', '/w/back\\slash']);
    assert.equal(a!.sha256, H);
    assert.equal(a!.hashed, undefined);
    assert.deepEqual([b!.names, b!.namesTruncated, b!.hashed], [[], 20000, 67108864]);
    assert.deepEqual([d!.sha256, d!.sha256Error, d!.names, d!.namesError], [undefined, 'EACCES', undefined, 'covered']);
    assert.deepEqual(lineless(parseCapture(formatCapture(c))), lineless(c));
    assert.match(formatCapture(c), /names=\/w\/b,\/w\/sp\\040ace\\054x\/d,/);
  });

  it('keeps an inode number above 2^53 exact (overlayfs xino=on), so neighbours stay apart', () => {
    const c = parseCapture(
      [
        '@task init pid=1 mntns=2',
        '1 0 0:5 / / rw - tmpfs t rw',
        '@fd 3 flags=0 pos=0 mnt=1 ino=9223372036856957337 path=/a',
        '@fd 4 flags=0 pos=0 mnt=1 ino=9223372036856957338 path=/b',
        '@fd 5 flags=0 pos=0 mnt=1 ino=12 path=/c',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      c.tasks[0]!.fds.map((f) => f.ino),
      [9223372036856957337n, 9223372036856957338n, 12],
    );
    assert.match(formatCapture(c), /ino=9223372036856957338 path=\/b/);
  });

  it('refuses a malformed sha256 or hashed with line:col', () => {
    const t = '@task init pid=1 mntns=2\n1 0 0:5 / / rw - tmpfs t rw\n';
    assert.throws(
      () => parseCapture(`${t}@fd 3 flags=0 pos=0 mnt=1 sha256=abc path=/a`, 'cap'),
      /^MountinfoParseError: cap:3:34: expected sha256=<64 hex digits>, found sha256="abc"$/,
    );
    assert.throws(
      () => parseCapture(`${t}@fd 3 flags=0 pos=0 mnt=1 hashed=-1 path=/a`, 'cap'),
      /^MountinfoParseError: cap:3:34: expected hashed=<number>/,
    );
  });
});
