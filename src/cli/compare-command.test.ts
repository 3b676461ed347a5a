import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseCapture } from '../capture/capture-file.js';
import { compareCaptures } from '../compare/compare.js';
import { compareCommand } from './compare-command.js';

const BEFORE = [
  '@task init pid=10 mntns=4026532296 cwd=/ root=/',
  '21 20 254:0 / / rw - ext4 /dev/vda rw',
  '22 21 0:40 / /w rw shared:1 - tmpfs w rw',
  '23 22 0:41 / /w/c rw master:1 - tmpfs c rw',
  '24 21 0:42 / /auto rw - autofs systemd-1 rw,fd=5,pgrp=1,timeout=0,pipe_ino=100',
  '@fd 3 flags=2 pos=7 mnt=22 ino=11 dev=0:40 nlink=1 type=file size=9 ' +
    'sha256=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 path=/w/a',
].join('\n');
/** BEFORE after a good restore: ids, peer group, minors, inode, autofs pipe renumbered. */
const AFTER = [
  '@task init pid=99 mntns=4026532500 cwd=/ root=/',
  '53 50 0:61 / /w/c rw master:7 - tmpfs c rw',
  '51 49 254:0 / / rw - ext4 /dev/vda rw',
  '50 51 0:60 / /w rw shared:7 - tmpfs w rw',
  '52 51 0:62 / /auto rw - autofs systemd-1 rw,fd=9,pgrp=1,timeout=0,pipe_ino=300',
  '@fd 3 flags=2 pos=7 mnt=50 ino=44 dev=0:60 nlink=1 type=file size=9 ' +
    'sha256=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 path=/w/a',
].join('\n');
const SLAVE_LOST = AFTER.replace(' master:7', '');
const MASTER_SENTENCE = '/w/c was a slave of the peer group of /w (master:1); after restore it is private';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(before: string, after: string, opts: { json?: boolean; stdin?: string } = {}): Promise<Run> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c: Buffer) => (o += c.toString('latin1')));
  err.on('data', (c: Buffer) => (e += c.toString('latin1')));
  const stdin = opts.stdin === undefined ? undefined : PassThrough.from([Buffer.from(opts.stdin, 'latin1')]);
  const code = await compareCommand(before, after, {
    ...(opts.json ? { json: true } : {}),
    out,
    err,
    ...(stdin ? { stdin } : {}),
  });
  return { code, out: o, err: e };
}

describe('mountlab compare', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text, 'latin1');
    return p;
  };
  before(() => (dir = mkdtempSync(join(tmpdir(), 'mountlab-compare-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and says equivalent for a good restore, noting the ignored autofs options', async () => {
    const r = await run(file('b', BEFORE), file('a', AFTER));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines.at(-1), 'equivalent');
    assert.deepEqual(
      lines.slice(0, -1).map((l) => l.replace(/:.*$/, '')),
      ['note', 'note', 'note'],
    );
    assert.match(r.out, /^note: super option fd on autofs not compared \(its value differed\) on \/auto: /m);
  });

  it('exits 1 and prints each difference, then the count', async () => {
    const r = await run(file('b', BEFORE), file('a', SLAVE_LOST.replace('pos=7', 'pos=0')));
    assert.equal(r.code, 1);
    const lines = r.out
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('note: '));
    assert.deepEqual(lines, ['task init fd 3 (/w/a): file offset changed: 7 -> 0', MASTER_SENTENCE, '2 differences']);
  });

  it('says "1 difference" for one', async () => {
    const r = await run(file('b', BEFORE), file('a', SLAVE_LOST));
    assert.equal(r.code, 1);
    assert.match(r.out, /\n1 difference\n$/);
  });

  it('compares a plain mountinfo file, as one task called init, against a capture', async () => {
    const plain = `${BEFORE.split('\n')
      .filter((l) => !l.startsWith('@'))
      .join('\n')}\n`;
    const r = await run(file('plain', plain), file('a', AFTER));
    // The capture has an open file the plain mountinfo cannot show: reported, and noted.
    assert.equal(r.code, 1);
    assert.match(r.out, /^after restore task init has an extra fd 3 /m);
    assert.match(r.out, /^note: before: the capture has no open file descriptors/m);
    const mounts = AFTER.split('\n')
      .filter((l) => !l.startsWith('@'))
      .join('\n');
    assert.equal((await run(file('plain', plain), file('a2', mounts))).code, 0);
  });

  it('exits 2 on unreadable input with file:line:col and the line, printing nothing on stdout', async () => {
    const bad = file(
      'bad',
      BEFORE.replace('22 21 0:40 / /w rw shared:1 - tmpfs w rw', '22 21 0:40 / /w rw shared:x - tmpfs w rw'),
    );
    const r = await run(bad, file('a', AFTER));
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    const [msg, src, caret] = r.err.split('\n');
    assert.equal(
      msg,
      `mountlab compare: ${bad}:3:20: expected shared:N with N a peer group ID (a decimal number), found "shared:x"`,
    );
    assert.equal(src, '  3 | 22 21 0:40 / /w rw shared:x - tmpfs w rw');
    assert.equal(caret, `    | ${' '.repeat(19)}^`);
    const garbage = await run(file('b', BEFORE), file('garbage', 'hello world\n'));
    assert.equal(garbage.code, 2);
    assert.match(garbage.err, /garbage:1:1: expected the mount ID \(a decimal number\), found "hello"/);
    const fd = await run(file('b', BEFORE), file('fd', AFTER.replace('pos=7', 'pos=x')));
    assert.equal(fd.code, 2);
    assert.match(fd.err, /fd:6:\d+: expected pos=<number>/);
  });

  it('exits 2 on a missing file, naming it', async () => {
    const missing = join(dir, 'nope');
    const r = await run(file('b', BEFORE), missing);
    assert.equal(r.code, 2);
    assert.equal(r.err, `mountlab compare: cannot read ${missing}: no such file\n`);
    assert.equal((await run(dir, missing)).err, `mountlab compare: cannot read ${dir}: it is a directory\n`);
  });

  it("reads '-' from stdin, for one side only", async () => {
    const r = await run('-', file('a', SLAVE_LOST), { stdin: BEFORE });
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`^${MASTER_SENTENCE.replace(/[()[\]]/g, '\\$&')}$`, 'm'));
    const e = await run('-', file('a', BEFORE), { stdin: '1 0 x\n' });
    assert.match(e.err, /<stdin>:1:5: /);
    const both = await run('-', '-', { stdin: '' });
    assert.equal(both.code, 2);
    assert.match(both.err, /only one of BEFORE and AFTER can be '-'/);
  });

  it('--json prints one object equal to the comparison', async () => {
    const b = file('b', BEFORE);
    const a = file('a', SLAVE_LOST);
    const r = await run(b, a, { json: true });
    assert.equal(r.code, 1);
    assert.equal(r.out.trimEnd().split('\n').length, 1);
    const got = JSON.parse(r.out);
    const want = compareCaptures(parseCapture(BEFORE, b), parseCapture(SLAVE_LOST, a));
    assert.deepEqual(got, JSON.parse(JSON.stringify(want)));
    assert.deepEqual(Object.keys(got), ['equivalent', 'differences', 'filtered', 'notes']);
    assert.equal(got.differences[0].sentence, MASTER_SENTENCE);
    const eq = await run(b, file('a', AFTER), { json: true });
    assert.equal(eq.code, 0);
    assert.equal(JSON.parse(eq.out).equivalent, true);
  });

  it('shows UTF-8 paths (read as bytes) as text', async () => {
    const b = BEFORE.replace(/\/w\/c/g, '/w/caf\xc3\xa9');
    const a = SLAVE_LOST.replace(/\/w\/c/g, '/w/caf\xc3\xa9');
    const r = await run(file('b', b), file('a', a));
    assert.equal(r.code, 1);
    assert.ok(Buffer.from(r.out, 'latin1').toString('utf8').includes('/w/café was a slave'), r.out);
  });
});
