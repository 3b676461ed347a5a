/**
 * The lab's capture format: the mountinfo of every task of the checkpointed
 * tree, each under a header the guest prints (vm/runtime/labctl):
 *
 *   @task <key> pid=<pid> mntns=<ns inode> [cwd=<escaped path>] [root=<escaped path>]
 *       [locked=<mount id>,... unlocked=<mount id>,...]
 *   <that task's /proc/PID/mountinfo, verbatim>
 *   @fd <n> flags=<octal> pos=<n> mnt=<mount id> [ino=<n> dev=<maj>:<min> nlink=<n> type=<t> size=<n>]
 *       [sha256=<hex> [hashed=<n>] | sha256-error=<errno>]
 *       [names=<escaped path>,... [names-truncated=<n>] | names-error=<why>] path=<escaped path>
 *   ... one @fd line (one line, wrapped here) per open file descriptor of
 *   that task (vm/helper's `capture`, whose header comment is the reference:
 *   flags, pos and mnt from /proc/PID/fdinfo/N, the rest from stat() and
 *   readlink() of /proc/PID/fd/N; ino..size are missing when stat()
 *   failed). Regular files get sha256 of their contents (of the first
 *   `hashed` bytes when the file was longer than the helper's cap), and,
 *   when nlink > 0 and the file is deleted or has nlink > 1, `names`: every
 *   path naming the same inode through the fd's mount (a comma inside a
 *   name is escaped, \054).
 *
 * Newer helpers add to the @fd line rdev=<maj>:<min> (device nodes) and, for
 * sockets, sock=<family>/<type> [listening=1] [sock-name=<escaped>]
 * [sock-peer=<escaped>] (or sock-error=<errno>), and after a task's @fd lines
 *
 *   @map <start>-<end> perms=<rwxp|rwxs> offset=<n> mnt=<mount id>
 *       [ino=<n> dev=<maj>:<min> nlink=<n>] [open-error=<errno>] path=<escaped path>
 *
 * one per file mapping that is data, not code (the helper leaves out every
 * file the task also maps executable), addresses in hex.
 *
 * Last, optionally (newer helpers always write it):
 *
 *   @outside pid=<pid> mntns=<ns inode>
 *   <the mountinfo lines of the guest's own namespace (the helper's, outside
 *    the tree) whose shared:N is a group that a mount of the tree names as
 *    master:N or propagate_from:N and that no mount of the tree carries>
 *
 * which names a master outside the tree by the outside mounts that carry it
 * (see GroupRef in compare/topology.ts). An empty section says that none
 * does; a capture without one (older, or a plain file) leaves such masters
 * comparable only as a partition.
 *
 * locked= and unlocked= (newer helpers, vm/helper/locks.c) list the mounts
 * of the task's table the helper found MNT_LOCKED or not; only a mount
 * namespace owned by a user namespace other than the guest's is probed, and
 * a mount its mountpoint does not reach is in neither list.
 *
 * A plain mountinfo file (no `@` line) is one task with key `init`, so a
 * file copied from /proc can be compared directly. An empty (or blank) text
 * is a capture of no task.
 *
 * Like mountinfo, a capture is bytes: decode it as latin1 (see mountinfo.ts).
 * Line numbers in errors and in MountEntry.line are those of the whole file.
 */
import {
  escapeMountinfo,
  MountinfoParseError,
  formatMountinfoLine,
  parseMountinfoLine,
  unescapeMountinfo,
  type MountEntry,
} from './mountinfo.js';
import { checkBelowParents, checkKernelLine, INT_MAX } from './kernel-invariants.js';

export interface TaskCapture {
  /** Stable name given by the lab; pids and namespace inodes are not stable across a restore. */
  key: string;
  pid: number;
  /** The mount namespace's inode number, as text; only equality within one capture means anything. */
  mntNs: string;
  cwd?: string;
  root?: string;
  mounts: MountEntry[];
  /** The task's open file descriptors, in capture order; empty when the capture has none. */
  fds: FdEntry[];
  /** The task's file mappings (@map lines); absent when the capture has none for it. */
  maps?: MapEntry[];
  /**
   * Mount ids of its table that are locked (true) or not (false), as the
   * helper probed them; absent when its namespace was not probed.
   */
  locks?: Map<number, boolean>;
}

/** One `@map` line: a file mapping of a task that is data, not its code. */
export interface MapEntry {
  /** The first and last-plus-one address, hex as /proc/PID/maps writes them (CRIU restores them in place). */
  start: string;
  end: string;
  /** 'rw-s': read, write, exec, then s (MAP_SHARED) or p (MAP_PRIVATE). */
  perms: string;
  /** Offset in the file, in bytes. */
  offset: number;
  /** The mount the file is mapped through; -1 when it could not be read. */
  mntId: number;
  ino?: number | bigint;
  dev?: string;
  nlink?: number;
  /** Why the mapping's file could not be opened for its mount and stat (an errno name). */
  openError?: string;
  /** readlink of /proc/PID/map_files/START-END, without ' (deleted)'. */
  path: string;
  deleted: boolean;
}

/** A socket fd as the helper saw it through the task's own socket. */
export interface SocketInfo {
  /** 'unix/stream', 'unix/dgram', 'inet/stream', ... */
  kind: string;
  listening: boolean;
  /** The bound address (abstract names start with @); absent when unbound. */
  name?: string;
  /** The connected peer's address; '-' for a peer with no name; absent when not connected. */
  peer?: string;
}

/** One `@fd` line: an open file descriptor as the guest saw it. */
export interface FdEntry {
  fd: number;
  /** f_flags from fdinfo (octal there), with O_CLOEXEC added by the kernel when the fd is close-on-exec. */
  flags: number;
  /** The file offset. */
  pos: number;
  /** fdinfo's mnt_id: the mount the file was opened through; -1 when fdinfo could not be read. */
  mntId: number;
  /**
   * stat() of the open file; absent when stat() failed. Numbers mean something only within one capture.
   * A bigint above 2^53 (overlayfs with xino=on sets the high bits), so that two inodes never round to one.
   */
  ino?: number | bigint;
  /** st_dev as 'major:minor'. */
  dev?: string;
  nlink?: number;
  /** 'file', 'dir', 'fifo', 'socket', 'chr', 'blk' or 'other'. */
  type?: string;
  size?: number;
  /** A device node's st_rdev, 'major:minor'. */
  rdev?: string;
  /** Sockets: what the helper read through the task's socket. */
  socket?: SocketInfo;
  /** Sockets: why nothing could be read (an errno name). */
  socketError?: string;
  /** SHA-256 of the contents, 64 hex digits (regular files); of the first `hashed` bytes only when that is set. */
  sha256?: string;
  /** Set when the file was longer than the helper hashes: the number of leading bytes `sha256` covers. */
  hashed?: number;
  /** Why a regular file has no sha256: an errno name such as 'EACCES'. */
  sha256Error?: string;
  /**
   * Every path (relative to the task's root) that named the same inode
   * through the mount the fd was opened through; [] when none did. Present
   * only for regular files with nlink > 0 that are deleted or have nlink > 1
   * (a plain file with nlink 1 is named by its path alone).
   */
  names?: string[];
  /** The helper's walk for `names` stopped after this many directory entries: `names` may lack some. */
  namesTruncated?: number;
  /**
   * Why `names` is missing: 'not-in-mountinfo', 'covered' (the mount's root is hidden by another mount) or an errno
   * name.
   */
  namesError?: string;
  /**
   * readlink() of /proc/PID/fd/N, unescaped (latin1, like mountinfo), without
   * the ' (deleted)' the kernel appends to an unlinked file's path. Pseudo
   * files read like 'pipe:[1234]', 'socket:[1234]', 'anon_inode:[eventfd]'.
   */
  path: string;
  /**
   * The link ended in ' (deleted)': the dentry the file was opened by is
   * unlinked. The file may still have other names (see nlink). A live file
   * whose name really ends in ' (deleted)' cannot be told from this; the
   * kernel's own text is ambiguous there.
   */
  deleted: boolean;
}

/** The `@outside` section: the guest's own mounts that carry the groups the tree uses as masters. */
export interface OutsideCapture {
  pid: number;
  /** The namespace inode of the guest's own mount namespace, as text. */
  mntNs: string;
  mounts: MountEntry[];
}

export interface Capture {
  tasks: TaskCapture[];
  /** Absent in plain mountinfo files and in captures of helpers older than the section. */
  outside?: OutsideCapture;
}

const BLANK = /^[ \t\r]*$/;

export function parseCapture(text: string, file?: string): Capture {
  checkText(text, file);
  const lines = text.split('\n');
  // Nothing at all is no task, so that formatCapture({ tasks: [] }) reads back;
  // a live task's mountinfo is never empty.
  if (lines.every((l) => BLANK.test(l))) return { tasks: [] };
  const hasHeaders = lines.some((l) => l.startsWith('@'));
  if (!hasHeaders) {
    const mounts: MountEntry[] = [];
    const countMount = counter(MAX_MOUNTS, "mounts (fs.mount-max's default)", file);
    lines.forEach((l, i) => {
      if (BLANK.test(l)) return;
      countMount(i + 1);
      mounts.push(strictMountinfoLine(l, i + 1, file));
    });
    const tasks = [{ key: 'init', pid: 0, mntNs: '', mounts, fds: [] }];
    checkNesting(tasks, file);
    checkBelowParents(mounts, (n) => lines[n - 1]!, file);
    return { tasks };
  }
  const tasks: TaskCapture[] = [];
  let current: TaskCapture | undefined;
  let outside: OutsideCapture | undefined;
  const countMount = counter(MAX_MOUNTS, "mounts (fs.mount-max's default)", file);
  const countFd = counter(MAX_FDS, 'open file descriptors', file);
  const countTask = counter(MAX_TASKS, 'tasks', file);
  lines.forEach((l, i) => {
    const lineNo = i + 1;
    if (BLANK.test(l)) return;
    if (l.startsWith('@')) {
      const directive = l.slice(0, `${l} `.indexOf(' '));
      if (outside) {
        const what = `${directive.slice(0, 20)} after the '@outside' section, which comes last`;
        throw new MountinfoParseError(what, file, lineNo, 1);
      }
      if (directive === '@outside') {
        outside = parseOutsideHeader(l, lineNo, file);
        current = undefined;
        return;
      }
      if (directive === '@map') {
        if (!current) throw new MountinfoParseError("'@map' line before the first '@task' header", file, lineNo, 1);
        countFd(lineNo);
        (current.maps ??= []).push(parseMapLine(l, lineNo, file));
        return;
      }
      if (directive === '@fd') {
        if (!current) throw new MountinfoParseError("'@fd' line before the first '@task' header", file, lineNo, 1);
        countFd(lineNo);
        current.fds.push(parseFdLine(l, lineNo, file));
        return;
      }
      countTask(lineNo);
      current = parseHeader(l, lineNo, file);
      tasks.push(current);
      return;
    }
    countMount(lineNo);
    if (outside) {
      outside.mounts.push(strictMountinfoLine(l, lineNo, file));
      return;
    }
    if (!current) throw new MountinfoParseError("mountinfo line before the first '@task' header", file, lineNo, 1);
    current.mounts.push(strictMountinfoLine(l, lineNo, file));
  });
  checkNesting(tasks, file);
  for (const t of tasks) checkBelowParents(t.mounts, (n) => lines[n - 1]!, file);
  if (outside) return { tasks, outside };
  // Duplicate keys are accepted: a child that inherits MOUNTLAB_TASK from its
  // parent carries the parent's key, and refusing the capture would turn a
  // comparable run into an error. buildTopology() tells the copies apart.
  return { tasks };
}

/**
 * What no kernel and no guest helper writes, refused before any line is
 * read: a NUL (paths cannot hold one), a byte-order mark, or a line that
 * ends in a carriage return (Windows line endings would otherwise end up
 * inside the last field of every line, and every super option differ).
 */
function checkText(text: string, file: string | undefined): void {
  const at = (offset: number, reason: string): never => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    throw new MountinfoParseError(reason, file, line, offset - before.lastIndexOf('\n'));
  };
  if (text.startsWith('\xef\xbb\xbf'))
    at(0, 'the file starts with a UTF-8 byte-order mark, which the kernel never writes');
  const nul = text.indexOf('\0');
  if (nul >= 0) at(nul, 'NUL byte: this is not a mountinfo file or a capture');
  // A blank line of spaces and \r is skipped like any blank line; a \r ending text is not.
  const cr = /\r(?=\n|$)/g;
  for (let m: RegExpExecArray | null; (m = cr.exec(text)); ) {
    const start = text.lastIndexOf('\n', m.index) + 1;
    if (!BLANK.test(text.slice(start, m.index + 1)))
      at(
        m.index,
        'the line ends with a carriage return (\\r): Windows line endings? mountinfo lines end with \\n alone',
      );
  }
}

/** The largest pid Linux hands out (PID_MAX_LIMIT) and the largest value of a C int (fds, mount ids). */
const PID_MAX = 4_194_304;
const U32_MAX = 2 ** 32 - 1;

/**
 * The kernel escapes every backslash it prints in a path, fstype or source
 * (\134) and the guest helper does too, so a backslash that does not start
 * \000-\377 means the text was altered (a hand edit, a paste that ate
 * characters) and would be compared as something it is not. Super options
 * are the exception: some filesystems print theirs raw. Returns the index of
 * the first bad backslash, or -1.
 */
function badEscape(s: string): number {
  const m = /\\(?![0-3][0-7]{2})/.exec(s);
  return m ? m.index : -1;
}

/** parseMountinfoLine(), plus what a capture must hold that a lenient line parser lets pass. */
function strictMountinfoLine(l: string, line: number, file: string | undefined): MountEntry {
  const e = parseMountinfoLine(l, line, file);
  // Every field but the last (the super options) is the kernel's escaped text.
  const bad = badEscape(l.slice(0, l.lastIndexOf(' ')));
  if (bad >= 0)
    throw new MountinfoParseError(
      'a backslash that is not an octal escape (\\ooo): the kernel escapes every backslash it prints as \\134',
      file,
      line,
      bad + 1,
    );
  if (e.major > U32_MAX || e.minor > U32_MAX) {
    const [id, parent, dev] = l.split(' ', 3);
    throw new MountinfoParseError(
      `device ${dev} is out of range: a major or minor number fits in 32 bits`,
      file,
      line,
      `${id} ${parent} `.length + 1,
    );
  }
  checkKernelLine(e, l, file);
  return e;
}

/**
 * Comparing a capture builds, for every mount, its path from the root of
 * its tree, so the work grows with each mount's depth: a 4 MB file of
 * 100,000 mounts nested in one another ran out of memory after 50 s. Real
 * trees are a few levels deep; a scenario cannot build one a thousand deep
 * (its script would be over the guest's limit first).
 */
const MAX_MOUNT_DEPTH = 1000;
const MAX_DEPTH_SUM = 2_000_000;

/**
 * Comparing costs about 70 bytes of memory per byte of capture: a
 * namespace of 100,000 mounts (fs.mount-max's default, the most one can
 * hold) compared with itself took 10 s and 790 MiB. The lab's captures have
 * at most 33 tasks.
 */
const MAX_MOUNTS = 100_000;
const MAX_FDS = 100_000;
const MAX_TASKS = 10_000;

/** Counts what is read and refuses the line that goes over a limit. */
function counter(max: number, what: string, file: string | undefined): (line: number) => void {
  let n = 0;
  return (line) => {
    if (++n > max)
      throw new MountinfoParseError(`more than ${max} ${what}; a capture may have at most ${max}`, file, line, 1);
  };
}

function checkNesting(tasks: TaskCapture[], file: string | undefined): void {
  let sum = 0;
  for (const t of tasks) {
    const byId = new Map<number, MountEntry>();
    for (const m of t.mounts) if (!byId.has(m.mountId)) byId.set(m.mountId, m);
    const depth = new Map<MountEntry, number>();
    for (const m of t.mounts) {
      // Walk up to a mount whose depth is known, then number the way back down.
      const chain: MountEntry[] = [];
      const onChain = new Set<MountEntry>();
      let cur: MountEntry | undefined = m;
      while (cur && !depth.has(cur) && !onChain.has(cur)) {
        chain.push(cur);
        onChain.add(cur);
        const parent = byId.get(cur.parentId);
        cur = parent === cur ? undefined : parent;
      }
      // A cycle is the comparator's to report (it takes one mount of it as a root).
      let d = cur && depth.has(cur) ? depth.get(cur)! : 0;
      for (let i = chain.length - 1; i >= 0; i--) depth.set(chain[i]!, ++d);
      const md = depth.get(m)!;
      if (md > MAX_MOUNT_DEPTH) {
        throw new MountinfoParseError(
          `mount ID ${m.mountId} is ${md} mounts deep; a capture's mounts may nest at most ${MAX_MOUNT_DEPTH} deep`,
          file,
          m.line,
          1,
        );
      }
      sum += md;
      if (sum > MAX_DEPTH_SUM) {
        throw new MountinfoParseError(
          `the mounts' depths add up to more than ${MAX_DEPTH_SUM} by here: ` +
            'too deep to compare (comparing costs each mount its depth)',
          file,
          m.line,
          1,
        );
      }
    }
  }
}

interface Word {
  text: string;
  col: number;
}
type Attrs = Map<string, { value: string; col: number }>;

/** Splits a directive line into words and its name=value attributes (from the third word on). */
function directiveWords(l: string, fail: (reason: string, col: number) => never): { words: Word[]; attrs: Attrs } {
  const words: Word[] = [];
  let start = 0;
  for (let i = 0; i <= l.length; i++) {
    if (i === l.length || l[i] === ' ') {
      if (i > start) words.push({ text: l.slice(start, i), col: start + 1 });
      start = i + 1;
    }
  }
  const attrs: Attrs = new Map();
  for (const w of words.slice(2)) {
    const eq = w.text.indexOf('=');
    if (eq <= 0) fail(`expected name=value, found ${JSON.stringify(w.text)}`, w.col);
    const name = w.text.slice(0, eq);
    if (attrs.has(name)) fail(`attribute ${name} appears twice`, w.col);
    attrs.set(name, { value: w.text.slice(eq + 1), col: w.col + eq + 1 });
  }
  return { words, attrs };
}

/** Every escaped word of a directive line holds only \ooo escapes (see badEscape). */
function checkEscapes(
  words: { value?: string; text?: string; col: number }[],
  fail: (reason: string, col: number) => never,
): void {
  for (const w of words) {
    const bad = badEscape(w.value ?? w.text ?? '');
    if (bad >= 0)
      fail(
        'a backslash that is not an octal escape (\\ooo): the lab escapes every backslash it writes as \\134',
        w.col + bad,
      );
  }
}

function parseHeader(l: string, line: number, file: string | undefined): TaskCapture {
  const fail = (reason: string, col: number): never => {
    throw new MountinfoParseError(reason, file, line, col);
  };
  const first = l.slice(0, `${l} `.indexOf(' '));
  if (first !== '@task')
    fail(`unknown directive ${JSON.stringify(first)}: expected '@task', '@fd', '@map' or '@outside'`, 1);
  const { words, attrs } = directiveWords(l, fail);
  const keyWord = words[1];
  if (!keyWord) fail("expected a task key after '@task'", l.length + 1);
  if (keyWord!.text.includes('='))
    fail(`expected a task key after '@task', found the attribute ${JSON.stringify(keyWord!.text)}`, keyWord!.col);
  const pid = attrs.get('pid');
  if (!pid) fail('expected pid=<number> in the @task header', l.length + 1);
  if (!/^\d+$/.test(pid!.value)) fail(`expected pid=<number>, found pid=${JSON.stringify(pid!.value)}`, pid!.col);
  if (Number(pid!.value) > PID_MAX)
    fail(`pid ${pid!.value} is out of range: Linux pids are at most ${PID_MAX}`, pid!.col);
  const ns = attrs.get('mntns');
  if (!ns) fail('expected mntns=<namespace inode> in the @task header', l.length + 1);
  checkEscapes([keyWord!, ...['mntns', 'cwd', 'root'].flatMap((a) => (attrs.has(a) ? [attrs.get(a)!] : []))], fail);
  // Other attributes are ignored, so a newer guest script can add some.
  const t: TaskCapture = {
    key: unescapeMountinfo(keyWord!.text),
    pid: Number(pid!.value),
    mntNs: unescapeMountinfo(ns!.value),
    mounts: [],
    fds: [],
  };
  const cwd = attrs.get('cwd');
  if (cwd) t.cwd = unescapeMountinfo(cwd.value);
  const root = attrs.get('root');
  if (root) t.root = unescapeMountinfo(root.value);
  for (const [name, locked] of [
    ['locked', true],
    ['unlocked', false],
  ] as const) {
    const a = attrs.get(name);
    if (!a) continue;
    if (!/^\d+(,\d+)*$/.test(a.value)) fail(`expected ${name}=<mount id>,..., found ${JSON.stringify(a.value)}`, a.col);
    t.locks ??= new Map();
    for (const id of a.value.split(',')) {
      if (t.locks.has(Number(id))) fail(`mount ${id} is listed twice in locked=/unlocked=`, a.col);
      t.locks.set(Number(id), locked);
    }
  }
  return t;
}

/** `@outside pid=N mntns=N`: attributes as in `@task`, no key; unknown attributes are ignored. */
function parseOutsideHeader(l: string, line: number, file: string | undefined): OutsideCapture {
  const fail = (reason: string, col: number): never => {
    throw new MountinfoParseError(reason, file, line, col);
  };
  // directiveWords() reads attributes from the third word on; '@outside' has no key word.
  const rest = l.slice('@outside'.length).trimStart();
  const { attrs } = directiveWords(`@outside - ${rest}`, (reason, col) => fail(reason, col - 2));
  const pid = attrs.get('pid');
  if (!pid || !/^\d+$/.test(pid.value)) {
    fail("expected pid=<number> in the '@outside' header", pid ? pid.col - 2 : l.length + 1);
  }
  if (Number(pid!.value) > PID_MAX) {
    fail(`pid ${pid!.value} is out of range: Linux pids are at most ${PID_MAX}`, pid!.col - 2);
  }
  const ns = attrs.get('mntns');
  if (!ns) fail("expected mntns=<namespace inode> in the '@outside' header", l.length + 1);
  checkEscapes([{ value: ns!.value, col: ns!.col - 2 }], fail);
  return { pid: Number(pid!.value), mntNs: unescapeMountinfo(ns!.value), mounts: [] };
}

const DELETED = ' (deleted)';

/**
 * Parses one `@fd` line (format at the top of this file). Attributes this
 * parser does not know are ignored, as in `@task`, so a newer helper can add
 * some. An inode number above 2^53 is kept exact as a bigint (it is an
 * identity); other numbers that do not fit a double exactly (an offset
 * above 2^53) are kept rounded rather than refusing a real capture.
 */
function parseFdLine(l: string, line: number, file: string | undefined): FdEntry {
  const fail = (reason: string, col: number): never => {
    throw new MountinfoParseError(reason, file, line, col);
  };
  const { words, attrs } = directiveWords(l, fail);
  const fdWord = words[1];
  if (!fdWord) fail("expected a file descriptor number after '@fd'", l.length + 1);
  if (!/^\d+$/.test(fdWord!.text))
    fail(`expected a file descriptor number after '@fd', found ${JSON.stringify(fdWord!.text)}`, fdWord!.col);
  if (Number(fdWord!.text) > INT_MAX)
    fail(`fd ${fdWord!.text} is out of range: a file descriptor is a C int`, fdWord!.col);
  // Formats are checked below; here only sizes (the kernel prints these from C ints and 32-bit fields).
  for (const [name, max, base] of [
    ['flags', U32_MAX, 8],
    ['mnt', INT_MAX, 10],
    ['nlink', U32_MAX, 10],
  ] as const) {
    const a = attrs.get(name);
    if (a && /^\d+$/.test(a.value) && parseInt(a.value, base) > max)
      fail(`${name}=${a.value} is out of range (at most ${max.toString(base)})`, a.col);
  }
  const devAttr = attrs.get('dev');
  if (devAttr?.value.split(':').some((n) => Number(n) > U32_MAX))
    fail(`dev=${devAttr.value} is out of range: a major or minor number fits in 32 bits`, devAttr.col);
  checkEscapes(
    ['path', 'names', 'type', 'sha256-error', 'names-error', 'sock-name', 'sock-peer', 'sock-error'].flatMap((a) =>
      attrs.has(a) ? [attrs.get(a)!] : [],
    ),
    fail,
  );
  const get = (name: string, what: string, re: RegExp): { value: string; col: number } => {
    const a = attrs.get(name);
    if (!a) fail(`expected ${name}=<${what}> in the @fd line`, l.length + 1);
    if (!re.test(a!.value)) fail(`expected ${name}=<${what}>, found ${name}=${JSON.stringify(a!.value)}`, a!.col);
    return a!;
  };
  const opt = (name: string, what: string, re: RegExp): string | undefined =>
    attrs.has(name) ? get(name, what, re).value : undefined;
  const DEC = /^\d+$/;
  const fd: FdEntry = {
    fd: Number(fdWord!.text),
    flags: parseInt(get('flags', 'octal number', /^[0-7]+$/).value, 8),
    pos: Number(get('pos', 'number', DEC).value),
    mntId: Number(get('mnt', 'mount id', /^-?\d+$/).value),
    path: '',
    deleted: false,
  };
  const ino = opt('ino', 'number', DEC);
  if (ino !== undefined) fd.ino = Number.isSafeInteger(Number(ino)) ? Number(ino) : BigInt(ino);
  const dev = opt('dev', 'major:minor', /^\d+:\d+$/);
  if (dev !== undefined) fd.dev = dev;
  const nlink = opt('nlink', 'number', DEC);
  if (nlink !== undefined) fd.nlink = Number(nlink);
  const type = opt('type', 'file type', /^.+$/);
  if (type !== undefined) fd.type = unescapeMountinfo(type);
  const size = opt('size', 'number', /^-?\d+$/);
  if (size !== undefined) fd.size = Number(size);
  const rdev = opt('rdev', 'major:minor', /^\d+:\d+$/);
  if (rdev !== undefined) fd.rdev = rdev;
  const sock = opt('sock', 'family/type', /^[a-z0-9]+\/[a-z0-9]+$/);
  if (sock !== undefined) {
    fd.socket = { kind: sock, listening: opt('listening', '1', /^1$/) === '1' };
    const name = opt('sock-name', 'escaped address', /^.+$/);
    if (name !== undefined) fd.socket.name = unescapeMountinfo(name);
    const peer = opt('sock-peer', 'escaped address', /^.+$/);
    if (peer !== undefined) fd.socket.peer = unescapeMountinfo(peer);
  }
  const sockError = opt('sock-error', 'errno name', /^.+$/);
  if (sockError !== undefined) fd.socketError = unescapeMountinfo(sockError);
  const sha256 = opt('sha256', '64 hex digits', /^[0-9a-f]{64}$/);
  if (sha256 !== undefined) fd.sha256 = sha256;
  const hashed = opt('hashed', 'number', DEC);
  if (hashed !== undefined) fd.hashed = Number(hashed);
  const sha256Error = opt('sha256-error', 'errno name', /^.+$/);
  if (sha256Error !== undefined) fd.sha256Error = unescapeMountinfo(sha256Error);
  const names = opt('names', 'comma-separated escaped paths', /^/);
  if (names !== undefined) fd.names = names === '' ? [] : names.split(',').map(unescapeMountinfo);
  const truncated = opt('names-truncated', 'number', DEC);
  if (truncated !== undefined) fd.namesTruncated = Number(truncated);
  const namesError = opt('names-error', 'reason', /^.+$/);
  if (namesError !== undefined) fd.namesError = unescapeMountinfo(namesError);
  let path = unescapeMountinfo(get('path', 'escaped path', /^/).value);
  if (path.endsWith(DELETED)) {
    path = path.slice(0, -DELETED.length);
    fd.deleted = true;
  }
  fd.path = path;
  return fd;
}

/** Parses one `@map` line (format at the top of this file); unknown attributes are ignored. */
function parseMapLine(l: string, line: number, file: string | undefined): MapEntry {
  const fail = (reason: string, col: number): never => {
    throw new MountinfoParseError(reason, file, line, col);
  };
  const { words, attrs } = directiveWords(l, fail);
  const range = words[1];
  if (!range || !/^[0-9a-f]+-[0-9a-f]+$/.test(range.text))
    fail("expected START-END (hex addresses) after '@map'", range?.col ?? l.length + 1);
  const [start, end] = range!.text.split('-') as [string, string];
  if (BigInt(`0x${end}`) <= BigInt(`0x${start}`)) fail(`the mapping ${range!.text} ends before it starts`, range!.col);
  checkEscapes(
    ['path', 'open-error'].flatMap((a) => (attrs.has(a) ? [attrs.get(a)!] : [])),
    fail,
  );
  const get = (name: string, what: string, re: RegExp): string => {
    const a = attrs.get(name);
    if (!a) fail(`expected ${name}=<${what}> in the @map line`, l.length + 1);
    if (!re.test(a!.value)) fail(`expected ${name}=<${what}>, found ${name}=${JSON.stringify(a!.value)}`, a!.col);
    return a!.value;
  };
  const opt = (name: string, what: string, re: RegExp): string | undefined =>
    attrs.has(name) ? get(name, what, re) : undefined;
  const m: MapEntry = {
    start,
    end,
    perms: get('perms', 'rwxp or rwxs', /^[r-][w-][x-][ps]$/),
    offset: Number(get('offset', 'number', /^\d+$/)),
    mntId: Number(get('mnt', 'mount id', /^-?\d+$/)),
    path: '',
    deleted: false,
  };
  const ino = opt('ino', 'number', /^\d+$/);
  if (ino !== undefined) m.ino = Number.isSafeInteger(Number(ino)) ? Number(ino) : BigInt(ino);
  const dev = opt('dev', 'major:minor', /^\d+:\d+$/);
  if (dev !== undefined) m.dev = dev;
  const nlink = opt('nlink', 'number', /^\d+$/);
  if (nlink !== undefined) m.nlink = Number(nlink);
  const openError = opt('open-error', 'errno name', /^.+$/);
  if (openError !== undefined) m.openError = unescapeMountinfo(openError);
  let path = unescapeMountinfo(get('path', 'escaped path', /^/));
  if (path.endsWith(DELETED)) {
    path = path.slice(0, -DELETED.length);
    m.deleted = true;
  }
  m.path = path;
  return m;
}

function formatMapLine(m: MapEntry): string {
  let s = `@map ${m.start}-${m.end} perms=${m.perms} offset=${m.offset} mnt=${m.mntId}`;
  if (m.ino !== undefined) s += ` ino=${m.ino}`;
  if (m.dev !== undefined) s += ` dev=${m.dev}`;
  if (m.nlink !== undefined) s += ` nlink=${m.nlink}`;
  if (m.openError !== undefined) s += ` open-error=${escapeMountinfo(m.openError)}`;
  return `${s} path=${escapeMountinfo(m.deleted ? m.path + DELETED : m.path)}`;
}

function formatFdLine(f: FdEntry): string {
  let s = `@fd ${f.fd} flags=${f.flags.toString(8)} pos=${f.pos} mnt=${f.mntId}`;
  if (f.ino !== undefined) s += ` ino=${f.ino}`;
  if (f.dev !== undefined) s += ` dev=${f.dev}`;
  if (f.nlink !== undefined) s += ` nlink=${f.nlink}`;
  if (f.type !== undefined) s += ` type=${escapeMountinfo(f.type)}`;
  if (f.size !== undefined) s += ` size=${f.size}`;
  if (f.rdev !== undefined) s += ` rdev=${f.rdev}`;
  if (f.socket !== undefined) {
    s += ` sock=${f.socket.kind}`;
    if (f.socket.listening) s += ' listening=1';
    if (f.socket.name !== undefined) s += ` sock-name=${escapeMountinfo(f.socket.name)}`;
    if (f.socket.peer !== undefined) s += ` sock-peer=${escapeMountinfo(f.socket.peer)}`;
  }
  if (f.socketError !== undefined) s += ` sock-error=${escapeMountinfo(f.socketError)}`;
  if (f.sha256 !== undefined) s += ` sha256=${f.sha256}`;
  if (f.hashed !== undefined) s += ` hashed=${f.hashed}`;
  if (f.sha256Error !== undefined) s += ` sha256-error=${escapeMountinfo(f.sha256Error)}`;
  if (f.names !== undefined) s += ` names=${f.names.map((n) => escapeMountinfo(n, ',')).join(',')}`;
  if (f.namesTruncated !== undefined) s += ` names-truncated=${f.namesTruncated}`;
  if (f.namesError !== undefined) s += ` names-error=${escapeMountinfo(f.namesError)}`;
  return `${s} path=${escapeMountinfo(f.deleted ? f.path + DELETED : f.path)}`;
}

/** Writes a capture that parseCapture() reads back to an equal one (but for MountEntry.line). */
export function formatCapture(c: Capture): string {
  const out: string[] = [];
  for (const t of c.tasks) {
    if (t.key === '') throw new Error('formatCapture: a task key cannot be empty');
    // '=' is escaped in the key, so a key can never read back as an attribute.
    let h = `@task ${escapeMountinfo(t.key, '=')} pid=${t.pid} mntns=${escapeMountinfo(t.mntNs)}`;
    if (t.cwd !== undefined) h += ` cwd=${escapeMountinfo(t.cwd)}`;
    if (t.root !== undefined) h += ` root=${escapeMountinfo(t.root)}`;
    for (const want of [true, false]) {
      const ids = [...(t.locks ?? [])].filter(([, l]) => l === want).map(([id]) => id);
      if (ids.length) h += ` ${want ? 'locked' : 'unlocked'}=${ids.join(',')}`;
    }
    out.push(h);
    for (const m of t.mounts) out.push(formatMountinfoLine(m));
    for (const f of t.fds ?? []) out.push(formatFdLine(f));
    for (const m of t.maps ?? []) out.push(formatMapLine(m));
  }
  if (c.outside) {
    out.push(`@outside pid=${c.outside.pid} mntns=${escapeMountinfo(c.outside.mntNs)}`);
    for (const m of c.outside.mounts) out.push(formatMountinfoLine(m));
  }
  return `${out.join('\n')}\n`;
}
