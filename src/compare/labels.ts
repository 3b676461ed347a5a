/**
 * Turning latin1-decoded kernel strings into text a person can read in a
 * one-line sentence, and small English helpers for lists of mounts.
 */

/**
 * Shows a path (a latin1-decoded byte string, see capture/mountinfo.ts) as
 * UTF-8 when its bytes are valid UTF-8, so "café" reads as itself; bytes that
 * are not, and control characters that would break a one-line sentence,
 * appear as the kernel's octal escapes.
 */
export function displayPath(s: string): string {
  let text = s;
  // A character above 0xff means the caller decoded as UTF-8 already: the
  // text is characters, not bytes, and is shown as it is.
  if (/[\x80-\xff]/.test(s) && !/[^\x00-\xff]/.test(s)) {
    const utf8 = Buffer.from(s, 'latin1').toString('utf8');
    text = Buffer.from(utf8, 'utf8').toString('latin1') === s ? utf8 : s.replace(/[\x80-\xff]/g, octal);
  }
  return text.replace(/[\x00-\x1f\x7f]/g, octal);
}

function octal(ch: string): string {
  return '\\' + ch.charCodeAt(0).toString(8).padStart(3, '0');
}

/** "a", "a and b", "a, b and c"; long lists end in "and N more" so a sentence stays readable. */
export function listText(items: readonly string[], max = 8): string {
  if (items.length === 0) return '(none)';
  if (items.length > max) return `${items.slice(0, max - 1).join(', ')} and ${items.length - (max - 1)} more`;
  if (items.length === 1) return items[0]!;
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** "1 mount", "3 mounts". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Byte-wise order, the same on every machine and locale. */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
