import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { BadInputError } from '../errors.js';
import { SEED_001, SEED_002 } from './fixtures.testutil.js';
import { parsePaste, type Paste } from './parse-paste.js';
import { thrown } from '../../test/thrown.js';

const seed = (f: string) => readFileSync(f, 'latin1');

const ids = (p: Paste) => p.tasks.map((t) => t.mounts.map((m) => m.mountId));

const LINE = (id: number, parent: number, mp: string, opt = '') =>
  `${id} ${parent} 0:${id} / ${mp} rw,relatime${opt} - tmpfs t${id} rw`;

describe('import: parse-paste', () => {
  it('reads raw mountinfo as one task, init', () => {
    const p = parsePaste(`${LINE(1, 0, '/')}\n${LINE(2, 1, '/a', ' shared:3')}\n`, 'f');
    assert.equal(p.kind, 'mountinfo');
    assert.deepEqual(
      p.tasks.map((t) => t.name),
      ['init'],
    );
    assert.deepEqual(ids(p), [[1, 2]]);
    assert.equal(p.tasks[0]!.mounts[1]!.shared, 3);
    assert.deepEqual(p.lines, [1, 2]);
  });

  it("reads seed 002's LXC mountinfo out of the archived mail: 21 mounts, quote markers stripped", () => {
    const text = seed(SEED_002);
    const p = parsePaste(text, 'seed-002');
    assert.deepEqual(p.lines, [16, 36]);
    assert.equal(p.tasks[0]!.mounts.length, 21);
    assert.deepEqual(p.tasks[0]!.mounts[0]!.master, 1);
    assert.ok(p.notes.some((n) => /quote markers/.test(n)));
  });

  it("finds seed 001's two pastes, refuses to guess, reads each with --pick (the second from wrapped lines)", () => {
    const text = seed(SEED_001);
    const msg = thrown(() => parsePaste(text, 'seed-001'), BadInputError).message;
    assert.match(
      msg,
      new RegExp(
        /^seed-001:63:1: the text holds 2 separate pastes: /.source +
          /1\) lines 50-53, a table of 4 mounts; 2\) lines 63-70, mountinfo of 4 mounts; choose one with --pick N/
            .source,
      ),
    );
    const table = parsePaste(text, 'seed-001', { pick: 1 });
    assert.equal(table.kind, 'table');
    assert.deepEqual(
      table.tasks[0]!.mounts.map((m) => [m.mountId, m.parentId, m.mountPoint, m.shared ?? 0, m.master ?? 0]),
      [
        [101, 0, '/tmp', 0, 4],
        [102, 101, '/tmp', 4, 3],
        [103, 102, '/tmp', 3, 1],
        [104, 103, '/tmp', 1, 0],
      ],
    );
    const wrapped = parsePaste(text, 'seed-001', { pick: 2 });
    assert.equal(wrapped.kind, 'mountinfo');
    assert.deepEqual(
      wrapped.tasks[0]!.mounts.map((m) => [
        m.mountId,
        m.mountPoint,
        m.shared,
        m.master,
        m.fsType,
        m.source,
        m.superOptions.join(','),
      ]),
      [
        [960, '/tmp/propagation-tests/tmp', undefined, 452, 'tmpfs', 'propagation-tests-src', 'rw,inode64'],
        [958, '/tmp/propagation-tests/tmp/sub', 452, 451, 'tmpfs', 'propagation-tests-src', 'rw,inode64'],
        [961, '/tmp/propagation-tests/tmp/sub/sub', 451, 433, 'tmpfs', 'propagation-tests-src', 'rw,inode64'],
        [963, '/tmp/propagation-tests/tmp/sub/sub/sub', 433, undefined, 'tmpfs', 'propagation-tests-src', 'rw,inode64'],
      ],
    );
    assert.ok(wrapped.notes.includes('4 wrapped mountinfo lines were joined again'), wrapped.notes.join('; '));
    assert.match(
      thrown(() => parsePaste(text, 'seed-001', { pick: 3 }), BadInputError).message,
      /--pick 3: the text holds 2 pastes/,
    );
  });

  it('strips every quoting depth and style, and blanks before the line', () => {
    for (const q of ['> ', '>> ', '> > ', '>', '  ', '\t', '> \t']) {
      const p = parsePaste(`${q}${LINE(1, 0, '/')}\n${q}${LINE(2, 1, '/a')}\n`, 'f');
      assert.deepEqual(ids(p), [[1, 2]], JSON.stringify(q));
    }
  });

  it('joins a line wrapped several times, at spaces or inside a field, quoted or not', () => {
    const cases = [
      [
        '44 45 253:1 /usr/local/var/lib/lxc/u1/rootfs / rw,relatime master:1 -',
        'ext4 /dev/disk/by-uuid/6c5a78e0-95fa rw,data=ordered',
      ],
      [
        '44 45 253:1 /usr/local/var/lib/lxc/u1/rootfs / rw,relatime',
        'master:1 - ext4',
        '/dev/disk/by-uuid/6c5a78e0-95fa rw,data=ordered',
      ],
      [
        '44 45 253:1 /usr/local/var/lib/lxc/u1/rootfs / rw,relatime master:1 - ext4 /dev/disk/by-u',
        'uid/6c5a78e0-95fa rw,data=ordered',
      ],
    ];
    for (const parts of cases) {
      for (const q of ['', '> ']) {
        const p = parsePaste(`${parts.map((l) => q + l).join('\n')}\n${q}${LINE(46, 44, '/x')}\n`, 'f');
        const m = p.tasks[0]!.mounts[0]!;
        assert.equal(m.source, '/dev/disk/by-uuid/6c5a78e0-95fa', parts.join(' | '));
        assert.deepEqual(m.superOptions, ['rw', 'data=ordered']);
        assert.equal(m.line, 1);
        assert.deepEqual(ids(p), [[44, 46]]);
      }
    }
  });

  it("reads several tasks under == pid N (name) == headers, and the lab's own @task captures", () => {
    const text = [
      'some prose',
      '== pid 1 (systemd) ==',
      LINE(1, 0, '/'),
      '$ cat /proc/42/mountinfo',
      '== pid 42 ==',
      LINE(5, 0, '/'),
      LINE(6, 5, '/b'),
      '== worker ==',
      LINE(7, 0, '/'),
    ].join('\n');
    const p = parsePaste(text, 'f');
    assert.deepEqual(
      p.tasks.map((t) => [t.name, t.pid, t.line]),
      [
        ['systemd', 1, 2],
        ['pid 42', 42, 5],
        ['worker', undefined, 8],
      ],
    );
    assert.deepEqual(ids(p), [[1], [5, 6], [7]]);
    const cap = parsePaste(
      [
        '@task init pid=10 mntns=4026532046 cwd=/ root=/',
        LINE(1, 0, '/'),
        '@fd 3 flags=0 pos=0 mnt=1 path=/x',
        '@task child pid=11 mntns=4026532047',
        LINE(2, 0, '/'),
      ].join('\n'),
      'f',
    );
    assert.deepEqual(
      cap.tasks.map((t) => [t.name, t.pid, t.mntNs]),
      [
        ['init', 10, '4026532046'],
        ['child', 11, '4026532047'],
      ],
    );
  });

  it('reads table rows with or without their header, spaces in the pair allowed', () => {
    const p = parsePaste(
      'mntid parent mountpoint (shared_id, master_id)\n101 0 /tmp (0,4)\n102 101 /tmp ( 4 , 3 )\n',
      'f',
    );
    assert.equal(p.kind, 'table');
    assert.deepEqual(
      p.tasks[0]!.mounts.map((m) => [m.shared, m.master]),
      [
        [undefined, 4],
        [4, 3],
      ],
    );
  });

  it('says FILE:LINE:COL, what is wrong and what to do, for broken lines', () => {
    const cases: [string, RegExp][] = [
      [
        `${LINE(1, 0, '/')}\n2 1 0:2 / /a rw - tmpfs`,
        new RegExp(
          /^f:2:24: line ends early: expected the mount source; complete the line: /.source +
            /a mountinfo line ends with three fields after " - "/.source,
        ),
      ],
      [
        `${LINE(1, 0, '/')}\n2 1 0:x / /a rw - tmpfs t rw`,
        /^f:2:5: expected major:minor \(two decimal numbers\), found "0:x"; fix the field/,
      ],
      [
        `> ${LINE(1, 0, '/')}\n> 2 1 0:2 / /a rw shared:x - tmpfs t rw`,
        /^f:2:19: expected shared:N with N a peer group ID/,
      ],
      [
        `${LINE(1, 0, '/')}\n2 1 0:2 / /a rw -\ntmpfs t rw extra`,
        /^f:3:12: unexpected text after the super options: "extra" \(a mountinfo line wrapped over lines 2-3\)/,
      ],
      [
        'Hello,\nnothing to see here\n',
        /^f:1:1: no mountinfo lines or mount table rows found; paste \/proc\/PID\/mountinfo/,
      ],
      [
        `== pid 1 ==\n${LINE(1, 0, '/')}\n101 0 /tmp (0,4)\n`,
        /^f:3:1: a table row among mountinfo lines; paste one form/,
      ],
      [
        `${LINE(1, 0, '/')}\n== pid 2 ==\n${LINE(2, 0, '/')}\n`,
        /^f:1:1: a mountinfo line before the first task header/,
      ],
      ['101 0 tmp (0,4)\n', /^f:1:7: the mountpoint "tmp" is not an absolute path/],
    ];
    for (const [text, re] of cases) assert.match(thrown(() => parsePaste(text, 'f'), BadInputError).message, re, text);
  });

  it('class: a raw NUL byte anywhere is refused where it is, as a NUL (it was reported as "holds a newline")', () => {
    assert.match(
      thrown(() => parsePaste(`${LINE(1, 0, '/')}\n2 1 0:2 / /a\0b rw - tmpfs t rw\n`, 'f'), BadInputError).message,
      /^f:2:13: a NUL byte, which no mountinfo line or mount table holds/,
    );
    assert.match(
      thrown(() => parsePaste(`prose\0\n${LINE(1, 0, '/')}\n`, 'f'), BadInputError).message,
      /^f:1:6: a NUL byte/,
    );
  });

  it('class: a header name is read up to its last ")" (a "(" in it made it prose and blamed the next line)', () => {
    const p = parsePaste(
      `== pid 7 ((sd-pam)) ==\n${LINE(1, 0, '/')}\n== pid 8 (a(b) == c) ==\n${LINE(2, 0, '/')}\n`,
      'f',
    );
    assert.deepEqual(
      p.tasks.map((t) => [t.name, t.pid]),
      [
        ['(sd-pam)', 7],
        ['a(b) == c', 8],
      ],
    );
  });

  it('class: a header that does not parse is refused on its own line, not the mount line after it', () => {
    for (const h of ['== pid 1 (a ==', '== pid x (a) ==', '== a(b ==']) {
      assert.match(
        thrown(() => parsePaste(`${h}\n${LINE(1, 0, '/')}\n`, 'f'), BadInputError).message,
        /^f:1:1: a task header that does not read as == pid N \(name\) ==/,
        h,
      );
    }
  });

  it('keeps the bytes of escaped and non-UTF-8 names (latin1 in, latin1 out)', () => {
    const p = parsePaste(
      `1 0 0:1 / / rw - tmpfs t rw\n2 1 0:1 /d\\040ir /caf\xc3\xa9\\011x rw - tmpfs my\\040src rw\n`,
      'f',
    );
    const m = p.tasks[0]!.mounts[1]!;
    assert.equal(m.root, '/d ir');
    assert.equal(m.mountPoint, '/caf\xc3\xa9\tx');
    assert.equal(m.source, 'my src');
  });
});
