/**
 * Reads a mount table as people paste it: into a bug report, a mail, a list
 * archive. What it accepts (README, "mountlab import"):
 *
 * - raw /proc/PID/mountinfo, as the kernel prints it;
 * - several tasks' mountinfo, each under a header line
 *       == pid 1234 (name) ==         (pid and name both optional: `== name ==`)
 *   or the lab's own capture format (`@task KEY pid=N mntns=X ...`, `@fd`
 *   lines ignored), so a capture can be imported as it is;
 * - seed 001's table form, one mount a row:
 *       mntid parent mountpoint (shared_id, master_id)
 *       101 0 /tmp (0,4)
 *   (0 means none; the table gives no filesystem, see plan-import.ts);
 * - all of it inside mail text: quote markers (`> `, `>> `, `> > `) and
 *   leading blanks are stripped, prose lines around the table are skipped,
 *   and a mountinfo line that a mail client wrapped at 72-78 columns is
 *   joined again: a line that starts with a mount id pair but ends before
 *   its three fields after " - " takes the following lines (which do not
 *   start with a mount id pair) until it is complete.
 *
 * Prose is skipped, so a mail holding two tables (seed 001: a table and a
 * wrapped mountinfo) holds two pastes; `pick` chooses one, and without it
 * such a text is refused with the list of pastes and their lines.
 *
 * Like mountinfo, the text is bytes: callers decode it as latin1.
 */
import { BadInputError } from '../errors.js';
import { MountinfoParseError, parseMountinfoLine, unescapeMountinfo, type MountEntry } from '../capture/mountinfo.js';
import { describeAnnotations, isAnnotation, splitAnnotation } from './annotations.js';
import { describeCuts, describeFragments, fitTogether, isCutMark } from './fragments.js';
import { describePrefix, detectPrefix, isPromptCommand, prefixLength } from './line-prefix.js';

export type PasteKind = 'mountinfo' | 'table';

export interface PastedTask {
  /** From the header (`name`, or `pid N` when it has no name); 'init' when the paste has no header. */
  name: string;
  pid?: number;
  /** From an `@task` header: the namespace inode, which groups tasks exactly. */
  mntNs?: string;
  /** 1-based line of the header; 0 without one. */
  line: number;
  mounts: MountEntry[];
}

export interface Paste {
  file: string;
  kind: PasteKind;
  tasks: PastedTask[];
  /** 1-based first and last physical lines the chosen paste spans. */
  lines: [number, number];
  /** How the text was read: wrapped lines joined, quote markers stripped, pastes skipped. */
  notes: string[];
  /** Mount ids of parents missing from the paste and rebuilt as stand-ins (stand-in-parents.ts). */
  standInParents?: number[];
}

export interface ParseOptions {
  /** 1-based: which paste of a text that holds several. */
  pick?: number;
}

/** The device every table row gets: the rows name no filesystem, and peers must share one (plan-import.ts). */
export const TABLE_DEVICE = { major: 0, minor: 1 } as const;
export const TABLE_SOURCE = 'table';

const QUOTE = /^(?:[ \t]*>)+[ \t]?/;
const MOUNT_START = /^\d+[ \t]+\d+[ \t]/;
const TABLE_ROW = /^(\d+)[ \t]+(\d+)[ \t]+(\S+)[ \t]+\([ \t]*(\d+)[ \t]*,[ \t]*(\d+)[ \t]*\)[ \t]*$/;
/** A table row with something after it: a remark when annotations.ts says so. */
const TABLE_ROW_AND = /^(\d+[ \t]+\d+[ \t]+\S+[ \t]+\([ \t]*\d+[ \t]*,[ \t]*\d+[ \t]*\))[ \t]+(.*)$/;
// A task's name is whatever it calls itself, parentheses included (`(sd-pam)`, `kworker/0:1(x)`), so
// the name in parentheses runs to the last `)` before the closing `==`, as in /proc/PID/stat.
const PID_HEADER = /^==[ \t]*(?:pid[ \t]+(\d+))?[ \t]*(?:\((.*)\)|([^=()\s][^=()]*?))?[ \t]*==[ \t]*$/;
/**
 * A line that means to be a header (`== pid ...`, or `== ... ==` with a parenthesis in it); when
 * PID_HEADER refuses one, the mistake is there, not on the mount line after it.
 */
const HEADER_LIKE = /^==[ \t]*pid[ \t]|^==.*[()].*==[ \t]*$/;

interface Line {
  /** 1-based physical line number. */
  no: number;
  /** The text after quote markers and leading blanks. */
  text: string;
  /** Characters removed from the start: text column c is physical column c + offset. */
  offset: number;
  /** The line carried mail quote markers. */
  quoted: boolean;
  /** The line carried the paste's line prefix (line-prefix.ts). */
  prefixed: boolean;
  /** A remark after a table row, stripped from `text` (annotations.ts). */
  remark?: string;
  kind: 'blank' | 'header' | 'task' | 'fd' | 'row' | 'mount' | 'cut' | 'prose';
}

interface Block {
  /** Undefined until the block's first mount. */
  kind: PasteKind | undefined;
  first: number;
  last: number;
  /** Wrapped lines joined in this block. */
  joined: number;
  /** Lines of cut marks inside this block. */
  cuts: number[];
  /** Remarks after mount lines, by line. */
  remarks: { line: number; remark: string }[];
  /** Entries grouped by the header they follow (one group without headers). */
  tasks: PastedTask[];
}

export function parsePaste(text: string, file: string, opts: ParseOptions = {}): Paste {
  const notes: string[] = [];
  refuseNul(text, file);
  const { lines, prefixNote } = classify(text);
  if (lines.some((l) => l.quoted && (l.kind === 'mount' || l.kind === 'row')))
    notes.push('mail quote markers (>) were stripped');
  if (prefixNote) notes.push(prefixNote);
  const hasHeaders = lines.some((l) => l.kind === 'header' || l.kind === 'task');
  const blocks: Block[] = [];
  let current: Block | undefined;
  let task: PastedTask | undefined;
  const startTask = (t: PastedTask) => {
    task = t;
    if (current) current.tasks.push(t);
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.kind === 'prose' && HEADER_LIKE.test(l.text)) {
      fail(
        file,
        l.no,
        l.offset + 1,
        'a task header that does not read as == pid N (name) ==',
        "write it as '== pid 1234 (name) ==': the pid a number, the name in parentheses, '==' at both ends",
      );
    }
    if (l.kind === 'header' || l.kind === 'task') {
      const t = l.kind === 'header' ? pidHeader(l, file) : taskHeader(l, file);
      if (!current) blocks.push((current = newBlock(undefined, l.no)));
      startTask(t);
      continue;
    }
    if (l.kind === 'row' || l.kind === 'mount') {
      const kind: PasteKind = l.kind === 'row' ? 'table' : 'mountinfo';
      if (current && hasHeaders && current.kind !== undefined && current.kind !== kind) {
        const among = current.kind === 'table' ? 'table rows' : 'mountinfo lines';
        fail(
          file,
          l.no,
          l.offset + 1,
          `a ${kind === 'table' ? 'table row' : 'mountinfo line'} among ${among}`,
          'paste one form (mountinfo or table) for all tasks',
        );
      }
      if (!current || (current.kind !== undefined && current.kind !== kind && !hasHeaders)) {
        blocks.push((current = newBlock(kind, l.no)));
        task = undefined;
      }
      current.kind = kind;
      if (!task) {
        if (hasHeaders)
          fail(
            file,
            l.no,
            l.offset + 1,
            `${kind === 'table' ? 'a table row' : 'a mountinfo line'} before the first task header`,
            "put a header line such as '== pid 1 (init) ==' above it, or remove the other headers",
          );
        startTask({ name: 'init', line: 0, mounts: [] });
      }
      if (l.kind === 'row') {
        task!.mounts.push(tableEntry(l, file));
        if (l.remark !== undefined) current.remarks.push({ line: l.no, remark: l.remark });
        current.last = l.no;
      } else {
        const { entry, used, remark } = mountinfoEntry(lines, i, file);
        if (used > 0) current.joined++;
        if (remark !== undefined) current.remarks.push({ line: l.no, remark });
        task!.mounts.push(entry);
        current.last = lines[i + used]!.no;
        i += used;
      }
      continue;
    }
    // A cut mark is a cut inside the table, not its end.
    if (l.kind === 'cut') {
      if (current?.kind !== undefined) current.cuts.push(l.no);
      continue;
    }
    // Prose ends a paste (a blank line does not: people leave blank lines inside
    // one); with headers, everything belongs to the task under the last one.
    if (l.kind === 'prose' && !hasHeaders) {
      current = undefined;
      task = undefined;
    }
  }
  let found = blocks.filter((b) => b.tasks.some((t) => t.mounts.length > 0));
  let fragmentNote: string | undefined;
  let apart: string | undefined;
  if (found.length > 1 && !hasHeaders && opts.pick === undefined && found.every((b) => b.kind === found[0]!.kind)) {
    const fragments = found.map((b) => ({ first: b.first, last: b.last, mounts: b.tasks.flatMap((t) => t.mounts) }));
    const fit = fitTogether(fragments);
    if (fit.fit) {
      fragmentNote = describeFragments(fragments);
      found = [mergeBlocks(found)];
    } else {
      apart = fit.why;
    }
  }
  if (found.length === 0) {
    fail(
      file,
      1,
      1,
      'no mountinfo lines or mount table rows found',
      "paste /proc/PID/mountinfo (lines like '36 35 98:0 / /mnt rw - ext4 /dev/sda1 rw') " +
        "or a table of 'ID PARENT MOUNTPOINT (SHARED,MASTER)' rows",
    );
  }
  let chosen: Block;
  if (opts.pick !== undefined) {
    if (opts.pick < 1 || opts.pick > found.length) {
      fail(
        file,
        1,
        1,
        `--pick ${opts.pick}: the text holds ${found.length === 1 ? 'one paste' : `${found.length} pastes`}: ` +
          describeBlocks(found),
        `pick a number from 1 to ${found.length}`,
      );
    }
    chosen = found[opts.pick - 1]!;
  } else if (found.length > 1) {
    fail(
      file,
      found[1]!.first,
      1,
      `the text holds ${found.length} separate pastes: ${describeBlocks(found)}` +
        (apart ? ` (not fragments of one table: ${apart})` : ''),
      'choose one with --pick N, ' +
        'or put a task header (== pid N (name) ==) above each table if they are tasks of one system',
    );
  } else {
    chosen = found[0]!;
  }
  const before = lines
    .slice(0, chosen!.first - 1)
    .reverse()
    .find((l) => l.kind !== 'blank');
  if (before?.kind === 'prose' && isPromptCommand(before.text))
    notes.push(`line ${before.no} is the shell command that printed the table, prompt and all; it was skipped`);
  if (fragmentNote) notes.push(fragmentNote);
  const cuts = chosen!.cuts.filter((n) => n > chosen!.first);
  if (cuts.length) notes.push(describeCuts(cuts));
  const remarks = chosen!.remarks;
  if (remarks.length)
    notes.push(
      describeAnnotations(
        remarks.map((r) => r.line),
        remarks.map((r) => r.remark),
      ),
    );
  const joined = chosen!.joined;
  if (joined) notes.push(`${joined} wrapped mountinfo ${joined === 1 ? 'line was' : 'lines were'} joined again`);
  if (found.length > 1)
    notes.push(
      `paste ${found.indexOf(chosen!) + 1} of ${found.length} (lines ${chosen!.first}-${chosen!.last}) was imported`,
    );
  const tasks = chosen!.tasks.filter((t) => t.mounts.length > 0);
  for (const t of chosen!.tasks)
    if (t.mounts.length === 0)
      notes.push(`the task under the header on line ${t.line} lists no mounts and was left out`);
  return { file, kind: chosen!.kind!, tasks, lines: [chosen!.first, chosen!.last], notes };
}

/**
 * The kernel never prints a NUL byte in mountinfo (a path cannot hold one), so a raw NUL means a
 * binary file or a broken copy; it is refused where it is, not as whatever field it lands in.
 */
function refuseNul(text: string, file: string): void {
  const at = text.indexOf('\0');
  if (at < 0) return;
  const line = text.slice(0, at).split('\n').length;
  const col = at - text.lastIndexOf('\n', at - 1);
  fail(
    file,
    line,
    col,
    'a NUL byte, which no mountinfo line or mount table holds (a path cannot)',
    'paste the table as text; if the file is binary, it is not a paste',
  );
}

function newBlock(kind: PasteKind | undefined, line: number): Block {
  return { kind, first: line, last: line, joined: 0, cuts: [], remarks: [], tasks: [] };
}

/** Fragments of one table (fragments.ts) as one block: one task, every mount in line order. */
function mergeBlocks(blocks: Block[]): Block {
  const merged = newBlock(blocks[0]!.kind, blocks[0]!.first);
  merged.last = blocks[blocks.length - 1]!.last;
  for (const b of blocks) {
    merged.joined += b.joined;
    merged.cuts.push(...b.cuts);
    merged.remarks.push(...b.remarks);
  }
  merged.tasks = [{ name: 'init', line: 0, mounts: blocks.flatMap((b) => b.tasks.flatMap((t) => t.mounts)) }];
  return merged;
}

function describeBlocks(blocks: Block[]): string {
  return blocks
    .map((b, i) => {
      const n = b.tasks.reduce((s, t) => s + t.mounts.length, 0);
      const form = b.kind === 'table' ? 'a table' : 'mountinfo';
      return `${i + 1}) lines ${b.first}-${b.last}, ${form} of ${n} mount${n === 1 ? '' : 's'}`;
    })
    .join('; ');
}

function classify(text: string): { lines: Line[]; prefixNote?: string } {
  const raw = text.split('\n').map((r) => {
    const noCr = r.endsWith('\r') ? r.slice(0, -1) : r;
    const q = QUOTE.exec(noCr);
    const body = (q ? noCr.slice(q[0].length) : noCr).replace(/^[ \t]*/, '');
    return { noCr, body, quoted: q !== null };
  });
  const prefix = detectPrefix(raw.map((r) => r.body));
  let prefixed = 0;
  const lines = raw.map(({ noCr, body: b, quoted }, i): Line => {
    let body = b;
    const cut = prefix ? prefixLength(prefix, body) : 0;
    if (cut) {
      body = body.slice(cut);
      prefixed++;
    }
    const offset = noCr.length - body.length;
    const no = i + 1;
    let kind: Line['kind'];
    let remark: string | undefined;
    if (body.trim() === '') kind = 'blank';
    else if (body.startsWith('@task ') || body === '@task') kind = 'task';
    else if (body.startsWith('@fd ')) kind = 'fd';
    else if (PID_HEADER.test(body) && body.replace(/[=\s]/g, '') !== '') kind = 'header';
    else if (TABLE_ROW.test(body)) kind = 'row';
    else if (MOUNT_START.test(body)) kind = 'mount';
    else if (isCutMark(body)) kind = 'cut';
    else kind = 'prose';
    if (kind === 'mount') {
      const row = TABLE_ROW_AND.exec(body);
      if (row && isAnnotation(row[2]!)) {
        kind = 'row';
        remark = row[2]!.trimEnd();
        body = row[1]!;
      }
    }
    return {
      no,
      text: body.replace(/[ \t]+$/, ''),
      offset,
      quoted,
      prefixed: cut > 0,
      ...(remark !== undefined ? { remark } : {}),
      kind,
    };
  });
  return { lines, ...(prefix && prefixed ? { prefixNote: describePrefix(prefix, prefixed) } : {}) };
}

function pidHeader(l: Line, _file: string): PastedTask {
  const m = PID_HEADER.exec(l.text)!;
  const pid = m[1] !== undefined ? Number(m[1]) : undefined;
  const name = (m[2] ?? m[3] ?? '').trim() || (pid !== undefined ? `pid ${pid}` : `task at line ${l.no}`);
  return { name, ...(pid !== undefined ? { pid } : {}), line: l.no, mounts: [] };
}

/**
 * The lab's `@task KEY pid=N mntns=X ...` header (capture/capture-file.ts), read leniently: key and mntns matter
 * here.
 */
function taskHeader(l: Line, file: string): PastedTask {
  const words = l.text.split(' ').filter(Boolean);
  const key = words[1];
  if (!key || key.includes('='))
    fail(
      file,
      l.no,
      l.offset + l.text.length + 1,
      "expected a task key after '@task'",
      "write the header as '@task NAME pid=N mntns=INODE'",
    );
  const t: PastedTask = { name: unescapeMountinfo(key!), line: l.no, mounts: [] };
  for (const w of words.slice(2)) {
    const eq = w.indexOf('=');
    if (eq <= 0) continue;
    const k = w.slice(0, eq);
    const v = w.slice(eq + 1);
    if (k === 'pid' && /^\d+$/.test(v)) t.pid = Number(v);
    if (k === 'mntns') t.mntNs = unescapeMountinfo(v);
  }
  return t;
}

function tableEntry(l: Line, file: string): MountEntry {
  const m = TABLE_ROW.exec(l.text)!;
  const num = (s: string, what: string, col: number): number => {
    const n = Number(s);
    if (!Number.isSafeInteger(n)) fail(file, l.no, l.offset + col, `${what} ${s} is too large`, 'use ids below 2^53');
    return n;
  };
  const mountPoint = unescapeMountinfo(m[3]!);
  if (!mountPoint.startsWith('/'))
    fail(
      file,
      l.no,
      l.offset + l.text.indexOf(m[3]!) + 1,
      `the mountpoint ${JSON.stringify(m[3])} is not an absolute path`,
      'write it as it appears in mountinfo, starting with /',
    );
  const shared = num(m[4]!, 'the shared id', 1);
  const master = num(m[5]!, 'the master id', 1);
  const e: MountEntry = {
    line: l.no,
    mountId: num(m[1]!, 'the mount id', 1),
    parentId: num(m[2]!, 'the parent id', 1),
    major: TABLE_DEVICE.major,
    minor: TABLE_DEVICE.minor,
    root: '/',
    mountPoint,
    mountOptions: ['rw', 'relatime'],
    unbindable: false,
    fsType: 'tmpfs',
    source: TABLE_SOURCE,
    superOptions: ['rw'],
  };
  if (shared !== 0) e.shared = shared;
  if (master !== 0) e.master = master;
  return e;
}

/** Reasons parseMountinfoLine gives when the text simply stops early: the signature of a wrapped line. */
const ENDS_EARLY = /^(line ends early|missing the separator)/;

/**
 * Parses the mountinfo line at lines[i], joining continuation lines while
 * the line is incomplete. A mail client wraps at a space, so the pieces are
 * joined with one; a piece that was cut inside a field is joined without.
 */
function mountinfoEntry(lines: Line[], i: number, file: string): { entry: MountEntry; used: number; remark?: string } {
  const first = lines[i]!;
  // Pieces of the logical line, each with where its text starts in it.
  const pieces: { line: Line; at: number }[] = [{ line: first, at: 0 }];
  let text = first.text;
  for (let used = 0; ; used++) {
    try {
      return { entry: { ...parseMountinfoLine(text, first.no, file), line: first.no }, used };
    } catch (e) {
      if (!(e instanceof MountinfoParseError)) throw e;
      // A remark after a complete line (annotations.ts): the line without it.
      const split = e.reason.startsWith('unexpected text after the super options')
        ? splitAnnotation(text, e.column)
        : undefined;
      if (split) {
        try {
          const entry = { ...parseMountinfoLine(split.line, first.no, file), line: first.no };
          return { entry, used, remark: split.remark };
        } catch (x) {
          if (!(x instanceof MountinfoParseError)) throw x;
        }
      }
      const next = lines[i + used + 1];
      const canJoin = ENDS_EARLY.test(e.reason) && next !== undefined && next.kind === 'prose' && used < 8;
      if (!canJoin) {
        const at = locate(pieces, e.column);
        const wrapped =
          pieces.length > 1
            ? ` (a mountinfo line wrapped over lines ${first.no}-${pieces[pieces.length - 1]!.line.no})`
            : '';
        const todo = ENDS_EARLY.test(e.reason)
          ? 'complete the line: a mountinfo line ends with three fields after " - " (fstype, source, super options)'
          : 'fix the field, or remove the line if it is not part of the table';
        fail(file, at.line, at.col, `${e.reason}${wrapped}`, todo);
      }
      // One space, as a mail client wraps at a space; without one only when
      // that is what reads (a cut inside a field) and the spaced text cannot.
      const spaced = `${text} ${next!.text}`;
      const tight = text + next!.text;
      const state = (s: string): 'full' | 'early' | 'bad' => {
        try {
          parseMountinfoLine(s, first.no, file);
          return 'full';
        } catch (x) {
          if (x instanceof MountinfoParseError && ENDS_EARLY.test(x.reason)) return 'early';
          return 'bad';
        }
      };
      const more = lines[i + used + 2]?.kind === 'prose';
      const t = state(tight);
      const useSpace = state(spaced) !== 'bad' || !(t === 'full' || (t === 'early' && more));
      text = useSpace ? spaced : tight;
      pieces.push({ line: next!, at: text.length - next!.text.length });
    }
  }
}

/** Maps a column of the joined line back to a physical line and column. */
function locate(pieces: { line: Line; at: number }[], column: number): { line: number; col: number } {
  let p = pieces[0]!;
  for (const q of pieces) if (column - 1 >= q.at) p = q;
  return { line: p.line.no, col: p.line.offset + (column - p.at) };
}

function fail(file: string, line: number, col: number, what: string, todo: string): never {
  throw new BadInputError([{ file, line, col: Math.max(1, col), path: '', message: `${what}; ${todo}` }]);
}
