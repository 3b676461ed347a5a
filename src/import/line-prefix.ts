/**
 * A prefix that every line of a paste carries, put there by whatever the
 * table went through before it was pasted: a log's timestamp
 * (`2024-01-02T03:04:05.123Z `, `[   12.345678] `, `Jan 02 03:04:05 host
 * lxc[123]: `), a CI step's time (podman's `[+1136s] # `), a log level
 * (`DEBUG `, `lxc 20240101... DEBUG conf - `), a markdown list marker
 * (`- `, `* `, `1. `), or line numbers.
 *
 * It is read from the lines themselves, not from a list of styles: the text
 * before the mount id pair of each mountinfo line (or table row) is its
 * prefix; when most of them are the same once their digits and blanks are
 * set aside, that is the paste's prefix, and it is stripped from every line
 * that carries it (headers, cut marks and wrapped pieces too). The digits
 * and the blanks may vary from line to line (a timestamp, a padded uptime);
 * nothing else may.
 */

/** Where a mountinfo line starts inside a longer line: the id pair, major:minor, a root, a mountpoint. */
const MOUNT_AT = /(?<=^|\s)\d+[ \t]+\d+[ \t]+\d+:\d+[ \t]+\S+[ \t]+\S/;
/** Where a table row (seed 001's form) starts inside a longer line. */
const ROW_AT = /(?<=^|\s)\d+[ \t]+\d+[ \t]+\/\S*[ \t]+\([ \t]*\d+[ \t]*,[ \t]*\d+[ \t]*\)/;

export interface LinePrefix {
  /** Matches the prefix at the start of a line, with the blanks after it. */
  pattern: RegExp;
  /** The first line's prefix, as pasted: for the note. */
  example: string;
  /** Whether every line's prefix is the same text (else they vary in their digits or blanks). */
  constant: boolean;
  /** Only digits and blanks: it may only be stripped where a mount line starts after it. */
  numeric: boolean;
}

/** Where the mount line inside `body` starts, or -1. */
export function mountStart(body: string): number {
  const m = MOUNT_AT.exec(body) ?? ROW_AT.exec(body);
  return m ? m.index : -1;
}

/** The shape of a prefix: its digits and blanks set aside. */
const shapeOf = (prefix: string) => prefix.replace(/\d+/g, '0').replace(/\s+/g, '');

/**
 * The prefix most mount lines share, or undefined: none carry one, or they
 * do not agree. `bodies` are the lines after quote markers and indentation.
 */
export function detectPrefix(bodies: string[]): LinePrefix | undefined {
  const prefixes: string[] = [];
  for (const b of bodies) {
    const at = mountStart(b);
    if (at >= 0) prefixes.push(b.slice(0, at));
  }
  if (prefixes.length < 2) return undefined;
  const byShape = new Map<string, string[]>();
  for (const p of prefixes) {
    const s = shapeOf(p);
    byShape.set(s, [...(byShape.get(s) ?? []), p]);
  }
  const [shape, same] = [...byShape.entries()].reduce((a, b) => (b[1].length > a[1].length ? b : a));
  // Most lines, and at least two, agree: one odd line is prose quoting a mount line, not a style.
  if (shape === '' || same.length < 2 || same.length * 2 <= prefixes.length) return undefined;
  const example = same[0]!;
  const source = example
    .trimEnd()
    .split(/(\d+|\s+)/)
    .filter(Boolean)
    .map((part) => {
      if (/^\d/.test(part)) return '\\d+';
      if (/^\s/.test(part)) return '\\s*';
      return part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    })
    .join('');
  return {
    pattern: new RegExp(`^${source}\\s*`),
    example,
    constant: same.every((p) => p === example),
    numeric: /^[\d\s]*$/.test(example),
  };
}

/**
 * How many characters of `body` the prefix takes, or 0 when it does not
 * carry it. A prefix of digits alone (line numbers) could eat a mount id,
 * so it is stripped only where a mount line starts right after it.
 */
export function prefixLength(prefix: LinePrefix, body: string): number {
  const m = prefix.pattern.exec(body);
  if (!m || m[0].length === 0) return 0;
  const at = mountStart(body);
  if (at >= 0) return at === m[0].length || (at > m[0].length && !prefix.numeric) ? m[0].length : 0;
  return prefix.numeric ? 0 : m[0].length;
}

/** The sentence the summary and the scenario's header carry. */
export function describePrefix(prefix: LinePrefix, lines: number): string {
  const how = prefix.constant ? '' : ' (its digits varying from line to line)';
  return (
    `${lines} ${lines === 1 ? 'line carried' : 'lines carried'} the prefix ${JSON.stringify(prefix.example)}` +
    `${how}, which is not part of mountinfo; it was stripped`
  );
}

/**
 * The shell command line that printed the table, prompt and all (`$ cat
 * /proc/self/mountinfo`, `root@host:~# cat /proc/1/mountinfo`, `$ podman
 * exec c1 cat /proc/self/mountinfo`): the prompt is on that line only, and
 * the line is not part of the table.
 */
const COMMAND = /(?:^|\s)(?:cat|less|more|head|tail|grep|awk|sed)\s.*mountinfo/;

export function isPromptCommand(body: string): boolean {
  return COMMAND.test(body);
}
