/**
 * The patterns a scenario gives for failures (`known-bug.reason`, the fail-expectations) run over
 * whole CRIU logs in the lab's own process. JavaScript's RegExp backtracks: `(\w|\d)+Q` took a
 * second on 26 characters and doubled with each one more, and no list of forbidden shapes
 * catches every such pattern. RE2 (re2js, a pure JS port) matches in time linear in the text
 * for any pattern; what it cannot do in linear time (backreferences, lookaround) it refuses, and
 * so does validate, at the pattern.
 */
import { RE2JS } from 're2js';

/** A compiled pattern: where it came from and whether a text holds a match, line anchors per line. */
export interface LogPattern {
  readonly source: string;
  test(text: string): boolean;
}

export type Compiled = { pattern: LogPattern } | { error: string };

export function compileLogPattern(source: string): Compiled {
  let re: RE2JS;
  try {
    // MULTILINE: ^ and $ anchor at each line of a log, as the lab's RegExp(…, 'm') did.
    re = RE2JS.compile(source, RE2JS.MULTILINE);
  } catch (e) {
    return { error: explain(source, e instanceof Error ? e.message : String(e)) };
  }
  return { pattern: { source, test: (text) => re.matcher(text).find() } };
}

/** Like compileLogPattern, for patterns that validate already accepted. */
export function logPattern(source: string): LogPattern {
  const c = compileLogPattern(source);
  if ('error' in c)
    throw new Error(`pattern ${JSON.stringify(source)} passed validation but does not compile: ${c.error}`);
  return c.pattern;
}

function explain(source: string, message: string): string {
  const why = message.replace(/^error parsing regexp: /, '');
  const engine = 'patterns run in a linear-time engine (RE2 syntax), which has no';
  if (/\\[1-9]/.test(source) || /\\k</.test(source))
    return `${engine} backreferences (\\1, \\k<name>): match the text itself instead (${why})`;
  if (/\(\?<?[=!]/.test(source))
    return `${engine} lookahead or lookbehind ((?=, (?!, (?<=, (?<!): match the text around it instead (${why})`;
  return `not a valid regular expression in RE2 syntax: ${why}`;
}
