/**
 * The first error in a `make` log, the line a developer looks for first:
 * gcc's or the linker's `file:line:col: error: ...` (with the source line
 * and caret gcc prints under it), else a `fatal error:`, an undefined
 * reference, protoc's complaint, or make's own `*** ... Error N` as a last
 * resort. Later errors are usually consequences of the first.
 */
export function firstCompilerError(log: string): string | undefined {
  const lines = log.split('\n');
  const patterns = [
    /^\S[^:\n]*:\d+:(?:\d+:)? (?:fatal )?error: /,
    /^\S[^:\n]*:\d+:(?:\d+:)? undefined reference to /,
    /undefined reference to |^collect2: error:|^\S+: error: /,
    /^\S[^:\n]*:\d+:\d+: .*(?:is not defined|Expected|not found)/,
    /^make(?:\[\d+\])?: \*\*\* .*Error \d+/,
    /^make(?:\[\d+\])?: \*\*\* /,
  ];
  for (const re of patterns) {
    const i = lines.findIndex((l) => re.test(l));
    if (i < 0) continue;
    const out = [lines[i]!];
    // gcc's context: the quoted source line and the caret line below it.
    for (const l of lines.slice(i + 1, i + 3)) {
      if (/^\s+\d*\s*\|/.test(l)) out.push(l);
      else break;
    }
    return out.join('\n');
  }
  return undefined;
}
