/**
 * `mountlab compare BEFORE AFTER`: compares two captures outside any run.
 *
 * Each input is a plain mountinfo file (one task, `init`) or a multi-task
 * capture in the lab's own format (capture/capture-file.ts), so a mountinfo
 * pasted into a bug report can be checked against one's own. '-' reads one
 * of them from stdin.
 *
 * Exit codes: 0 equivalent, 1 different (the explanations printed), 2 when
 * an input cannot be read or parsed (a file:line:col message on stderr).
 *
 * Text output: one sentence per difference, in the comparator's order
 * (task-level ones first, then by mount, so sentences about one mount are
 * together), then `note:` lines for ignored super options and input
 * oddities, then a last line: `equivalent` or `N differences`.
 * With --json: one object {equivalent, differences, filtered, notes}.
 */
import { readFile, stat } from 'node:fs/promises';
import { parseCapture, type Capture } from '../capture/capture-file.js';
import { MountinfoParseError } from '../capture/mountinfo.js';
import { compareCaptures, type Comparison } from '../compare/compare.js';
import { displayPath, displayProse, listText, plural } from '../compare/text.js';

export interface CompareCommandOptions {
  json?: boolean;
  /** Where results go; process.stdout by default. */
  out?: NodeJS.WritableStream;
  /** Where errors go; process.stderr by default. */
  err?: NodeJS.WritableStream;
  /** What '-' reads; process.stdin by default. */
  stdin?: NodeJS.ReadableStream;
}

const STDIN = '-';

/**
 * A namespace's mountinfo at fs.mount-max (100,000 mounts) is a few MB;
 * more is not a capture, and would be read whole into memory before any
 * line is looked at (a bigger one than 512 MiB did not even fit a string).
 */
export const MAX_CAPTURE_BYTES = 16 << 20;

export async function compareCommand(before: string, after: string, opts: CompareCommandOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  if (before === STDIN && after === STDIN) {
    await write(err, "mountlab compare: only one of BEFORE and AFTER can be '-' (stdin)\n");
    return 2;
  }
  const captures: Capture[] = [];
  for (const file of [before, after]) {
    const name = file === STDIN ? '<stdin>' : file;
    let text: string;
    try {
      if (file !== STDIN && (await stat(file)).size > MAX_CAPTURE_BYTES) throw new TooBig();
      text = file === STDIN ? await readAll(opts.stdin ?? process.stdin) : await readFile(file, 'latin1');
      if (text.length > MAX_CAPTURE_BYTES) throw new TooBig();
    } catch (e) {
      await write(err, `mountlab compare: cannot read ${displayPath(name)}: ${readError(e)}\n`);
      return 2;
    }
    try {
      captures.push(parseCapture(text, name));
    } catch (e) {
      if (!(e instanceof MountinfoParseError)) throw e;
      await write(err, `mountlab compare: ${displayProse(e.message)}\n${excerpt(text, e.line, e.column)}`);
      return 2;
    }
  }
  const c = compareCaptures(captures[0]!, captures[1]!);
  const { equivalent, differences, filtered, notes } = c;
  await write(out, opts.json ? `${JSON.stringify({ equivalent, differences, filtered, notes })}\n` : formatText(c));
  return c.equivalent ? 0 : 1;
}

/** The text report; see the top of this file. */
export function formatText(c: Comparison): string {
  const lines = c.differences.map((d) => d.sentence);
  for (const f of c.filtered) {
    const on = f.fsType ? ` on ${f.fsType}` : '';
    const hid = f.differed ? ' (its value differed)' : '';
    lines.push(`note: super option ${f.option}${on} not compared${hid} on ${listText(f.mounts)}: ${f.reason}`);
  }
  for (const n of c.notes) lines.push(`note: ${n}`);
  lines.push(c.equivalent ? 'equivalent' : plural(c.differences.length, 'difference'));
  return `${lines.join('\n')}\n`;
}

/** What of a long line is shown each side of the column. */
const EXCERPT_SIDE = 60;

/** The offending line with a caret under the column, as a compiler shows it; a long line is cut around the column. */
function excerpt(text: string, line: number, column: number): string {
  const start = line === 1 ? 0 : nthNewline(text, line - 1) + 1;
  if (start === 0 && line !== 1) return '';
  const end = text.indexOf('\n', start);
  let src = text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '');
  let pre = '';
  let post = '';
  if (src.length > 2 * EXCERPT_SIDE) {
    const from = Math.max(0, column - 1 - EXCERPT_SIDE);
    const to = Math.min(src.length, column - 1 + EXCERPT_SIDE);
    if (from > 0) pre = '…';
    if (to < src.length) post = '…';
    src = src.slice(from, to);
    column -= from;
  }
  // One rule for the whole line, so the caret stays under its character:
  // UTF-8 shown as text when the whole line is valid UTF-8, other bytes and
  // control characters as the kernel's octal escapes.
  const bytes = Buffer.from(src, 'latin1');
  const utf8 = Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
  const octal = (ch: string) => `\\${ch.charCodeAt(0).toString(8).padStart(3, '0')}`;
  const show = (s: string) =>
    (utf8 ? Buffer.from(s, 'latin1').toString('utf8') : s.replace(/[\x80-\xff]/g, octal)).replace(
      /[\x00-\x1f\x7f]/g,
      octal,
    );
  const gutter = String(line);
  const caretIndent = ' '.repeat(pre.length + show(src.slice(0, column - 1)).length);
  return `  ${gutter} | ${pre}${show(src)}${post}\n  ${' '.repeat(gutter.length)} | ${caretIndent}^\n`;
}

class TooBig extends Error {}

/** The index of the nth newline (1-based), or -1; without splitting a 16 MiB text into lines. */
function nthNewline(text: string, n: number): number {
  let i = -1;
  for (let k = 0; k < n; k++) {
    i = text.indexOf('\n', i + 1);
    if (i < 0) return -1;
  }
  return i;
}

function readError(e: unknown): string {
  if (e instanceof TooBig) return `larger than ${MAX_CAPTURE_BYTES >> 20} MiB, more than any mountinfo or capture`;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

async function readAll(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of s) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    size += b.length;
    // Stop reading an endless stdin at the limit; what was read says it is too big.
    if (size > MAX_CAPTURE_BYTES) throw new TooBig();
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('latin1');
}

/** Resolves once the stream has taken the text, so a caller may exit right after. */
function write(s: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.write(text, (e?: Error | null) => (e ? reject(e) : resolve()));
  });
}
