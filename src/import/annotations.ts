/**
 * What people write after a mountinfo line to point at it: `<===`,
 * `<-- this one`, `# the bind`, `(this one)`, `// here`, `← here`.
 *
 * Super options are one field: the kernel escapes a blank inside one
 * (`\040`), so whatever follows them after a blank is not mountinfo. Still,
 * only text that opens like a remark is taken for one: an arrow, `#`, `//`,
 * a parenthesis or bracket, `^`, `*`, `!`. Anything else after the super
 * options (a word, a number) is refused as it was, since it may be a second
 * line run into the first.
 */

/** How a remark opens; tested on the text as UTF-8 (the paste is bytes, read as latin1). */
const REMARK = /^(?:<[-=~<]*|[-=~]+>|←|⟵|⇐|👈|#|\/\/|\(|\[|\^|\*|!|;)/u;

/** Text as UTF-8 when its bytes are UTF-8 (arrows such as ← are), else as it is. */
export function asText(s: string): string {
  if (/[^\u0000-\u00ff]/.test(s)) return s;
  const u = Buffer.from(s, 'latin1').toString('utf8');
  return u.includes('\ufffd') ? s : u;
}

/** Whether `rest`, the text after the super options and a blank, is a remark about the line. */
export function isAnnotation(rest: string): boolean {
  return REMARK.test(asText(rest.trimStart()));
}

/**
 * Splits a complete line from its remark: `text` is the line, `col` the
 * 1-based column where the parser found text after the super options.
 * Undefined when that text is not a remark, or no blank precedes it.
 */
export function splitAnnotation(text: string, col: number): { line: string; remark: string } | undefined {
  const at = col - 1;
  if (at <= 0 || at >= text.length || !/[ \t]/.test(text[at - 1]!)) return undefined;
  const rest = text.slice(at);
  if (!isAnnotation(rest)) return undefined;
  return { line: text.slice(0, at).trimEnd(), remark: rest.trim() };
}

/** The sentence for the summary and the scenario's header. */
export function describeAnnotations(lines: number[], remarks: string[]): string {
  const shown = remarks.slice(0, 3).map((r) => JSON.stringify(asText(r)));
  const more = remarks.length > 3 ? `, ...` : '';
  const one = lines.length === 1;
  return (
    `${one ? 'line' : 'lines'} ${lines.join(', ')} carried ${one ? 'a remark' : 'remarks'} ` +
    `after the super options (${shown.join(', ')}${more}), which ${one ? 'was' : 'were'} ignored`
  );
}
