import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { formatCapture, parseCapture, type MapEntry } from '../capture/capture-file.js';
import { MountinfoParseError } from '../capture/mountinfo.js';
import { compareCaptures } from './compare.js';

/**
 * File mappings (@map lines) and the socket and device facts of @fd lines:
 * read, written back, and compared (maps.ts, fds.ts). A restore that loses
 * a mapping, turns a shared one private, or loses a socket's binding is a
 * named difference.
 */

const MOUNTS = (base: number) => [
  `${base} 0 254:0 / / rw - ext4 /dev/vda rw`,
  `${base + 1} ${base} 0:40 / /m rw - tmpfs m rw`,
  `${base + 2} ${base} 0:40 /dir /b rw - tmpfs m rw`,
];

function capture(base: number, extra: string[]): string {
  return [`@task init pid=${base} mntns=${base * 7}`, ...MOUNTS(base), ...extra].join('\n') + '\n';
}

const ghost = (mnt: number, ino = 5) =>
  `@map 7f0000000000-7f0000001000 perms=r--p offset=0 mnt=${mnt} ino=${ino} dev=0:40 nlink=0 ` +
  'path=/m/ghost\\040(deleted)';
const shared = (mnt: number, perms = 'rw-s') =>
  `@map 7f0000002000-7f0000003000 perms=${perms} offset=4096 mnt=${mnt} ino=6 dev=0:40 nlink=1 path=/b/data`;

const kinds = (before: string, after: string) =>
  compareCaptures(parseCapture(before, 'before'), parseCapture(after, 'after')).differences.map((d) => d.kind);

describe('file mappings and socket facts', () => {
  it('reads @map lines: range, perms, offset, mount, stat fields, the path without " (deleted)"', () => {
    const c = parseCapture(capture(20, [ghost(21), shared(22)]));
    assert.deepEqual(c.tasks[0]!.maps, [
      {
        start: '7f0000000000',
        end: '7f0000001000',
        perms: 'r--p',
        offset: 0,
        mntId: 21,
        ino: 5,
        dev: '0:40',
        nlink: 0,
        path: '/m/ghost',
        deleted: true,
      },
      {
        start: '7f0000002000',
        end: '7f0000003000',
        perms: 'rw-s',
        offset: 4096,
        mntId: 22,
        ino: 6,
        dev: '0:40',
        nlink: 1,
        path: '/b/data',
        deleted: false,
      },
    ]);
  });

  it('reads rdev and socket facts of @fd lines, and writes all of it back unchanged', () => {
    const text = capture(20, [
      '@fd 10 flags=2 pos=0 mnt=21 ino=9 dev=0:40 nlink=1 type=chr size=0 rdev=1:3 path=/m/null',
      '@fd 11 flags=2 pos=0 mnt=8 ino=77 dev=0:8 nlink=1 type=socket size=0 sock=unix/stream listening=1 ' +
        'sock-name=/m/a\\040b.sock path=socket:[77]',
      '@fd 12 flags=2 pos=0 mnt=8 ino=78 dev=0:8 nlink=1 type=socket size=0 sock=unix/dgram ' +
        'sock-peer=- path=socket:[78]',
      '@fd 13 flags=2 pos=0 mnt=8 type=socket sock-error=EPERM path=socket:[79]',
      ghost(21),
    ]);
    const c = parseCapture(text);
    const fds = c.tasks[0]!.fds;
    assert.equal(fds[0]!.rdev, '1:3');
    assert.deepEqual(fds[1]!.socket, { kind: 'unix/stream', listening: true, name: '/m/a b.sock' });
    assert.deepEqual(fds[2]!.socket, { kind: 'unix/dgram', listening: false, peer: '-' });
    assert.equal(fds[3]!.socketError, 'EPERM');
    assert.equal(formatCapture(c), text);
  });

  it('refuses malformed @map lines with line:col', () => {
    const head = capture(20, []);
    const cases: [string, number, RegExp][] = [
      ['@map 7f00 perms=r--p offset=0 mnt=1 path=/a', 6, /expected START-END/],
      ['@map 2000-1000 perms=r--p offset=0 mnt=1 path=/a', 6, /ends before it starts/],
      ['@map 1000-2000 perms=rw offset=0 mnt=1 path=/a', 22, /expected perms=<rwxp or rwxs>/],
      ['@map 1000-2000 perms=r--p offset=0 mnt=1', 41, /expected path=/],
    ];
    for (const [line, col, re] of cases) {
      let err: unknown;
      try {
        parseCapture(head + line, 'cap');
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof MountinfoParseError, `${line}: ${String(err)}`);
      assert.deepEqual([err.line, err.column], [5, col], line);
      assert.match(err.message, re);
    }
    assert.throws(() => parseCapture('@map 1000-2000 perms=r--p offset=0 mnt=1 path=/a\n'), /before the first '@task'/);
  });

  it('finds a restore equivalent when the mappings come back in place (mount ids renumbered)', () => {
    assert.deepEqual(kinds(capture(20, [ghost(21), shared(22)]), capture(40, [ghost(41, 99), shared(42)])), []);
  });

  it('names a lost mapping, an added one, a shared mapping restored private, and another file', () => {
    assert.deepEqual(kinds(capture(20, [ghost(21), shared(22)]), capture(40, [shared(42)])), ['map-lost']);
    assert.deepEqual(kinds(capture(20, [shared(22)]), capture(40, [ghost(41), shared(42)])), ['map-added']);
    assert.deepEqual(kinds(capture(20, [shared(22)]), capture(40, [shared(42, 'rw-p')])), ['map-sharing-changed']);
    assert.deepEqual(kinds(capture(20, [shared(22)]), capture(40, [shared(42, 'r--s')])), ['map-changed']);
    const relinked = ghost(41).replace('/m/ghost\\040(deleted)', '/m/ghost');
    assert.deepEqual(kinds(capture(20, [ghost(21)]), capture(40, [relinked])), ['map-file-changed']);
    const c = compareCaptures(parseCapture(capture(20, [shared(22)])), parseCapture(capture(40, [shared(42, 'rw-p')])));
    assert.match(c.differences[0]!.sentence, /the mapping of \/b\/data, shared rw- at offset 4096.* is private/);
  });

  it('names a mapping through another mount than the counterpart of its own', () => {
    // /b's counterpart is 42; 41 (/m) maps the same file, but through another mount.
    assert.deepEqual(kinds(capture(20, [shared(22)]), capture(40, [shared(41)])), ['map-mount-changed']);
  });

  it('names a socket that lost its binding, its listening state or its peer, and a device node renumbered', () => {
    const sock = (attrs: string) =>
      `@fd 11 flags=2 pos=0 mnt=8 ino=77 dev=0:8 nlink=1 type=socket size=0 ${attrs} path=socket:[77]`;
    const bound = sock('sock=unix/stream listening=1 sock-name=/m/s.sock');
    assert.deepEqual(kinds(capture(20, [bound]), capture(40, [bound])), []);
    assert.deepEqual(kinds(capture(20, [bound]), capture(40, [sock('sock=unix/stream listening=1')])), [
      'fd-socket-changed',
    ]);
    assert.deepEqual(kinds(capture(20, [bound]), capture(40, [sock('sock=unix/stream sock-name=/m/s.sock')])), [
      'fd-socket-changed',
    ]);
    const peer = sock('sock=unix/dgram sock-peer=/m/log.sock');
    const c = compareCaptures(parseCapture(capture(20, [peer])), parseCapture(capture(40, [sock('sock=unix/dgram')])));
    assert.deepEqual(
      c.differences.map((d) => d.sentence),
      ['task init fd 11 (socket:[77]): the socket changed: peer /m/log.sock -> (not connected)'],
    );
    const dev = (rdev: string, base = 20) =>
      `@fd 10 flags=2 pos=0 mnt=${base + 1} ino=9 dev=0:40 nlink=1 type=chr size=0 rdev=${rdev} path=/m/null`;
    assert.deepEqual(kinds(capture(20, [dev('1:3')]), capture(40, [dev('1:5', 40)])), ['fd-device-changed']);
  });

  describe('properties', () => {
    const arbMap = fc.record({
      page: fc.integer({ min: 1, max: 1000 }),
      pages: fc.integer({ min: 1, max: 4 }),
      write: fc.boolean(),
      shared: fc.boolean(),
      offset: fc.integer({ min: 0, max: 16 }),
      mount: fc.constantFrom(1, 2),
      deleted: fc.boolean(),
      name: fc.constantFrom('a', 'b c', 'd\\e'),
    });
    type ArbMap = typeof arbMap extends fc.Arbitrary<infer T> ? T : never;
    const render = (maps: ArbMap[], base: number): string[] => {
      const seen = new Set<number>();
      return maps
        .filter((m) => !seen.has(m.page) && seen.add(m.page))
        .map((m) => {
          const e: MapEntry = {
            start: (m.page * 0x10000).toString(16),
            end: (m.page * 0x10000 + m.pages * 0x1000).toString(16),
            perms: `r${m.write ? 'w' : '-'}-${m.shared ? 's' : 'p'}`,
            offset: m.offset * 4096,
            mntId: base + m.mount,
            path: `/m/${m.name}`,
            deleted: m.deleted,
          };
          return formatCapture({ tasks: [{ key: 'init', pid: 1, mntNs: '1', mounts: [], fds: [], maps: [e] }] })
            .split('\n')
            .find((l) => l.startsWith('@map'))!;
        });
    };

    it('a capture compared with itself renumbered is equivalent; dropping one mapping is one map-lost', () => {
      fc.assert(
        fc.property(fc.array(arbMap, { minLength: 1, maxLength: 8 }), fc.nat(), (maps, which) => {
          const before = render(maps, 20);
          const after = render(maps, 40);
          assert.deepEqual(kinds(capture(20, before), capture(40, after)), []);
          const i = which % after.length;
          assert.deepEqual(
            kinds(
              capture(20, before),
              capture(
                40,
                after.filter((_l, j) => j !== i),
              ),
            ),
            ['map-lost'],
          );
        }),
      );
    });

    it('flipping one mapping between shared and private is exactly one map-sharing-changed', () => {
      fc.assert(
        fc.property(fc.array(arbMap, { minLength: 1, maxLength: 8 }), fc.nat(), (maps, which) => {
          const before = render(maps, 20);
          const after = render(maps, 40);
          const i = which % after.length;
          after[i] = after[i]!.replace(
            /perms=(...)(.)/,
            (_m, rwx: string, s: string) => `perms=${rwx}${s === 's' ? 'p' : 's'}`,
          );
          assert.deepEqual(kinds(capture(20, before), capture(40, after)), ['map-sharing-changed']);
        }),
      );
    });
  });
});
