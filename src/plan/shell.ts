/**
 * Quote one word for POSIX sh. Single quotes make everything literal, so a
 * name like `$(reboot)` or a path with backticks reaches the guest as data.
 */
export function shq(word: string): string {
  if (word.includes('\0')) throw new Error('NUL byte cannot be passed to a shell');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shJoin(argv: readonly string[]): string {
  return argv.map(shq).join(' ');
}
