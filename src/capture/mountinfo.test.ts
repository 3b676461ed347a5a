import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { fixture, parseError } from './capture.testutil.js';
import {
  formatMountinfoLine,
  MountinfoParseError,
  parseMountinfo,
  parseMountinfoLine,
  type MountEntry,
} from './mountinfo.js';

describe('mountinfo parser', () => {
  it('reads every field of the proc(5) example line', () => {
    const [e] = parseMountinfo('36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n');
    assert.deepEqual(e, {
      line: 1,
      mountId: 36,
      parentId: 35,
      major: 98,
      minor: 0,
      root: '/mnt1',
      mountPoint: '/mnt2',
      mountOptions: ['rw', 'noatime'],
      master: 1,
      unbindable: false,
      fsType: 'ext3',
      source: '/dev/root',
      superOptions: ['rw', 'errors=continue'],
    } satisfies MountEntry);
  });

  it('decodes \\040 \\011 \\012 \\134 in root, mount point, fstype, source and super options', () => {
    const [e] = parseMountinfo('1 0 0:5 /a\\040b /c\\011d\\012e\\134f rw - fuse.my\\040fs src\\040x rw,path=/p\\040q');
    assert.equal(e!.root, '/a b');
    assert.equal(e!.mountPoint, '/c\td\ne\\f');
    assert.equal(e!.fsType, 'fuse.my fs');
    assert.equal(e!.source, 'src x');
    assert.deepEqual(e!.superOptions, ['rw', 'path=/p q']);
  });

  it('keeps an escaped comma (\\054) inside its super option, since options are split before decoding', () => {
    const [e] = parseMountinfo('1 0 0:5 / / rw - overlay overlay rw,lowerdir=/a\\054b,upperdir=/u');
    assert.deepEqual(e!.superOptions, ['rw', 'lowerdir=/a,b', 'upperdir=/u']);
  });

  it('leaves a backslash that is not an octal escape alone', () => {
    const [e] = parseMountinfo('1 0 0:5 / /x\\q\\9 rw - tmpfs t rw');
    assert.equal(e!.mountPoint, '/x\\q\\9');
  });

  it('keeps non-UTF-8 bytes when the file is decoded as latin1', () => {
    const bytes = Buffer.concat([
      Buffer.from('1 0 0:5 / /caf'),
      Buffer.from([0xc3, 0xa9, 0xff]),
      Buffer.from(' rw - tmpfs t rw\n'),
    ]);
    const [e] = parseMountinfo(bytes.toString('latin1'));
    assert.deepEqual([...Buffer.from(e!.mountPoint, 'latin1')], [...Buffer.from('/caf'), 0xc3, 0xa9, 0xff]);
  });

  it('reads shared:N, master:N, propagate_from:N and unbindable, alone and together', () => {
    const line = (opt: string) => parseMountinfoLine(`5 1 0:40 / /m rw ${opt} - tmpfs t rw`, 1);
    assert.equal(line('shared:3').shared, 3);
    const both = line('shared:3 master:1');
    assert.equal(both.shared, 3);
    assert.equal(both.master, 1);
    const pf = line('master:7 propagate_from:2');
    assert.equal(pf.master, 7);
    assert.equal(pf.propagateFrom, 2);
    assert.equal(line('unbindable').unbindable, true);
    const none = parseMountinfoLine('5 1 0:40 / /m rw - tmpfs t rw', 1);
    assert.equal(none.shared, undefined);
    assert.equal(none.master, undefined);
    assert.equal(none.unbindable, false);
  });

  it('keeps unknown optional fields verbatim instead of failing', () => {
    const e = parseMountinfoLine('5 1 0:40 / /m rw shared:2 future:9 flag - tmpfs t rw', 1);
    assert.equal(e.shared, 2);
    assert.deepEqual(e.extraFields, ['future:9', 'flag']);
  });

  it('reads an empty source, which the kernel prints as nothing between two spaces', () => {
    const e = parseMountinfoLine('5 1 0:40 / /m rw - tmpfs  rw', 1);
    assert.equal(e.source, '');
    assert.deepEqual(e.superOptions, ['rw']);
  });

  it('skips blank lines and the trailing newline but counts them in line numbers', () => {
    const es = parseMountinfo('\n1 0 0:5 / / rw - tmpfs t rw\n\n   \n2 1 0:6 / /x rw - tmpfs t rw\n\n');
    assert.deepEqual(
      es.map((e) => [e.mountId, e.line]),
      [
        [1, 2],
        [2, 5],
      ],
    );
  });

  describe('errors name file:line:col and what was expected', () => {
    it('a missing " - " separator', () => {
      const text = '1 0 0:5 / / rw - tmpfs t rw\n2 1 0:6 / /x rw shared:1 tmpfs t rw';
      const e = parseError(() => parseMountinfo(text, 'mi.txt'));
      assert.equal(e.line, 2);
      assert.equal(e.column, text.split('\n')[1]!.length + 1);
      assert.match(e.message, /^mi\.txt:2:\d+: missing the separator ' - '/);
    });

    it('a non-numeric mount id', () => {
      const e = parseError(() => parseMountinfo('x1 0 0:5 / / rw - tmpfs t rw', 'f'));
      assert.deepEqual([e.line, e.column], [1, 1]);
      assert.match(e.message, /^f:1:1: expected the mount ID \(a decimal number\), found "x1"/);
    });

    it('a non-numeric parent id', () => {
      const e = parseError(() => parseMountinfo('10 -3 0:5 / / rw - tmpfs t rw'));
      assert.deepEqual([e.line, e.column], [1, 4]);
      assert.match(e.message, /^<mountinfo>:1:4: expected the parent mount ID/);
    });

    it('a bad major:minor', () => {
      for (const dev of ['0-5', '0:', ':5', '0:5:1', 'a:b']) {
        const e = parseError(() => parseMountinfo(`10 1 ${dev} / / rw - tmpfs t rw`));
        assert.equal(e.column, 6, dev);
        assert.match(e.message, /expected major:minor/);
      }
    });

    it('a truncated line', () => {
      const e = parseError(() => parseMountinfo('36 35 98:0 /mnt1', 'f'));
      assert.deepEqual([e.line, e.column], [1, 17]);
      assert.match(e.message, /line ends early: expected the mount point/);
      const after = parseError(() => parseMountinfo('36 35 98:0 /mnt1 /mnt2 rw - ext3'));
      assert.match(after.message, /line ends early: expected the mount source/);
    });

    it('a malformed or repeated optional field', () => {
      const bad = parseError(() => parseMountinfo('5 1 0:40 / /m rw shared:x - tmpfs t rw'));
      assert.equal(bad.column, 18);
      assert.match(bad.message, /expected shared:N with N a peer group ID/);
      const twice = parseError(() => parseMountinfo('5 1 0:40 / /m rw master:1 master:2 - tmpfs t rw'));
      assert.equal(twice.column, 27);
      assert.match(twice.message, /master appears twice/);
    });

    it('text after the super options', () => {
      const e = parseError(() => parseMountinfo('5 1 0:40 / /m rw - tmpfs t rw extra'));
      assert.equal(e.column, 31);
    });
  });

  it('formats an entry back to a line that parses to the same entry', () => {
    const text =
      '44 45 253:1 /a\\040b /c\\134d ro,nosuid shared:3 master:1 propagate_from:2 unbindable x:1' +
      ' - tmp\\011fs  rw,o=\\054';
    const e = parseMountinfoLine(text, 1);
    assert.equal(formatMountinfoLine(e), text);
  });

  it('parses seed 002 (LXC on Vivid): 21 mounts, /proc/sys bound from proc with root /sys, sysfs over sysfs', () => {
    const es = parseMountinfo(fixture('seed-002-lxc.mountinfo'), 'seed-002');
    assert.equal(es.length, 21);
    const byId = new Map(es.map((e) => [e.mountId, e]));
    assert.deepEqual(
      [byId.get(81)!.root, byId.get(81)!.mountPoint, byId.get(81)!.mountOptions[0]],
      ['/sys', '/proc/sys', 'ro'],
    );
    assert.deepEqual([byId.get(84)!.parentId, byId.get(84)!.mountPoint], [83, '/sys']);
    assert.equal(byId.get(44)!.master, 1);
    assert.deepEqual(byId.get(78)!.superOptions, ['rw', 'size=100k', 'mode=755']);
  });

  it('either parses or throws MountinfoParseError on any line (never another error)', () => {
    const piece = fc.constantFrom(
      '1',
      '23',
      'x',
      '0:5',
      '9:',
      '/',
      '/a\\040b',
      '\\',
      'rw,ro',
      'shared:1',
      'master:',
      'unbindable',
      '-',
      '',
      'tmpfs',
      'propagate_from:3',
      '\t',
      'é',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (words) => {
        const text = words.join(' ');
        try {
          const es = parseMountinfo(text);
          for (const e of es) assert.deepEqual(parseMountinfoLine(formatMountinfoLine(e), e.line), e);
        } catch (e) {
          if (!(e instanceof MountinfoParseError)) throw e;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
