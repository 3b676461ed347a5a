import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { formatCapture, parseCapture, type Capture, type FdEntry, type TaskCapture } from '../capture/capture-file.js';
import { MountinfoParseError, type MountEntry } from '../capture/mountinfo.js';
import { compareCaptures, type Comparison } from './compare.js';
import {
  comparedFlags,
  FD_FLAGS_COMPARED,
  flagsText,
  O_APPEND,
  O_CLOEXEC,
  O_DIRECTORY,
  O_LARGEFILE,
  O_NOATIME,
  O_NONBLOCK,
  O_PATH,
  O_TMPFILE_BIT,
} from './fds.js';
import { chance, pick, prng, shuffle, type Rand } from './gen.testutil.js';

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;

// ---------------------------------------------------------------- a small model of mounts and open files

/**
 * Mounts of one namespace, the same shape in each: `/`, `/w` (tmpfs A),
 * `/x` (a bind of /w: the same superblock), `/w [stacked 2]` (tmpfs B over
 * /w) and `/w/s` (tmpfs C, on the stacked mount). Mount uids are 1..5 in
 * ns 1 and 11..15 in ns 2; superblocks 0 (ext4 254:0) and 1..3 (anonymous).
 */
const MOUNTS = [
  { uid: 1, parent: 0, mp: '/', sb: 0, fs: 'ext4', src: '/dev/vda' },
  { uid: 2, parent: 1, mp: '/w', sb: 1, fs: 'tmpfs', src: 'A' },
  { uid: 3, parent: 1, mp: '/x', sb: 1, fs: 'tmpfs', src: 'A' },
  { uid: 4, parent: 2, mp: '/w', sb: 2, fs: 'tmpfs', src: 'B' },
  { uid: 5, parent: 4, mp: '/w/s', sb: 3, fs: 'tmpfs', src: 'C' },
] as const;
const mountsOf = (ns: number) =>
  MOUNTS.map((m) => ({ ...m, uid: m.uid + (ns - 1) * 10, parent: m.parent ? m.parent + (ns - 1) * 10 : 0, ns }));

type Pseudo = 'pipe' | 'socket' | 'anon';
interface MInode {
  id: number;
  /** A superblock index, or a pseudo filesystem. */
  sb: number | Pseudo;
  type: string;
  nlink: number;
  size: number;
  /** sha256 of a regular file's contents, and the prefix it covers when capped. */
  hash: string;
  hashed?: number;
  /** The paths naming a regular file, rendered for fds where the helper lists them. */
  names: string[];
}
interface MFd {
  task: string;
  fd: number;
  inode: number;
  /** Mount uid, or 0 for the pseudo filesystem's internal mount (not in any table). */
  mount: number;
  path: string;
  deleted: boolean;
  flags: number;
  pos: number;
  /** Opened with O_TMPFILE: a restorer may or may not show __O_TMPFILE|O_DIRECTORY. */
  tmpfile: boolean;
}
interface MTask {
  key: string;
  ns: number;
}
interface Model {
  tasks: MTask[];
  inodes: MInode[];
  fds: MFd[];
}

const clone = (m: Model): Model => structuredClone(m);
const isPseudo = (i: MInode) => typeof i.sb === 'string';

/** Renders the model with every id renumbered and every line order shuffled by `r`. */
function render(model: Model, r: Rand): Capture {
  const nsCount = Math.max(...model.tasks.map((t) => t.ns));
  const all = [...Array(nsCount).keys()].flatMap((i) => mountsOf(i + 1));
  const base = r.int(20, 900);
  const step = r.int(1, 3);
  const ids = shuffle(
    r,
    all.map((_m, i) => base + i * step),
  );
  const mountId = new Map(all.map((m, i) => [m.uid, ids[i]!]));
  const minors = shuffle(r, [30, 31, 32, 33, 34, 35, 36]);
  const dev = (sb: number) => (sb === 0 ? '254:0' : `0:${minors[sb]}`);
  const pseudoDev: Record<Pseudo, string> = {
    pipe: `0:${minors[4]}`,
    socket: `0:${minors[5]}`,
    anon: `0:${minors[6]}`,
  };
  const inoBase = r.int(2, 100000);
  const inoStep = r.int(1, 50);
  const inos = shuffle(
    r,
    model.inodes.map((_i, k) => inoBase + k * inoStep),
  );
  const ino = new Map(model.inodes.map((i, k) => [i.id, inos[k]!]));
  const outside = 9000 + r.int(0, 99);
  const nsInode = shuffle(r, [4026532296, 4026532400, 4026531840]);
  const tasks: TaskCapture[] = model.tasks.map((t, k) => {
    const mounts: MountEntry[] = shuffle(
      r,
      all
        .filter((m) => m.ns === t.ns)
        .map((m) => ({
          line: 0,
          mountId: mountId.get(m.uid)!,
          parentId: m.parent ? mountId.get(m.parent)! : 1,
          major: m.sb === 0 ? 254 : 0,
          minor: m.sb === 0 ? 0 : minors[m.sb]!,
          root: '/',
          mountPoint: m.mp,
          mountOptions: ['rw'],
          unbindable: false,
          fsType: m.fs,
          source: m.src,
          superOptions: ['rw'],
        })),
    );
    const fds: FdEntry[] = model.fds
      .filter((f) => f.task === t.key)
      .map((f) => {
        const i = model.inodes.find((x) => x.id === f.inode)!;
        let flags = f.flags;
        if (chance(r, 50)) flags |= O_LARGEFILE; // the kernel's own bit: never compared
        if (f.tmpfile && chance(r, 50)) flags |= O_TMPFILE_BIT | O_DIRECTORY;
        const n = ino.get(i.id)!;
        const path =
          i.sb === 'pipe'
            ? `pipe:[${n}]`
            : i.sb === 'socket'
              ? `socket:[${n}]`
              : i.sb === 'anon'
                ? 'anon_inode:[eventfd]'
                : f.path;
        const entry: FdEntry = {
          fd: f.fd,
          flags,
          pos: f.pos,
          mntId: f.mount ? mountId.get(f.mount)! : outside,
          ino: n,
          dev: typeof i.sb === 'string' ? pseudoDev[i.sb] : dev(i.sb),
          nlink: i.nlink,
          type: i.type,
          size: i.size,
          path,
          deleted: f.deleted,
        };
        if (i.type === 'file' && !isPseudo(i)) {
          entry.sha256 = i.hash;
          if (i.hashed !== undefined) entry.hashed = i.hashed;
          if (i.nlink > 0 && (f.deleted || i.nlink > 1)) entry.names = shuffle(r, [...i.names]);
        }
        return entry;
      });
    return {
      key: t.key,
      pid: 100 + k * 7 + r.int(0, 5),
      mntNs: String(nsInode[t.ns - 1]),
      cwd: '/',
      root: '/',
      mounts,
      fds: shuffle(r, fds),
    };
  });
  return { tasks: shuffle(r, tasks) };
}

const NAMES = ['/w/a', '/w/b', '/x/a', '/w/s/f', '/w/my dir/f', '/etc/passwd', '/w/\xff'];

const randomHash = (r: Rand) => Array.from({ length: 64 }, () => '0123456789abcdef'[r.int(0, 15)]).join('');

function genModel(r: Rand): Model {
  const m: Model = { tasks: [{ key: 'init', ns: 1 }], inodes: [], fds: [] };
  if (chance(r, 60)) m.tasks.push({ key: 'child', ns: chance(r, 50) ? 1 : 2 });
  const nInodes = r.int(1, 5);
  for (let k = 0; k < nInodes; k++) {
    const type = pick(r, ['file', 'file', 'dir', 'fifo', 'chr']);
    const nlink = type === 'dir' ? pick(r, [0, 2, 3]) : pick(r, [0, 1, 1, 2]);
    const hashed = chance(r, 10) ? 67108864 : undefined;
    m.inodes.push({
      id: k + 1,
      sb: r.int(0, 3),
      type,
      nlink,
      size: r.int(0, 4096) + (hashed ?? 0),
      hash: randomHash(r),
      ...(hashed ? { hashed } : {}),
      names: shuffle(r, [...NAMES]).slice(0, r.int(0, 2)),
    });
  }
  const nPseudo = r.int(0, 2);
  for (let k = 0; k < nPseudo; k++) {
    const sb = pick(r, ['pipe', 'socket', 'anon'] as const);
    m.inodes.push({
      id: 100 + k,
      sb,
      type: sb === 'pipe' ? 'fifo' : sb === 'socket' ? 'socket' : 'other',
      nlink: 1,
      size: 0,
      hash: '',
      names: [],
    });
  }
  for (const t of m.tasks) {
    const numbers = shuffle(r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).slice(0, r.int(1, 5));
    for (const fd of numbers) {
      const i = pick(r, m.inodes);
      let mount = 0;
      if (!isPseudo(i)) {
        const ns = chance(r, 80) ? t.ns : pick(r, m.tasks).ns;
        mount = pick(
          r,
          mountsOf(ns).filter((x) => x.sb === i.sb),
        ).uid;
      }
      let flags = pick(r, [O_RDONLY, O_WRONLY, O_RDWR]);
      for (const bit of [O_APPEND, O_NONBLOCK, O_NOATIME, O_CLOEXEC]) if (chance(r, 30)) flags |= bit;
      if (i.type === 'dir') flags |= O_DIRECTORY;
      if (chance(r, 10)) flags = O_PATH | (flags & (O_CLOEXEC | O_DIRECTORY));
      const tmpfile = i.type === 'file' && i.nlink === 0 && chance(r, 40);
      m.fds.push({
        task: t.key,
        fd,
        inode: i.id,
        mount,
        path: pick(r, NAMES),
        deleted: !isPseudo(i) && (i.nlink === 0 || chance(r, 20)),
        flags,
        pos: chance(r, 50) ? 0 : r.int(1, 100000),
        tmpfile,
      });
    }
  }
  return m;
}

interface Mutation {
  kind: string;
  task: string;
  fd: number;
  apply(m: Model): void;
}

/** Every single change to one fd (or to the inode under it) that must be reported. */
function mutations(m: Model, r: Rand): Mutation[] {
  const out: Mutation[] = [];
  const fdOf = (x: Model, f: MFd) => x.fds.find((g) => g.task === f.task && g.fd === f.fd)!;
  const inodeOf = (x: Model, f: MFd) => x.inodes.find((i) => i.id === fdOf(x, f).inode)!;
  for (const f of m.fds) {
    const i = m.inodes.find((x) => x.id === f.inode)!;
    const real = !isPseudo(i);
    const add = (kind: string, apply: (x: Model) => void) => out.push({ kind, task: f.task, fd: f.fd, apply });
    add('lost', (x) => x.fds.splice(x.fds.indexOf(fdOf(x, f)), 1));
    const free = [...Array(20).keys()].find((n) => !m.fds.some((g) => g.task === f.task && g.fd === n))!;
    out.push({ kind: 'added', task: f.task, fd: free, apply: (x) => x.fds.push({ ...fdOf(x, f), fd: free }) });
    add('flags-accmode', (x) => {
      const g = fdOf(x, f);
      g.flags = (g.flags & ~3) | (g.flags & O_PATH ? O_RDWR : ((g.flags & 3) + 1) % 3);
      g.flags &= ~O_PATH;
    });
    for (const [name, bit] of [
      ['append', O_APPEND],
      ['nonblock', O_NONBLOCK],
      ['noatime', O_NOATIME],
      ['cloexec', O_CLOEXEC],
      ['path', O_PATH],
    ] as const) {
      add(`flags-${name}`, (x) => void (fdOf(x, f).flags ^= bit));
    }
    if (!f.tmpfile) add('flags-directory', (x) => void (fdOf(x, f).flags ^= O_DIRECTORY));
    add('offset', (x) => void (fdOf(x, f).pos += r.int(1, 10)));
    add('type', (x) => {
      const ino = inodeOf(x, f);
      ino.type = ino.type === 'file' ? 'dir' : 'file';
    });
    if (!real) continue;
    add('path', (x) => {
      const g = fdOf(x, f);
      g.path = pick(
        r,
        NAMES.filter((n) => n !== g.path),
      );
    });
    add('deleted', (x) => void (fdOf(x, f).deleted = !fdOf(x, f).deleted));
    add('nlink', (x) => {
      const ino = inodeOf(x, f);
      ino.nlink = ino.nlink === 0 ? 1 : 0;
    });
    const others = modelMounts(m).filter((u) => u !== f.mount);
    if (others.length) {
      const to = pick(r, others);
      add('mount', (x) => void (fdOf(x, f).mount = to));
    }
    if (i.nlink === 0 && i.type === 'file') add('ghost-size', (x) => void (inodeOf(x, f).size += 1));
    if (i.type === 'file') add('content', (x) => void (inodeOf(x, f).hash = randomHash(r)));
    if (i.type === 'file' && i.nlink > 0 && (f.deleted || i.nlink > 1)) {
      const name = pick(r, ['/w/c', '/w/link_remap.3', '/x/a\\ b,c']);
      add('names-added', (x) => void (inodeOf(x, f).names = [...new Set([...inodeOf(x, f).names, name])]));
      if (i.names.length) add('names-lost', (x) => void inodeOf(x, f).names.pop());
    }
    // Inode identity: join another inode that has fds, or leave a shared one.
    const targets = m.inodes.filter((x) => !isPseudo(x) && x.id !== i.id && m.fds.some((g) => g.inode === x.id));
    if (targets.length) {
      const to = pick(r, targets).id;
      add('inode-merge', (x) => void (fdOf(x, f).inode = to));
    }
    if (m.fds.filter((g) => g.inode === i.id).length > 1) {
      add('inode-split', (x) => {
        const id = Math.max(...x.inodes.map((y) => y.id)) + 1;
        x.inodes.push({ ...inodeOf(x, f), id });
        fdOf(x, f).inode = id;
      });
    }
  }
  return out;
}

/** The mount uids of the model's namespaces. */
function modelMounts(m: Model): number[] {
  return [...new Set(m.tasks.map((t) => t.ns))].flatMap((ns) => mountsOf(ns).map((x) => x.uid));
}

const family = (kind: string) => kind.replace(/-.*$/, '');

function explain(c: Comparison, ...caps: Capture[]): string {
  const found = c.differences.map((d) => `  [${d.kind}] ${d.sentence}`).join('\n') || '  (no differences)';
  return `${found}\n${caps.map(formatCapture).join('----\n')}`;
}

// ---------------------------------------------------------------- hand-written captures

const HEAD = [
  '21 20 254:0 / / rw - ext4 /dev/vda rw',
  '22 21 0:40 / /w rw - tmpfs A rw',
  '23 21 0:40 / /x rw - tmpfs A rw',
  '24 22 0:41 / /w rw - tmpfs B rw',
];
/** The same mounts with other ids and minors, lines in another order. */
const HEAD_RESTORED = [
  '77 75 0:51 / /w rw - tmpfs B rw',
  '75 70 0:50 / /w rw - tmpfs A rw',
  '70 69 254:0 / / rw - ext4 /dev/vda rw',
  '71 70 0:50 / /x rw - tmpfs A rw',
];

const capture = (head: string[], fds: string[]) =>
  parseCapture(`${['@task init pid=10 mntns=4026532296 cwd=/ root=/', ...head, ...fds].join('\n')}\n`);
const sentences = (c: Comparison) => c.differences.map((d) => d.sentence);
const kinds = (c: Comparison) => c.differences.map((d) => d.kind);

/** sha256 of 'hello', of 'hello' + a probe marker, and of 64 MiB of something. */
const H1 = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const H2 = 'ec0ab7e0d3829e766b3f32e9534b58d56580d9faff5fc16cd91127589886d915';
const H3 = 'a1a1cb3143c6c55cd98df144b230e88a5afce58b313724ef5805104cb7364649';

// Before: fd 3 on /w/a through the stacked mount 24 (inode 11 of 0:41), fd 4 a
// second fd on the same inode, fd 5 a directory through the bind /x, fd 6 and
// fd 7 the two ends of a pipe.
const FDS_BEFORE = [
  `@fd 3 flags=102002 pos=5 mnt=24 ino=11 dev=0:41 nlink=1 type=file size=10 sha256=${H1} path=/w/a`,
  `@fd 4 flags=2102001 pos=10 mnt=24 ino=11 dev=0:41 nlink=1 type=file size=10 sha256=${H1} path=/w/a`,
  '@fd 5 flags=2200000 pos=0 mnt=23 ino=2 dev=0:40 nlink=2 type=dir size=60 path=/x',
  '@fd 6 flags=0 pos=0 mnt=13 ino=9001 dev=0:13 nlink=1 type=fifo size=0 path=pipe:[9001]',
  '@fd 7 flags=1 pos=0 mnt=13 ino=9001 dev=0:13 nlink=1 type=fifo size=0 path=pipe:[9001]',
];
// The same after a good restore: ids, minors, inode and pipe numbers renumbered, O_LARGEFILE gone.
const FDS_AFTER = [
  '@fd 7 flags=1 pos=0 mnt=14 ino=7777 dev=0:13 nlink=1 type=fifo size=0 path=pipe:[7777]',
  `@fd 3 flags=2002 pos=5 mnt=77 ino=501 dev=0:51 nlink=1 type=file size=10 sha256=${H1} path=/w/a`,
  `@fd 4 flags=2002001 pos=10 mnt=77 ino=501 dev=0:51 nlink=1 type=file size=10 sha256=${H1} path=/w/a`,
  '@fd 5 flags=2200000 pos=0 mnt=71 ino=3 dev=0:50 nlink=2 type=dir size=60 path=/x',
  '@fd 6 flags=0 pos=0 mnt=14 ino=7777 dev=0:13 nlink=1 type=fifo size=0 path=pipe:[7777]',
];

/** FDS_AFTER with the line of fd `n` rewritten. */
function afterWith(n: number, edit: (line: string) => string): string[] {
  return FDS_AFTER.map((l) => (l.startsWith(`@fd ${n} `) ? edit(l) : l));
}

/** The one difference found: of `kind`, by task init, its sentence `expected` exactly or matching it. */
function only(c: Comparison, kind: string, expected: string | RegExp): void {
  assert.deepEqual(kinds(c), [kind], explain(c));
  if (typeof expected === 'string') assert.equal(c.differences[0]!.sentence, expected);
  else assert.match(c.differences[0]!.sentence, expected);
  assert.equal(c.differences[0]!.task, 'init');
  assert.deepEqual(c.differences[0]!.tasks, ['init']);
}

describe('open files', () => {
  describe('@fd lines in captures', () => {
    it('reads every field, unescapes the path and strips " (deleted)"', () => {
      const lines = [
        '@task init pid=1 mntns=2',
        '1 0 0:5 / / rw - tmpfs t rw',
        '@fd 3 flags=2102002 pos=7 mnt=1 ino=12 dev=0:5 nlink=0 type=file size=3 path=/my\\040dir/a\\040(deleted)',
        '@fd 9 flags=0 pos=0 mnt=-1 path=?',
      ];
      const c = parseCapture(`${lines.join('\n')}\n`);
      assert.deepEqual(c.tasks[0]!.fds, [
        {
          fd: 3,
          flags: 0o2102002,
          pos: 7,
          mntId: 1,
          ino: 12,
          dev: '0:5',
          nlink: 0,
          type: 'file',
          size: 3,
          path: '/my dir/a',
          deleted: true,
        },
        { fd: 9, flags: 0, pos: 0, mntId: -1, path: '?', deleted: false },
      ]);
    });

    it('round-trips through formatCapture, deleted marker, escapes and missing stat fields included', () => {
      const text = capture(HEAD, [
        ...FDS_BEFORE,
        '@fd 8 flags=0 pos=0 mnt=-1 path=/w/tab\\011x\\040(deleted)',
        '@fd 9 flags=1 pos=0 mnt=22 path=/w/\\134b',
      ]);
      const again = parseCapture(formatCapture(text));
      const strip = (c: Capture) => c.tasks.map((t) => ({ ...t, mounts: t.mounts.map(({ line: _l, ...m }) => m) }));
      assert.deepEqual(strip(again), strip(text));
      assert.equal(again.tasks[0]!.fds.find((f) => f.fd === 8)!.path, '/w/tab\tx');
      assert.match(formatCapture(text), /^@fd 8 flags=0 pos=0 mnt=-1 path=\/w\/tab\\011x\\040\(deleted\)$/m);
    });

    it('gives tasks without @fd lines, and plain mountinfo, an empty list', () => {
      assert.deepEqual(capture(HEAD, []).tasks[0]!.fds, []);
      assert.deepEqual(parseCapture(HEAD.join('\n')).tasks[0]!.fds, []);
    });

    it('refuses malformed @fd lines, and @fd before any @task, with line:col', () => {
      const t = '@task init pid=1 mntns=2\n1 0 0:5 / / rw - tmpfs t rw\n';
      const cases: [string, number, number, RegExp][] = [
        [`@fd 3 flags=0 pos=0 mnt=1 path=/a\n${t}`, 1, 1, /'@fd' line before the first '@task' header/],
        [`${t}@fd`, 3, 4, /expected a file descriptor number/],
        [`${t}@fd x flags=0 pos=0 mnt=1 path=/a`, 3, 5, /expected a file descriptor number after '@fd', found "x"/],
        [`${t}@fd 3 flags=9 pos=0 mnt=1 path=/a`, 3, 13, /expected flags=<octal number>/],
        [`${t}@fd 3 flags=0 mnt=1 path=/a`, 3, 28, /expected pos=<number>/],
        [`${t}@fd 3 flags=0 pos=0 path=/a`, 3, 28, /expected mnt=<mount id>/],
        [`${t}@fd 3 flags=0 pos=0 mnt=1`, 3, 26, /expected path=/],
        [`${t}@fd 3 flags=0 pos=0 mnt=1 dev=5 path=/a`, 3, 31, /expected dev=<major:minor>/],
        [`${t}@fd 3 flags=0 pos=0 pos=1 mnt=1 path=/a`, 3, 21, /attribute pos appears twice/],
        [`${t}@fd 3 flags=0 junk path=/a`, 3, 15, /expected name=value/],
        [`${t}@fdx 3`, 3, 1, /unknown directive "@fdx"/],
        [`${t}@files 3`, 3, 1, /unknown directive "@files"/],
      ];
      for (const [text, line, col, re] of cases) {
        let err: unknown;
        try {
          parseCapture(text, 'cap');
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof MountinfoParseError, `${JSON.stringify(text)}: ${String(err)}`);
        assert.deepEqual([err.line, err.column], [line, col], text);
        assert.match(err.message, re, text);
        assert.match(err.message, new RegExp(`^cap:${line}:${col}: `));
      }
    });

    it('ignores @fd attributes it does not know, so a newer helper can add some', () => {
      const c = capture(HEAD, ['@fd 3 flags=0 pos=0 mnt=21 future=1 path=/a']);
      assert.equal(c.tasks[0]!.fds[0]!.path, '/a');
    });
  });

  describe('flags', () => {
    it('compares the access mode and O_APPEND, O_NONBLOCK, O_DIRECTORY, O_PATH, O_NOATIME, O_CLOEXEC only', () => {
      assert.equal(FD_FLAGS_COMPARED, 0o13206003);
      assert.equal(comparedFlags(0o2102002), 0o2002002);
      // O_TMPFILE is __O_TMPFILE|O_DIRECTORY: neither counts on a tmpfile.
      assert.equal(comparedFlags(O_TMPFILE_BIT | O_DIRECTORY | O_RDWR), O_RDWR);
      assert.equal(flagsText(0o2106002), 'O_RDWR|O_APPEND|O_NONBLOCK|O_CLOEXEC');
      assert.equal(flagsText(O_PATH | O_CLOEXEC), 'O_PATH|O_CLOEXEC');
    });
  });

  describe('comparison', () => {
    it(
      'says equivalent after mount ids, minors, inode and pipe numbers renumbered, ' +
        'lines reordered, O_LARGEFILE dropped',
      () => {
        const c = compareCaptures(capture(HEAD, FDS_BEFORE), capture(HEAD_RESTORED, FDS_AFTER));
        assert.deepEqual(sentences(c), []);
        assert.deepEqual(c.notes, []);
      },
    );

    it('reports a lost fd and an extra fd', () => {
      const c = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          FDS_AFTER.filter((l) => !l.startsWith('@fd 5 ')),
        ),
      );
      only(
        c,
        'fd-lost',
        /^task init fd 5 \(open on \/x \(not deleted\), O_RDONLY\|O_DIRECTORY\|O_CLOEXEC\) is not open after restore$/,
      );
      const d = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(HEAD_RESTORED, [
          ...FDS_AFTER,
          '@fd 12 flags=0 pos=0 mnt=70 ino=5 dev=254:0 nlink=1 type=file size=1 path=/etc/passwd',
        ]),
      );
      only(
        d,
        'fd-added',
        /^after restore task init has an extra fd 12 \(open on \/etc\/passwd \(not deleted\), O_RDONLY\)$/,
      );
    });

    it('reports a changed path', () => {
      const c = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(5, (l) => l.replace('path=/x', 'path=/x/sub')),
        ),
      );
      only(
        c,
        'fd-path-changed',
        /^task init fd 5: was open on \/x \(not deleted\); after restore it is \/x\/sub \(not deleted\)$/,
      );
    });

    it('reports changed flags by name, and not the kernel-set O_LARGEFILE', () => {
      const acc = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(3, (l) => l.replace('flags=2002', 'flags=2000')),
        ),
      );
      only(acc, 'fd-flags-changed', /^task init fd 3 \(\/w\/a\): open flags changed: O_RDWR -> O_RDONLY$/);
      const app = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(3, (l) => l.replace('flags=2002', 'flags=4002')),
        ),
      );
      only(
        app,
        'fd-flags-changed',
        /^task init fd 3 \(\/w\/a\): open flags changed: O_APPEND dropped, O_NONBLOCK added$/,
      );
      const cloexec = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(4, (l) => l.replace('flags=2002001', 'flags=2001')),
        ),
      );
      only(cloexec, 'fd-flags-changed', /^task init fd 4 \(\/w\/a\): open flags changed: O_CLOEXEC dropped$/);
      const large = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(5, (l) => l.replace('flags=2200000', 'flags=2300000')),
        ),
      );
      assert.deepEqual(sentences(large), []);
    });

    it('reports a changed offset', () => {
      const c = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(4, (l) => l.replace('pos=10', 'pos=0')),
        ),
      );
      only(c, 'fd-offset-changed', /^task init fd 4 \(\/w\/a\): file offset changed: 10 -> 0$/);
    });

    it('reports a changed file type', () => {
      const c = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(5, (l) => l.replace('type=dir', 'type=file')),
        ),
      );
      only(c, 'fd-type-changed', /^task init fd 5 \(\/x\): file type changed: dir -> file$/);
    });

    it('reports an fd restored on another mount of the same superblock: /x is a bind of /w', () => {
      const c = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(5, (l) => l.replace('mnt=71', 'mnt=75')),
        ),
      );
      only(
        c,
        'fd-mount-changed',
        /^task init fd 5 \(\/x\): was open through the mount \/x; after restore it is open through the mount \/w$/,
      );
    });

    it('reports an fd restored on the mount under the one it was opened through (same path, other mount)', () => {
      const c = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(3, (l) => l.replace('mnt=77', 'mnt=75')),
        ),
      );
      only(
        c,
        'fd-mount-changed',
        'task init fd 3 (/w/a): was open through the mount /w [stacked 2]; ' +
          'after restore it is open through the mount /w',
      );
    });

    it('reports an fd on a mount that is in no captured table', () => {
      const c = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(5, (l) => l.replace('mnt=71', 'mnt=5')),
        ),
      );
      only(c, 'fd-mount-changed', /after restore it is open through a mount outside the captured tables \(mnt_id 5\)$/);
    });

    it('reports two fds on one inode restored on two inodes, and two inodes restored as one', () => {
      const split = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(4, (l) => l.replace('ino=501', 'ino=502')),
        ),
      );
      only(
        split,
        'fd-inode-split',
        new RegExp(
          /^task init fd 3 and task init fd 4 were open on one inode \(inode 11 on 0:41, \/w\/a \(not deleted\)\); /
            .source +
            /after restore they are open on 2 different inodes: /.source +
            /task init fd 3 on inode 501 on 0:51 .*; task init fd 4 on inode 502 on 0:51/.source,
        ),
      );
      const before = capture(
        HEAD,
        FDS_BEFORE.map((l) => (l.startsWith('@fd 4 ') ? l.replace('ino=11', 'ino=12') : l)),
      );
      const merged = compareCaptures(before, capture(HEAD_RESTORED, FDS_AFTER));
      only(
        merged,
        'fd-inode-merged',
        new RegExp(
          /^task init fd 3 \(inode 11 on 0:41, \/w\/a \(not deleted\)\) /.source +
            /and task init fd 4 \(inode 12 on 0:41, \/w\/a \(not deleted\)\) /.source +
            /were open on different inodes; after restore they share one \(inode 501 on 0:51/.source,
        ),
      );
    });

    it('tells apart inode numbers that differ only above 2^53 (overlayfs xino=on)', () => {
      const big = (n: number, ino: string) =>
        `@fd ${n} flags=2 pos=0 mnt=24 ino=${ino} dev=0:41 nlink=1 type=file size=1 sha256=${H1} path=/w/f${n}`;
      const bigA = (n: number, ino: string) => big(n, ino).replace('mnt=24', 'mnt=77').replace('0:41', '0:51');
      const before = capture(HEAD, [big(3, '9223372036856957337'), big(4, '9223372036856957338')]);
      assert.deepEqual(
        sentences(
          compareCaptures(
            before,
            capture(HEAD_RESTORED, [bigA(3, '9223372036856957401'), bigA(4, '9223372036856957402')]),
          ),
        ),
        [],
      );
      const merged = compareCaptures(
        before,
        capture(HEAD_RESTORED, [bigA(3, '9223372036856957401'), bigA(4, '9223372036856957401')]),
      );
      assert.deepEqual(kinds(merged), ['fd-inode-merged'], explain(merged));
      assert.match(merged.differences[0]!.sentence, /inode 9223372036856957337 on 0:41/);
    });

    it('leaves pipes, sockets and anonymous inodes out of the inode partition', () => {
      const c = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(7, (l) => l.replace(/7777/g, '7778')),
        ),
      );
      assert.deepEqual(sentences(c), []);
      const sock = compareCaptures(
        capture(HEAD, FDS_BEFORE),
        capture(
          HEAD_RESTORED,
          afterWith(7, (l) => l.replace('type=fifo', 'type=socket').replace('pipe:[7777]', 'socket:[1]')),
        ),
      );
      assert.deepEqual(kinds(sock), ['fd-path-changed'], explain(sock));
      assert.match(
        sock.differences[0]!.sentence,
        /^task init fd 7: was open on pipe:\[9001\] \(a fifo\); after restore it is socket:\[1\] \(a socket\)$/,
      );
    });

    it('compares captures without @fd lines as before, and notes a side that has none', () => {
      assert.deepEqual(compareCaptures(capture(HEAD, []), capture(HEAD_RESTORED, [])), {
        equivalent: true,
        differences: [],
        filtered: [],
        notes: [],
      });
      const c = compareCaptures(capture(HEAD, FDS_BEFORE), capture(HEAD_RESTORED, []));
      assert.deepEqual(kinds(c), Array(5).fill('fd-lost'));
      assert.deepEqual(c.notes, [
        'after: the capture has no open file descriptors (@fd lines) at all, ' +
          'while before has 5; each is reported as not open',
      ]);
    });

    it('compares fds of matched tasks only; a lost task is reported once', () => {
      const two = (fds: string[]) =>
        parseCapture(['@task init pid=1 mntns=9', ...HEAD, '@task kid pid=2 mntns=9', ...HEAD, ...fds].join('\n'));
      const c = compareCaptures(two(FDS_BEFORE), capture(HEAD_RESTORED, []));
      assert.deepEqual(kinds(c), ['task-lost']);
    });

    it('compares an unlinked file that still has a name against one with none, and the size of one with none', () => {
      const before = capture(HEAD, [
        '@fd 3 flags=2 pos=0 mnt=24 ino=11 dev=0:41 nlink=1 type=file size=10 path=/w/a\\040(deleted)',
      ]);
      const good = capture(HEAD_RESTORED, [
        '@fd 3 flags=2 pos=0 mnt=77 ino=12 dev=0:51 nlink=1 type=file size=10 path=/w/a\\040(deleted)',
      ]);
      assert.deepEqual(sentences(compareCaptures(before, good)), []);
      const ghost = capture(HEAD_RESTORED, [
        '@fd 3 flags=2 pos=0 mnt=77 ino=12 dev=0:51 nlink=0 type=file size=10 path=/w/a\\040(deleted)',
      ]);
      only(
        compareCaptures(before, ghost),
        'fd-link-changed',
        'task init fd 3: was open on /w/a (deleted, still linked as another name); ' +
          'after restore it is /w/a (deleted, no link left: nlink 0)',
      );
      const orphan = capture(HEAD, [
        '@fd 3 flags=2 pos=0 mnt=24 ino=11 dev=0:41 nlink=0 type=file size=10 path=/w/a\\040(deleted)',
      ]);
      const empty = capture(HEAD_RESTORED, [
        '@fd 3 flags=2 pos=0 mnt=77 ino=12 dev=0:51 nlink=0 type=file size=0 path=/w/a\\040(deleted)',
      ]);
      only(
        compareCaptures(orphan, empty),
        'fd-size-changed',
        /^task init fd 3 \(\/w\/a \(deleted, no link left: nlink 0\)\): size changed: 10 -> 0$/,
      );
      // A file with a name may be changed by anyone: its size is not compared.
      assert.deepEqual(
        sentences(
          compareCaptures(
            before,
            capture(HEAD_RESTORED, [
              '@fd 3 flags=2 pos=0 mnt=77 ino=12 dev=0:51 nlink=1 type=file size=3 path=/w/a\\040(deleted)',
            ]),
          ),
        ),
        [],
      );
    });

    describe('contents', () => {
      it('reports changed contents by sha256, naming the fd', () => {
        const c = compareCaptures(
          capture(HEAD, FDS_BEFORE),
          capture(
            HEAD_RESTORED,
            afterWith(3, (l) => l.replace(H1, H2).replace('size=10', 'size=11')),
          ),
        );
        only(
          c,
          'fd-content-changed',
          'task init fd 3 (/w/a (not deleted)): contents changed (size 10 -> 11): ' +
            'sha256 2cf24dba5fb0a30e... -> ec0ab7e0d3829e76...',
        );
        // Both fds are on the one inode: only the one whose hash changed is told (a real change shows on both).
        const same = compareCaptures(
          capture(HEAD, FDS_BEFORE),
          capture(
            HEAD_RESTORED,
            afterWith(4, (l) => l.replace(H1, H2)),
          ),
        );
        only(same, 'fd-content-changed', /^task init fd 4 \(\/w\/a \(not deleted\)\): contents changed: sha256 /);
      });

      it('compares a file longer than the hashed prefix on that prefix and says so; a size change still counts', () => {
        const big = (h: string, size: number, hashed?: number) =>
          `@fd 3 flags=2 pos=0 mnt=24 ino=11 dev=0:41 nlink=1 type=file size=${size} sha256=${h}` +
          (hashed === undefined ? '' : ` hashed=${hashed}`) +
          ' path=/w/big';
        const bigAfter = (h: string, size: number, hashed?: number) =>
          big(h, size, hashed).replace('mnt=24', 'mnt=77').replace('0:41', '0:51');
        const M64 = 67108864;
        const ok = compareCaptures(
          capture(HEAD, [big(H3, M64 + 5, M64)]),
          capture(HEAD_RESTORED, [bigAfter(H3, M64 + 5, M64)]),
        );
        assert.deepEqual(sentences(ok), []);
        assert.deepEqual(ok.notes, [
          'the contents of task init fd 3 (/w/big) were compared on their first 67108864 bytes only ' +
            '(no more were hashed)',
        ]);
        const changed = compareCaptures(
          capture(HEAD, [big(H3, M64 + 5, M64)]),
          capture(HEAD_RESTORED, [bigAfter(H1, M64 + 5, M64)]),
        );
        only(
          changed,
          'fd-content-changed',
          'task init fd 3 (/w/big (not deleted)): the first 67108864 bytes of its contents changed ' +
            '(no more were hashed): sha256 a1a1cb3143c6c55c... -> 2cf24dba5fb0a30e...',
        );
        const grown = compareCaptures(
          capture(HEAD, [big(H3, M64 + 5, M64)]),
          capture(HEAD_RESTORED, [bigAfter(H3, M64 + 6, M64)]),
        );
        only(
          grown,
          'fd-content-changed',
          /^task init fd 3 \(\/w\/big \(not deleted\)\): contents changed \(size 67108869 -> 67108870\)$/,
        );
        const cut = compareCaptures(
          capture(HEAD, [big(H3, M64 + 5, M64)]),
          capture(HEAD_RESTORED, [bigAfter(H3, M64)]),
        );
        only(cut, 'fd-content-changed', /contents changed \(size 67108869 -> 67108864\)$/);
        // Hashes of different lengths over files of one size (another helper's cap): not comparable, and noted.
        const other = compareCaptures(
          capture(HEAD, [big(H3, M64 + 5, M64)]),
          capture(HEAD_RESTORED, [bigAfter(H1, M64 + 5, 1024)]),
        );
        assert.deepEqual(sentences(other), []);
        assert.deepEqual(other.notes, [
          'task init fd 3 (/w/big): contents not compared: the hashes cover different lengths: ' +
            'the first 67108864 bytes before the dump, the first 1024 bytes after restore',
        ]);
      });

      it('notes a side without a hash, by fd, and captures without any hashes once', () => {
        const err = compareCaptures(
          capture(HEAD, FDS_BEFORE),
          capture(
            HEAD_RESTORED,
            afterWith(3, (l) => l.replace(`sha256=${H1}`, 'sha256-error=EACCES')),
          ),
        );
        assert.deepEqual(sentences(err), []);
        assert.deepEqual(err.notes, [
          'task init fd 3 (/w/a): contents not compared: after restore it could not be read (EACCES)',
        ]);
        const none = compareCaptures(
          capture(
            HEAD,
            FDS_BEFORE.map((l) => l.replace(/ sha256=\w+/, '')),
          ),
          capture(HEAD_RESTORED, FDS_AFTER),
        );
        assert.deepEqual(none.notes, [
          'task init fd 3 (/w/a): contents not compared: before the dump the capture has no sha256 for it',
          'task init fd 4 (/w/a): contents not compared: before the dump the capture has no sha256 for it',
        ]);
        const old = compareCaptures(
          capture(
            HEAD,
            FDS_BEFORE.map((l) => l.replace(/ sha256=\w+/, '')),
          ),
          capture(
            HEAD_RESTORED,
            FDS_AFTER.map((l) => l.replace(/ sha256=\w+/, '')),
          ),
        );
        assert.deepEqual(sentences(old), []);
        assert.deepEqual(old.notes, [
          'the contents of 2 regular files open on both sides were not compared: ' +
            'neither capture has sha256 for them (a helper that does not hash)',
        ]);
      });

      it('skips the contents of an fd already reported open on another file, or of a ghost whose size changed', () => {
        const c = compareCaptures(
          capture(HEAD, FDS_BEFORE),
          capture(
            HEAD_RESTORED,
            afterWith(3, (l) => l.replace('path=/w/a', 'path=/w/z').replace(H1, H2)),
          ),
        );
        assert.deepEqual(kinds(c), ['fd-path-changed'], explain(c));
        const ghost = (mnt: number, dev: string, size: number, h: string) =>
          capture(mnt === 24 ? HEAD : HEAD_RESTORED, [
            `@fd 3 flags=2 pos=0 mnt=${mnt} ino=11 dev=${dev} nlink=0 type=file size=${size} ` +
              `sha256=${h} path=/w/g\\040(deleted)`,
          ]);
        only(
          compareCaptures(ghost(24, '0:41', 5, H1), ghost(77, '0:51', 0, H2)),
          'fd-size-changed',
          /size changed: 5 -> 0$/,
        );
        only(
          compareCaptures(ghost(24, '0:41', 5, H1), ghost(77, '0:51', 5, H2)),
          'fd-content-changed',
          /^task init fd 3 \(\/w\/g \(deleted, no link left: nlink 0\)\): contents changed: sha256/,
        );
      });
    });

    describe('names', () => {
      const line = (mnt: number, dev: string, rest: string) =>
        `@fd 3 flags=2 pos=0 mnt=${mnt} ino=11 dev=${dev} type=file size=5 sha256=${H1} ${rest}`;
      const b = (rest: string) => capture(HEAD, [line(24, '0:41', rest)]);
      const a = (rest: string) => capture(HEAD_RESTORED, [line(77, '0:51', rest)]);

      it('compares the names of a multiply linked file as a set, escapes and order aside', () => {
        const before = b('nlink=3 names=/w/a,/w/sp\\040ace\\054x,/w/c path=/w/a');
        assert.deepEqual(
          sentences(compareCaptures(before, a('nlink=3 names=/w/c,/w/a,/w/sp\\040ace\\054x path=/w/a'))),
          [],
        );
        const c = compareCaptures(before, a('nlink=3 names=/w/a,/w/c,/w/d path=/w/a'));
        only(
          c,
          'fd-names-changed',
          'task init fd 3 (/w/a (not deleted)): the names of its inode on its mount changed: ' +
            '/w/sp ace,x no longer names it, and /w/d now names it',
        );
      });

      it('knows the names of a plain file (its path) and of a file with no link left (none) without a list', () => {
        const c = compareCaptures(b('nlink=2 names=/w/a,/w/b path=/w/a'), a('nlink=1 path=/w/a'));
        only(c, 'fd-names-changed', /: \/w\/b no longer names it$/);
        assert.deepEqual(
          sentences(compareCaptures(b('nlink=0 path=/w/a\\040(deleted)'), a('nlink=0 path=/w/a\\040(deleted)'))),
          [],
        );
      });

      it('does not report a name missing from a truncated list, and says so', () => {
        const c = compareCaptures(
          b('nlink=2 names=/w/a,/w/b path=/w/a'),
          a('nlink=2 names=/w/a names-truncated=20000 path=/w/a'),
        );
        assert.deepEqual(sentences(c), []);
        assert.deepEqual(c.notes, [
          'task init fd 3 (/w/a): the search for the names of its inode after restore ' +
            'stopped after 20000 directory entries, so names missing from that list are not reported',
        ]);
        // The complete side's extra name is still told.
        const d = compareCaptures(
          b('nlink=2 names=/w/a names-truncated=20000 path=/w/a'),
          a('nlink=2 names=/w/a,/w/b path=/w/a'),
        );
        assert.deepEqual(sentences(d), []);
        const e = compareCaptures(
          b('nlink=2 names=/w/a,/w/b path=/w/a'),
          a('nlink=2 names=/w/a,/w/x names-truncated=9 path=/w/a'),
        );
        only(e, 'fd-names-changed', /: \/w\/x now names it$/);
      });

      it('notes names it could not compare, by fd, and captures without any names once', () => {
        const c = compareCaptures(b('nlink=2 names=/w/a,/w/b path=/w/a'), a('nlink=2 names-error=covered path=/w/a'));
        assert.deepEqual(sentences(c), []);
        assert.deepEqual(c.notes, [
          'task init fd 3 (/w/a): the names of its inode not compared: ' +
            "after restore the root of the fd's mount is covered by another mount",
        ]);
        const e = compareCaptures(b('nlink=2 names-error=EACCES path=/w/a'), a('nlink=2 names=/w/a path=/w/a'));
        assert.deepEqual(e.notes, [
          'task init fd 3 (/w/a): the names of its inode not compared: before the dump the search failed (EACCES)',
        ]);
        const old = compareCaptures(b('nlink=2 path=/w/a'), a('nlink=2 path=/w/a'));
        assert.deepEqual(old.notes, [
          'the names of 1 deleted or multiply linked file open on both sides were not compared: ' +
            'neither capture has names for them (a helper that does not search)',
        ]);
      });
    });

    describe('seed 004: open a; link a b; unlink a; creat a', () => {
      // fd 3 is a_fd: the old inode, now named only b (nlink 1), its dentry
      // "a" unlinked. fd 4 is what creat("a") returned: the new file a.
      const before = capture(HEAD, [
        '@fd 3 flags=2 pos=1048576 mnt=24 ino=11 dev=0:41 nlink=1 type=file size=1073741824 path=/w/a\\040(deleted)',
        '@fd 4 flags=1 pos=0 mnt=24 ino=12 dev=0:41 nlink=1 type=file size=0 path=/w/a',
      ]);

      it('a restore that keeps a_fd on the old inode (renumbered) is equivalent', () => {
        const after = capture(HEAD_RESTORED, [
          '@fd 4 flags=1 pos=0 mnt=77 ino=40 dev=0:51 nlink=1 type=file size=0 path=/w/a',
          '@fd 3 flags=2 pos=1048576 mnt=77 ino=39 dev=0:51 nlink=1 type=file size=1073741824 path=/w/a\\040(deleted)',
        ]);
        assert.deepEqual(sentences(compareCaptures(before, after)), []);
      });

      it(
        'a restore that reopens the path "a" and so lands on the new file is reported twice over: ' +
          'not deleted, and one inode with fd 4',
        () => {
          const after = capture(HEAD_RESTORED, [
            '@fd 3 flags=2 pos=1048576 mnt=77 ino=40 dev=0:51 nlink=1 type=file size=0 path=/w/a',
            '@fd 4 flags=1 pos=0 mnt=77 ino=40 dev=0:51 nlink=1 type=file size=0 path=/w/a',
          ]);
          const c = compareCaptures(before, after);
          assert.deepEqual(kinds(c), ['fd-deleted-changed', 'fd-inode-merged'], explain(c));
          assert.equal(
            c.differences[0]!.sentence,
            'task init fd 3: was open on /w/a (deleted, still linked as another name); ' +
              'after restore it is /w/a (not deleted)',
          );
          assert.match(
            c.differences[1]!.sentence,
            new RegExp(
              /^task init fd 3 \(inode 11 on 0:41, \/w\/a \(deleted, still linked as another name\)\) /.source +
                /and task init fd 4 \(inode 12 on 0:41, \/w\/a \(not deleted\)\) /.source +
                /were open on different inodes; after restore they share one/.source,
            ),
          );
        },
      );

      describe('with contents and names, as the helper captures them', () => {
        const withNames = capture(HEAD, [
          `@fd 3 flags=2 pos=1048576 mnt=24 ino=11 dev=0:41 nlink=1 type=file size=5 ` +
            `sha256=${H1} names=/w/b path=/w/a\\040(deleted)`,
          `@fd 4 flags=1 pos=0 mnt=24 ino=12 dev=0:41 nlink=1 type=file size=0 sha256=${H3} path=/w/a`,
        ]);
        const restored = (fd3: string) =>
          capture(HEAD_RESTORED, [
            fd3,
            `@fd 4 flags=1 pos=0 mnt=77 ino=40 dev=0:51 nlink=1 type=file size=0 sha256=${H3} path=/w/a`,
          ]);

        it('is equivalent when a_fd is still on the inode named b', () => {
          const c = compareCaptures(
            withNames,
            restored(
              `@fd 3 flags=2 pos=1048576 mnt=77 ino=39 dev=0:51 nlink=1 type=file size=5 ` +
                `sha256=${H1} names=/w/b path=/w/a\\040(deleted)`,
            ),
          );
          assert.deepEqual(sentences(c), []);
          assert.deepEqual(c.notes, []);
        });

        it('reports a_fd restored on a copy linked elsewhere (a link-remap file left): b no longer names it', () => {
          const c = compareCaptures(
            withNames,
            restored(
              `@fd 3 flags=2 pos=1048576 mnt=77 ino=39 dev=0:51 nlink=1 type=file size=5 ` +
                `sha256=${H1} names=/w/link_remap.3 path=/w/a\\040(deleted)`,
            ),
          );
          assert.deepEqual(kinds(c), ['fd-names-changed'], explain(c));
          assert.equal(
            c.differences[0]!.sentence,
            'task init fd 3 (/w/a (deleted, still linked as another name)): ' +
              'the names of its inode on its mount changed: /w/b no longer names it, and /w/link_remap.3 now names it',
          );
        });

        it('reports a_fd reopened on the new a once over (contents and names are not told again)', () => {
          const c = compareCaptures(
            withNames,
            restored(
              `@fd 3 flags=2 pos=1048576 mnt=77 ino=40 dev=0:51 nlink=1 type=file size=0 sha256=${H3} path=/w/a`,
            ),
          );
          assert.deepEqual(kinds(c), ['fd-deleted-changed', 'fd-inode-merged'], explain(c));
        });
      });

      it('a restore that turns the old inode into a ghost file (so b no longer names it) is reported', () => {
        const after = capture(HEAD_RESTORED, [
          '@fd 3 flags=2 pos=1048576 mnt=77 ino=39 dev=0:51 nlink=0 type=file size=1073741824 path=/w/a\\040(deleted)',
          '@fd 4 flags=1 pos=0 mnt=77 ino=40 dev=0:51 nlink=1 type=file size=0 path=/w/a',
        ]);
        const c = compareCaptures(before, after);
        assert.deepEqual(kinds(c), ['fd-link-changed'], explain(c));
      });
    });
  });

  describe('properties', function () {
    this.timeout(20_000);
    const RUNS = 1000;

    it(
      'says equivalent after renumbering mount ids, minors, inodes, pids, namespaces and reordering lines ' +
        `(${RUNS} runs)`,
      () => {
        fc.assert(
          fc.property(fc.integer(), fc.integer(), fc.integer(), (s, s1, s2) => {
            const model = genModel(prng(s));
            const before = render(model, prng(s1));
            const after = render(model, prng(s2));
            const c = compareCaptures(before, after);
            if (!c.equivalent) assert.fail(explain(c, before, after));
            // and through the text format, now and then (it doubles the cost)
            if ((s1 & 3) === 0)
              assert.ok(
                compareCaptures(parseCapture(formatCapture(before)), parseCapture(formatCapture(after))).equivalent,
              );
          }),
          { numRuns: RUNS },
        );
      },
    );

    it(`fails on any single fd mutation with a sentence naming the task and the fd (${RUNS} runs)`, () => {
      const seen = new Map<string, number>();
      fc.assert(
        fc.property(fc.integer(), fc.integer(), fc.integer(), (s, s1, s2) => {
          const r = prng(s);
          const model = genModel(r);
          const all = mutations(model, r);
          const families = [...new Set(all.map((x) => family(x.kind)))];
          const f = pick(r, families);
          const mutation = pick(
            r,
            all.filter((x) => family(x.kind) === f),
          );
          const mutated = clone(model);
          mutation.apply(mutated);
          const before = render(model, prng(s1));
          const after = render(mutated, prng(s2));
          const c = compareCaptures(before, after);
          // Built only on failure: formatting two captures every run would double the file's time.
          const why = () =>
            `mutation ${mutation.kind} of task ${mutation.task} fd ${mutation.fd}\n${explain(c, before, after)}`;
          const re = new RegExp(`task ${mutation.task}( has an extra)? fd ${mutation.fd}\\b`);
          if (c.equivalent || !c.differences.some((d) => d.tasks?.includes(mutation.task) && re.test(d.sentence)))
            assert.fail(why());
          assert.ok(c.differences.every((d) => !d.sentence.includes('\n')));
          seen.set(family(mutation.kind), (seen.get(family(mutation.kind)) ?? 0) + 1);
        }),
        { numRuns: RUNS },
      );
      for (const k of [
        'lost',
        'added',
        'flags',
        'offset',
        'type',
        'path',
        'deleted',
        'nlink',
        'mount',
        'ghost',
        'inode',
        'content',
        'names',
      ]) {
        assert.ok(
          (seen.get(k) ?? 0) >= 5,
          `mutation family ${k} tried ${seen.get(k) ?? 0} times: ${JSON.stringify([...seen])}`,
        );
      }
    });
  });
});
