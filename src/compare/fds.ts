/**
 * Compares the open file descriptors of the tasks a before-capture and an
 * after-capture have in common (tasks are matched by name, as in
 * compare.ts).
 *
 * For each fd number of each task: whether it is still open, what it is open
 * on (path, deleted or not, whether the inode still has a name, file type),
 * its open flags (those in FD_FLAGS_COMPARED), its offset, and the mount it
 * was opened through. The mount is compared through the canonical model:
 * the after-mount must be the counterpart of the before-mount (match.ts), not
 * merely a mount at the same path, because CRIU reopens a file by path and
 * over-mounts or a second bind of the same directory can make it land on the
 * wrong one.
 *
 * Inode numbers, device minors of anonymous superblocks and mount ids all
 * renumber across a restore, so inode identity is compared as a partition:
 * fds that were open on one inode (same st_dev and st_ino in one capture)
 * must still share one, and fds on different inodes must not come to share
 * one. That catches the relinked-file case of seed 004
 * (`open a; link a b; unlink a; creat a`): the fd must stay on the old inode,
 * now named only by b, not on the new file a.
 *
 * For regular files, where the helper captured them: the contents, by
 * sha256 (of the first `hashed` bytes when the file was longer than the
 * helper hashes; such a comparison is noted), and the names of the inode
 * (every path naming it through the fd's mount), compared as sets of paths;
 * the seed 004 fd must still be named by b, and not by a link-remap file.
 * Neither is compared for an fd already reported as open on another path,
 * another deleted state or another file type (the change is told once), nor
 * names for one whose link state changed, nor contents for one whose size
 * change was reported. A side without the data is noted, never silently
 * skipped. A live check of where a write lands is fd-probe.ts.
 */
import type { Capture, FdEntry, TaskCapture } from '../capture/capture-file.js';
import type { Difference, DifferenceKind } from './difference.js';
import type { Namer } from './explain.js';
import { displayPath, listText, plural } from './text.js';
import type { Matching } from './match.js';
import { diffPartitions } from './partition.js';
import { buildTopology, type Topology, type TopoMount, type TopoNamespace, type TopoTask } from './topology.js';

/*
 * Open flags as fdinfo prints them (f_flags, plus O_CLOEXEC for a
 * close-on-exec fd). Values are those of include/uapi/asm-generic/fcntl.h,
 * which x86_64, the lab's guest architecture, uses; arm and arm64 move
 * O_DIRECTORY, O_NOFOLLOW, O_DIRECT and O_LARGEFILE, so a capture from such
 * a guest needs other values.
 */
export const O_ACCMODE = 0o3;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_TMPFILE_BIT = 0o20000000; // __O_TMPFILE; O_TMPFILE is __O_TMPFILE | O_DIRECTORY

/**
 * The flags whose change is a difference: 0o13206003.
 *
 * Compared, because each changes what the program can do with the fd or
 * how its calls behave, and a restorer sets each of them explicitly:
 * - O_ACCMODE (O_RDONLY/O_WRONLY/O_RDWR): what read() and write() may do.
 * - O_APPEND: where every write() lands.
 * - O_NONBLOCK: whether calls block (EAGAIN instead).
 * - O_DIRECTORY: the fd was opened as a directory (see O_TMPFILE below).
 * - O_PATH: the fd is only a location; no I/O on it.
 * - O_NOATIME: reads do not update atime.
 * - O_CLOEXEC: the fd is close-on-exec (fdinfo adds it from the fd table).
 *
 * Not compared:
 * - O_LARGEFILE (0o100000): the kernel sets it itself on every open by a
 *   64-bit task (force_o_largefile()), so it says nothing about the program,
 *   and a restorer built otherwise may differ there harmlessly.
 * - O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC: they act at open time only, and
 *   do_dentry_open() clears them from f_flags.
 * - O_NOFOLLOW and __O_TMPFILE: how the file was looked up at open time.
 *   O_TMPFILE carries the O_DIRECTORY bit, so for an fd with __O_TMPFILE set
 *   O_DIRECTORY is not compared either: a restorer reopens such a file
 *   through a link, without O_TMPFILE, and rightly so.
 * - O_DSYNC, __O_SYNC, O_DIRECT, FASYNC: they change how I/O behaves but are
 *   outside what the issue asked for; adding them is a change to this mask.
 */
export const FD_FLAGS_COMPARED = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECTORY | O_PATH | O_NOATIME | O_CLOEXEC;

/** The flags of an fd that are compared; see FD_FLAGS_COMPARED. */
export function comparedFlags(flags: number): number {
  let f = flags & FD_FLAGS_COMPARED;
  if (flags & O_TMPFILE_BIT) f &= ~O_DIRECTORY;
  return f;
}

const FLAG_NAMES: [number, string][] = [
  [O_APPEND, 'O_APPEND'],
  [O_NONBLOCK, 'O_NONBLOCK'],
  [O_DIRECTORY, 'O_DIRECTORY'],
  [O_NOATIME, 'O_NOATIME'],
  [O_CLOEXEC, 'O_CLOEXEC'],
];

function accessText(flags: number): string {
  if (flags & O_PATH) return 'O_PATH';
  return ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE(3)'][flags & O_ACCMODE]!;
}

/** The compared flags as 'O_RDWR|O_APPEND|O_CLOEXEC'. */
export function flagsText(flags: number): string {
  const f = comparedFlags(flags);
  return [accessText(f), ...FLAG_NAMES.filter(([bit]) => f & bit).map(([, n]) => n)].join('|');
}

/** 'O_RDWR -> O_RDONLY, O_APPEND dropped, O_NONBLOCK added'; undefined when the compared flags agree. */
function flagsDiff(before: number, after: number): string | undefined {
  const b = comparedFlags(before);
  const a = comparedFlags(after);
  if (a === b) return undefined;
  const parts: string[] = [];
  if (accessText(b) !== accessText(a)) parts.push(`${accessText(b)} -> ${accessText(a)}`);
  // O_PATH is named by accessText; an O_PATH fd's access bits are 0 and say nothing more.
  const gone = FLAG_NAMES.filter(([bit]) => b & bit && !(a & bit)).map(([, n]) => n);
  const came = FLAG_NAMES.filter(([bit]) => a & bit && !(b & bit)).map(([, n]) => n);
  if (gone.length) parts.push(`${gone.join('|')} dropped`);
  if (came.length) parts.push(`${came.join('|')} added`);
  // Only the access bits of an O_PATH fd changed (the kernel keeps them 0; a damaged file might not).
  if (!parts.length) parts.push(`${(b & O_ACCMODE).toString(8)} -> ${(a & O_ACCMODE).toString(8)} in O_ACCMODE`);
  return parts.join(', ');
}

/**
 * Pipes, sockets and anonymous inodes: their readlink() text is
 * 'kind:[inode]' or 'anon_inode:name', and the inode number is meaningless
 * across a restore, so they are left out of the inode partition.
 */
export function isPseudoFile(f: FdEntry): boolean {
  return /^(pipe|socket|anon_inode):/.test(f.path);
}

/** The path as compared: 'kind:[N]' (pipes, sockets, namespace files) loses its renumbered N. */
function comparedPath(f: FdEntry): string {
  return f.path.replace(/^([a-z_]+):\[\d+\]$/, '$1:[]');
}

function linked(f: FdEntry): boolean | undefined {
  return f.nlink === undefined ? undefined : f.nlink > 0;
}

/** Whether the dentry is unlinked and whether the inode keeps a name, for sentences. */
function stateText(f: FdEntry): string {
  const l = linked(f);
  if (!f.deleted) return l === false ? 'not deleted, yet no link left: nlink 0' : 'not deleted';
  if (l === undefined) return 'deleted';
  return l ? 'deleted, still linked as another name' : 'deleted, no link left: nlink 0';
}

/** '/w/a (deleted, still linked as another name)'; pseudo files have no link state to tell. */
export function onText(f: FdEntry, withType = false): string {
  const bits: string[] = [];
  if (withType && f.type !== undefined) bits.push(`a ${f.type}`);
  if (!isPseudoFile(f)) bits.push(stateText(f));
  else if (f.deleted) bits.push('deleted');
  return bits.length ? `${d(f.path)} (${bits.join(', ')})` : d(f.path);
}

function inodeText(f: FdEntry): string {
  return `inode ${f.ino} on ${f.dev}`;
}

const d = displayPath;

const shortHash = (h: string) => `${h.slice(0, 16)}...`;

/** What comparing the sha256 of two regular-file fds found. */
interface ContentCheck {
  /** The tail of a difference sentence, e.g. 'contents changed: sha256 ... -> ...'. */
  changed?: string;
  /** The hashes were compared on this many leading bytes only. */
  prefix?: number;
  /** Why they were not compared, for a note. */
  skipped?: string;
}

function compareContents(b: FdEntry, a: FdEntry): ContentCheck {
  if (b.sha256 === undefined || a.sha256 === undefined) {
    if (b.sha256 === undefined && a.sha256 === undefined && b.sha256Error === undefined && a.sha256Error === undefined)
      return {};
    const why = (f: FdEntry, side: string) =>
      f.sha256 !== undefined
        ? undefined
        : f.sha256Error !== undefined
          ? `${side} it could not be read (${f.sha256Error})`
          : `${side} the capture has no sha256 for it`;
    return { skipped: [why(b, 'before the dump'), why(a, 'after restore')].filter((x) => x).join(', and ') };
  }
  const sizes =
    b.size !== undefined && a.size !== undefined && b.size !== a.size ? ` (size ${b.size} -> ${a.size})` : '';
  const prefix = b.hashed !== undefined && b.hashed === a.hashed ? { prefix: b.hashed } : {};
  if (b.hashed === a.hashed && b.sha256 !== a.sha256) {
    const what =
      b.hashed === undefined
        ? 'contents changed'
        : `the first ${b.hashed} bytes of its contents changed (no more were hashed)`;
    return { changed: `${what}${sizes}: sha256 ${shortHash(b.sha256)} -> ${shortHash(a.sha256)}`, ...prefix };
  }
  // Equal hashes of equal prefixes, or hashes of different lengths: the size tells.
  if (sizes) return { changed: `contents changed${sizes}` };
  if (b.hashed === a.hashed) return prefix;
  const covered = (f: FdEntry) =>
    f.hashed === undefined ? `all ${f.size ?? '?'} bytes` : `the first ${f.hashed} bytes`;
  return { skipped: `the hashes cover different lengths: ${covered(b)} before the dump, ${covered(a)} after restore` };
}

/** A regular file whose inode may have names other than its path; the helper lists them as `names`. */
function wantsNames(f: FdEntry): boolean {
  return f.type === 'file' && f.nlink !== undefined && f.nlink > 0 && (f.deleted || f.nlink > 1);
}

/** The paths naming the fd's inode on its mount: captured, or known without a walk; undefined when unknown. */
export function namesOf(f: FdEntry): string[] | undefined {
  if (f.names) return f.names;
  if (f.type !== 'file' || f.nlink === undefined) return undefined;
  if (f.nlink === 0) return [];
  if (!f.deleted && f.nlink === 1) return [f.path];
  return undefined;
}

const NAMES_ERRORS: Record<string, string> = {
  covered: "the root of the fd's mount is covered by another mount",
  'not-in-mountinfo': "the fd's mount is not in the task's mountinfo",
};

function namesMissingText(f: FdEntry): string {
  return f.namesError === undefined
    ? 'the capture has no names for it'
    : (NAMES_ERRORS[f.namesError] ?? `the search failed (${f.namesError})`);
}

const sockAddr = (s: string | undefined, none: string) => (s === undefined ? none : d(s));

/** What changed about a socket, as the tail of a sentence; undefined when nothing did or nothing was read. */
function socketDiff(b: FdEntry, a: FdEntry): string | undefined {
  const sb = b.socket;
  const sa = a.socket;
  if (!sb || !sa) return undefined;
  const parts: string[] = [];
  if (sb.kind !== sa.kind) parts.push(`socket type ${sb.kind} -> ${sa.kind}`);
  if (sb.listening !== sa.listening) parts.push(sb.listening ? 'no longer listening' : 'now listening');
  if (sb.name !== sa.name)
    parts.push(`bound address ${sockAddr(sb.name, '(unbound)')} -> ${sockAddr(sa.name, '(unbound)')}`);
  if (sb.peer !== sa.peer)
    parts.push(`peer ${sockAddr(sb.peer, '(not connected)')} -> ${sockAddr(sa.peer, '(not connected)')}`);
  return parts.length ? `the socket changed: ${parts.join(', ')}` : undefined;
}

export interface FdComparisonInput {
  before: Capture;
  after: Capture;
  /** The topologies built from `before` and `after`, and their matching. */
  B: Topology;
  A: Topology;
  M: Matching;
  namer: Namer;
}

export interface FdComparison {
  differences: Difference[];
  notes: string[];
}

export interface Side {
  /** The task captures, by topology task. */
  captures: Map<TopoTask, TaskCapture>;
  lookup(task: TopoTask, mntId: number): TopoMount | undefined;
}

export function compareFds(input: FdComparisonInput): FdComparison {
  const { before, after, B, A, M, namer } = input;
  const out: Difference[] = [];
  const notes: string[] = [];
  const countB = before.tasks.reduce((n, t) => n + t.fds.length, 0);
  const countA = after.tasks.reduce((n, t) => n + t.fds.length, 0);
  if (countB === 0 && countA === 0) return { differences: out, notes };
  if (countA === 0)
    notes.push(
      'after: the capture has no open file descriptors (@fd lines) at all, ' +
        `while before has ${countB}; each is reported as not open`,
    );
  if (countB === 0)
    notes.push(
      'before: the capture has no open file descriptors (@fd lines) at all, ' +
        `while after has ${countA}; each is reported as extra`,
    );

  const sb = side(before, B);
  const sa = side(after, A);
  const inA = new Map(A.tasks.map((t) => [t.name, t]));
  const fdName = (t: TopoTask, f: FdEntry) => `task ${d(t.name)} fd ${f.fd}`;
  const diff = (kind: DifferenceKind, tasks: string[], sentence: string) =>
    out.push({ kind, task: tasks[0]!, tasks, sentence });

  const mountText = (m: TopoMount | undefined, f: FdEntry, s: 'before' | 'after') => {
    if (m) return `the mount ${namer.label(m, s)}`;
    return f.mntId < 0
      ? 'an unknown mount (fdinfo had no mnt_id)'
      : `a mount outside the captured tables (mnt_id ${f.mntId})`;
  };

  const prefixes = new Map<number, string[]>();
  let contentUncaptured = 0;
  let namesUncaptured = 0;

  const partition: { item: { name: string; task: string; bf: FdEntry; af: FdEntry }; before: string; after: string }[] =
    [];
  for (const tb of B.tasks) {
    const ta = inA.get(tb.name);
    if (!ta) continue; // reported as a lost task
    const fb = sb.captures.get(tb)?.fds ?? [];
    const fa = sa.captures.get(ta)?.fds ?? [];
    const byFdA = new Map(fa.map((f) => [f.fd, f]));
    const byFdB = new Map(fb.map((f) => [f.fd, f]));
    for (const b of [...fb].sort((x, y) => x.fd - y.fd)) {
      const name = fdName(tb, b);
      const a = byFdA.get(b.fd);
      if (!a) {
        diff('fd-lost', [tb.name], `${name} (open on ${onText(b)}, ${flagsText(b.flags)}) is not open after restore`);
        continue;
      }
      const pathChanged = comparedPath(b) !== comparedPath(a);
      const typeChanged = b.type !== undefined && a.type !== undefined && b.type !== a.type;
      const lb = linked(b);
      const la = linked(a);
      const linkChanged = lb !== undefined && la !== undefined && lb !== la && !isPseudoFile(b) && !isPseudoFile(a);
      if (pathChanged) {
        diff(
          'fd-path-changed',
          [tb.name],
          `${name}: was open on ${onText(b, typeChanged)}; after restore it is ${onText(a, typeChanged)}`,
        );
      } else if (b.deleted !== a.deleted) {
        diff('fd-deleted-changed', [tb.name], `${name}: was open on ${onText(b)}; after restore it is ${onText(a)}`);
      } else if (linkChanged) {
        diff('fd-link-changed', [tb.name], `${name}: was open on ${onText(b)}; after restore it is ${onText(a)}`);
      }
      // Open on another file altogether: its contents and names say nothing more.
      const otherFile = pathChanged || b.deleted !== a.deleted || typeChanged;
      if (typeChanged && !pathChanged)
        diff('fd-type-changed', [tb.name], `${name} (${d(b.path)}): file type changed: ${b.type} -> ${a.type}`);

      if (!otherFile && b.rdev !== undefined && a.rdev !== undefined && b.rdev !== a.rdev)
        diff('fd-device-changed', [tb.name], `${name} (${d(b.path)}): device number changed: ${b.rdev} -> ${a.rdev}`);
      if (!typeChanged) {
        const sc = socketDiff(b, a);
        if (sc) diff('fd-socket-changed', [tb.name], `${name} (${d(b.path)}): ${sc}`);
      }

      const fl = flagsDiff(b.flags, a.flags);
      if (fl) diff('fd-flags-changed', [tb.name], `${name} (${d(b.path)}): open flags changed: ${fl}`);
      if (b.pos !== a.pos)
        diff('fd-offset-changed', [tb.name], `${name} (${d(b.path)}): file offset changed: ${b.pos} -> ${a.pos}`);
      // The content of a file with no name left exists only through its
      // fds, so the restorer must have recreated it; a file with a name
      // may legitimately be changed by others, and is not compared.
      const sizeReported =
        b.nlink === 0 &&
        b.type === 'file' &&
        a.type === 'file' &&
        b.size !== undefined &&
        a.size !== undefined &&
        b.size !== a.size;
      if (sizeReported)
        diff('fd-size-changed', [tb.name], `${name} (${onText(b)}): size changed: ${b.size} -> ${a.size}`);

      if (!otherFile && !sizeReported && b.type === 'file' && a.type === 'file') {
        const cc = compareContents(b, a);
        if (cc.changed) diff('fd-content-changed', [tb.name], `${name} (${onText(b)}): ${cc.changed}`);
        if (cc.prefix !== undefined)
          prefixes.set(cc.prefix, [...(prefixes.get(cc.prefix) ?? []), `${name} (${d(b.path)})`]);
        if (cc.skipped) notes.push(`${name} (${d(b.path)}): contents not compared: ${cc.skipped}`);
        if (
          b.sha256 === undefined &&
          a.sha256 === undefined &&
          b.sha256Error === undefined &&
          a.sha256Error === undefined
        )
          contentUncaptured++;
      }
      if (!otherFile && !linkChanged && b.type === 'file' && a.type === 'file') {
        const nb = namesOf(b);
        const na = namesOf(a);
        if (nb && na) {
          const setB = new Set(nb);
          const setA = new Set(na);
          // A name missing from a truncated list may only be unfound.
          const lost = a.namesTruncated === undefined ? nb.filter((n) => !setA.has(n)) : [];
          const added = b.namesTruncated === undefined ? na.filter((n) => !setB.has(n)) : [];
          if (lost.length || added.length) {
            const parts: string[] = [];
            if (lost.length)
              parts.push(`${listText(lost.map(d))} no longer ${lost.length === 1 ? 'names' : 'name'} it`);
            if (added.length) parts.push(`${listText(added.map(d))} now ${added.length === 1 ? 'names' : 'name'} it`);
            diff(
              'fd-names-changed',
              [tb.name],
              `${name} (${onText(b)}): the names of its inode on its mount changed: ${parts.join(', and ')}`,
            );
          }
          for (const [f, when] of [
            [b, 'before the dump'],
            [a, 'after restore'],
          ] as const) {
            if (f.namesTruncated !== undefined) {
              notes.push(
                `${name} (${d(b.path)}): the search for the names of its inode ${when} ` +
                  `stopped after ${f.namesTruncated} directory entries, ` +
                  'so names missing from that list are not reported',
              );
            }
          }
        } else if (wantsNames(b) || wantsNames(a)) {
          if (
            b.names === undefined &&
            a.names === undefined &&
            b.namesError === undefined &&
            a.namesError === undefined
          )
            namesUncaptured++;
          else {
            const why = [!nb && `before the dump ${namesMissingText(b)}`, !na && `after restore ${namesMissingText(a)}`]
              .filter((x) => x)
              .join(', and ');
            notes.push(`${name} (${d(b.path)}): the names of its inode not compared: ${why}`);
          }
        }
      }

      const mb = sb.lookup(tb, b.mntId);
      const ma = sa.lookup(ta, a.mntId);
      // Neither in the tables (pipefs, sockfs, a namespace no captured task
      // lives in): there is nothing to map, so nothing to compare.
      const sameMount = mb && ma ? M.mounts.get(mb) === ma : !mb && !ma;
      if (!sameMount) {
        let now = mountText(ma, a, 'after');
        if (now === mountText(mb, b, 'before')) now += ', another mount than its counterpart';
        diff(
          'fd-mount-changed',
          [tb.name],
          `${name} (${d(b.path)}): was open through ${mountText(mb, b, 'before')}; ` +
            `after restore it is open through ${now}`,
        );
      }

      if (
        !isPseudoFile(b) &&
        !isPseudoFile(a) &&
        b.ino !== undefined &&
        b.dev !== undefined &&
        a.ino !== undefined &&
        a.dev !== undefined
      ) {
        partition.push({
          item: { name, task: tb.name, bf: b, af: a },
          before: `${b.dev}/${b.ino}`,
          after: `${a.dev}/${a.ino}`,
        });
      }
    }
    for (const a of [...fa].sort((x, y) => x.fd - y.fd)) {
      if (!byFdB.has(a.fd))
        diff(
          'fd-added',
          [tb.name],
          `after restore task ${d(tb.name)} has an extra fd ${a.fd} (open on ${onText(a)}, ${flagsText(a.flags)})`,
        );
    }
  }

  for (const [n, fds] of [...prefixes].sort((x, y) => x[0] - y[0])) {
    notes.push(`the contents of ${listText(fds)} were compared on their first ${n} bytes only (no more were hashed)`);
  }
  if (contentUncaptured) {
    notes.push(
      `the contents of ${plural(contentUncaptured, 'regular file')} open on both sides were not compared: ` +
        'neither capture has sha256 for them (a helper that does not hash)',
    );
  }
  if (namesUncaptured) {
    notes.push(
      `the names of ${plural(namesUncaptured, 'deleted or multiply linked file')} open on both sides ` +
        'were not compared: neither capture has names for them (a helper that does not search)',
    );
  }

  const { splits, merges } = diffPartitions(partition);
  const uniq = (xs: string[]) => [...new Set(xs)];
  for (const s of splits) {
    const first = s.members[0]!.bf;
    const parts = s.parts.map((p) => {
      const af = p.members[0]!.af;
      return `${listText(p.members.map((m) => m.name))} on ${inodeText(af)} (${onText(af)})`;
    });
    diff(
      'fd-inode-split',
      uniq(s.members.map((m) => m.task)),
      `${listText(s.members.map((m) => m.name))} were open on one inode (${inodeText(first)}, ${onText(first)}); ` +
        `after restore they are open on ${s.parts.length} different inodes: ${parts.join('; ')}`,
    );
  }
  for (const m of merges) {
    const first = m.members[0]!.af;
    const parts = m.parts.map((p) => {
      const bf = p.members[0]!.bf;
      return `${listText(p.members.map((x) => x.name))} (${inodeText(bf)}, ${onText(bf)})`;
    });
    diff(
      'fd-inode-merged',
      uniq(m.members.map((x) => x.task)),
      `${parts.join(' and ')} were open on different inodes; ` +
        `after restore they share one (${inodeText(first)}, ${onText(first)})`,
    );
  }
  return { differences: out, notes };
}

/** A task of both captures, paired by name as compareFds pairs them. */
export interface TaskPair {
  name: string;
  before: TaskCapture;
  after: TaskCapture;
}

/** The task captures of the tasks both captures have, paired by task name (topology.ts names them). */
export function pairTaskCaptures(
  before: Capture,
  after: Capture,
  B: Topology = buildTopology(before),
  A: Topology = buildTopology(after),
): TaskPair[] {
  const sb = side(before, B);
  const sa = side(after, A);
  const inA = new Map(A.tasks.map((t) => [t.name, t]));
  const out: TaskPair[] = [];
  for (const tb of B.tasks) {
    const ta = inA.get(tb.name);
    const cb = sb.captures.get(tb);
    const ca = ta && sa.captures.get(ta);
    if (cb && ca) out.push({ name: tb.name, before: cb, after: ca });
  }
  return out;
}

/**
 * Links each topology task to its task capture (TopoTask does not keep
 * one) by what both record; the mount lookup tries the task's own namespace
 * first, then any (mount ids are unique system-wide, and an fd opened before
 * a setns() or unshare() lives on a mount of the old namespace).
 */
export function side(c: Capture, t: Topology): Side {
  const sig = (key: string, pid: number, ns: string, cwd: string | undefined, root: string | undefined) =>
    JSON.stringify([key, pid, ns, cwd ?? null, root ?? null]);
  const pending = new Map<string, TaskCapture[]>();
  for (const tc of c.tasks) {
    const k = sig(tc.key, tc.pid, tc.mntNs, tc.cwd, tc.root);
    const l = pending.get(k);
    if (l) l.push(tc);
    else pending.set(k, [tc]);
  }
  const captures = new Map<TopoTask, TaskCapture>();
  for (const ns of t.namespaces) {
    for (const task of ns.tasks) {
      const tc = pending.get(sig(task.key, task.pid, ns.rawId, task.cwd, task.root))?.shift();
      if (tc) captures.set(task, tc);
    }
  }
  const byNs = new Map<TopoNamespace, Map<number, TopoMount>>();
  const all = new Map<number, TopoMount>();
  for (const m of t.mounts) {
    let n = byNs.get(m.ns);
    if (!n) byNs.set(m.ns, (n = new Map()));
    if (!n.has(m.entry.mountId)) n.set(m.entry.mountId, m);
    if (!all.has(m.entry.mountId)) all.set(m.entry.mountId, m);
  }
  return {
    captures,
    lookup: (task, id) => byNs.get(task.namespace)?.get(id) ?? all.get(id),
  };
}
