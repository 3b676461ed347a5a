/**
 * Parser for /proc/PID/mountinfo, as the kernel prints it in
 * fs/proc_namespace.c:show_mountinfo():
 *
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)       (11)
 *
 * Encoding: the kernel prints path bytes verbatim except for the four it
 * escapes (space, tab, newline, backslash as \040 \011 \012 \134), so a
 * mountinfo file is bytes, not UTF-8. Callers must decode it as latin1: every
 * byte becomes one UTF-16 code unit 0..255, nothing is lost, and an octal
 * escape decodes to the same code unit the raw byte would have. Get the
 * original bytes back with Buffer.from(s, 'latin1').
 */

export interface MountEntry {
  /** 1-based line in the source text (of the whole capture file when parsed from one). */
  line: number;
  mountId: number;
  parentId: number;
  major: number;
  minor: number;
  /** The directory of the filesystem that forms this mount's root; unescaped. */
  root: string;
  /** Where it is mounted, relative to the reading task's root; unescaped. */
  mountPoint: string;
  /** Per-mount options, e.g. ['rw','nosuid','relatime']. */
  mountOptions: string[];
  shared?: number;
  master?: number;
  propagateFrom?: number;
  unbindable: boolean;
  /**
   * Optional fields this parser does not know (a future kernel's), verbatim
   * and in order. Kept so nothing is lost on a round trip; never compared,
   * because a new field may well carry ids that renumber.
   */
  extraFields?: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

export class MountinfoParseError extends Error {
  constructor(
    readonly reason: string,
    readonly file: string | undefined,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${file ?? '<mountinfo>'}:${line}:${column}: ${reason}`);
    this.name = 'MountinfoParseError';
  }
}

/** Decodes the kernel's octal escapes (\ooo); any other backslash stays as it is. */
export function unescapeMountinfo(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\([0-3][0-7]{2})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Escapes what the kernel escapes in paths, fstype and source (its
 * mangle()/seq_escape set " \t\n\\"), plus `extra` (a comma for one super
 * option, which seq_show_option() escapes so options can be split on commas).
 */
export function escapeMountinfo(s: string, extra = ''): string {
  let out = '';
  for (const ch of s) {
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\\' || extra?.includes(ch)) {
      out += `\\${ch.charCodeAt(0).toString(8).padStart(3, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

export interface Token {
  text: string;
  /** 1-based column of the token's first character. */
  col: number;
}

/**
 * Splits on single spaces only. The kernel separates fields with exactly one
 * space and escapes spaces inside fields, so two spaces in a row mean an
 * empty field (a mount made with source "" prints as nothing), which
 * splitting on runs of blanks would silently swallow.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text[i] === ' ') {
      tokens.push({ text: text.slice(start, i), col: start + 1 });
      start = i + 1;
    }
  }
  return tokens;
}

const DECIMAL = /^\d+$/;

/** Parses one non-blank mountinfo line; `line` is its 1-based number for errors and for MountEntry.line. */
export function parseMountinfoLine(text: string, line: number, file?: string): MountEntry {
  const tokens = tokenize(text);
  const fail = (reason: string, col: number): never => {
    throw new MountinfoParseError(reason, file, line, col);
  };
  const endCol = text.length + 1;
  const need = (i: number, what: string): Token => {
    const t = tokens[i];
    if (t === undefined) fail(`line ends early: expected ${what}`, endCol);
    return t!;
  };
  const number = (i: number, what: string): number => {
    const t = need(i, what);
    if (!DECIMAL.test(t.text)) fail(`expected ${what} (a decimal number), found ${show(t.text)}`, t.col);
    const n = Number(t.text);
    if (!Number.isSafeInteger(n)) fail(`${what} ${t.text} is too large`, t.col);
    return n;
  };

  const mountId = number(0, 'the mount ID');
  const parentId = number(1, 'the parent mount ID');
  const dev = need(2, 'major:minor');
  const mm = /^(\d+):(\d+)$/.exec(dev.text);
  if (!mm) fail(`expected major:minor (two decimal numbers), found ${show(dev.text)}`, dev.col);
  const root = need(3, 'the mount root');
  const mountPoint = need(4, 'the mount point');
  const opts = need(5, 'the mount options');

  const entry: MountEntry = {
    line,
    mountId,
    parentId,
    major: Number(mm![1]),
    minor: Number(mm![2]),
    root: unescapeMountinfo(root.text),
    mountPoint: unescapeMountinfo(mountPoint.text),
    mountOptions: splitOptions(opts.text),
    unbindable: false,
    fsType: '',
    source: '',
    superOptions: [],
  };

  let i = 6;
  for (; ; i++) {
    const t = tokens[i];
    if (t === undefined) fail("missing the separator ' - ' that ends the optional fields", endCol);
    if (t!.text === '-') break;
    optionalField(entry, t!, fail);
  }
  const fsType = need(i + 1, "the filesystem type after ' - '");
  const source = need(i + 2, 'the mount source');
  const superOpts = need(i + 3, 'the super options');
  const extra = tokens[i + 4];
  if (extra !== undefined) fail(`unexpected text after the super options: ${show(extra.text)}`, extra.col);
  entry.fsType = unescapeMountinfo(fsType.text);
  entry.source = unescapeMountinfo(source.text);
  entry.superOptions = splitOptions(superOpts.text);
  return entry;
}

function optionalField(entry: MountEntry, t: Token, fail: (reason: string, col: number) => never): void {
  if (t.text === 'unbindable') {
    entry.unbindable = true;
    return;
  }
  const m = /^(shared|master|propagate_from):(.*)$/.exec(t.text);
  if (!m) {
    // Unknown to us, so kept verbatim; see MountEntry.extraFields.
    (entry.extraFields ??= []).push(t.text);
    return;
  }
  const [, tag, value] = m as unknown as [string, 'shared' | 'master' | 'propagate_from', string];
  if (!DECIMAL.test(value) || !Number.isSafeInteger(Number(value))) {
    fail(`expected ${tag}:N with N a peer group ID (a decimal number), found ${show(t.text)}`, t.col);
  }
  const key = tag === 'propagate_from' ? 'propagateFrom' : tag;
  if (entry[key] !== undefined) fail(`optional field ${tag} appears twice`, t.col);
  entry[key] = Number(value);
}

/** Splits on commas first, then unescapes each option, so an escaped comma (\054) stays inside its option. */
function splitOptions(s: string): string[] {
  if (s === '') return [];
  return s.split(',').map(unescapeMountinfo);
}

function show(s: string): string {
  return s === '' ? 'an empty field' : JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

const BLANK = /^[ \t\r]*$/;

/**
 * Parses a whole mountinfo file (decoded as latin1, see the top of this
 * file). Blank lines, including the trailing one, are skipped.
 * Throws MountinfoParseError naming file:line:col and what was expected.
 */
export function parseMountinfo(text: string, file?: string): MountEntry[] {
  const out: MountEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (BLANK.test(l)) continue;
    out.push(parseMountinfoLine(l, i + 1, file));
  }
  return out;
}

/** Prints an entry the way the kernel does; parseMountinfoLine() reads it back to an equal entry (but for `line`). */
export function formatMountinfoLine(e: MountEntry): string {
  const optional: string[] = [];
  if (e.shared !== undefined) optional.push(`shared:${e.shared}`);
  if (e.master !== undefined) optional.push(`master:${e.master}`);
  if (e.propagateFrom !== undefined) optional.push(`propagate_from:${e.propagateFrom}`);
  if (e.unbindable) optional.push('unbindable');
  if (e.extraFields) optional.push(...e.extraFields);
  return [
    e.mountId,
    e.parentId,
    `${e.major}:${e.minor}`,
    escapeMountinfo(e.root),
    escapeMountinfo(e.mountPoint),
    e.mountOptions.map((o) => escapeMountinfo(o, ',')).join(','),
    ...optional,
    '-',
    escapeMountinfo(e.fsType),
    escapeMountinfo(e.source),
    e.superOptions.map((o) => escapeMountinfo(o, ',')).join(','),
  ].join(' ');
}
