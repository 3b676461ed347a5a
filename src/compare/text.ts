/**
 * Text for sentences about mounts: latin1-decoded kernel strings shown so
 * a person can read them on one line (displayPath, changeText), lists and
 * counts in English (listText, plural), and an order of strings that is the
 * same everywhere (byText).
 */

/**
 * Shows a path (a latin1-decoded byte string, see capture/mountinfo.ts) in
 * a one-line sentence, readable and reversible: two different byte strings
 * never show alike. Valid UTF-8 reads as itself ("café"); the rest is
 * escaped:
 *
 *   \\        a backslash (so a literal "\377" in a name shows as \\377)
 *   \ooo      a byte that is an ASCII control or not part of valid UTF-8
 *   \u{XXXX}  a character that would not show, or would show as something
 *             else: C1 controls, format characters (the bidi overrides such
 *             as U+202E, which reorder the rest of a terminal line;
 *             zero-width ones), line and paragraph separators, spaces other
 *             than U+0020, private-use and unassigned code points, and the
 *             combining marks of a name that is not in NFC (NFD "café"
 *             shows as cafe\u{301}, NFC as café)
 *   \040      a space at either end, which would otherwise be invisible
 */
export function displayPath(s: string): string {
  return display(s, false);
}

/** displayPath() for a message that quotes escapes itself (a parse error's "\\ooo"): its backslashes stay single. */
export function displayProse(s: string): string {
  return display(s, true);
}

function display(s: string, prose: boolean): string {
  // A character above 0xff means the caller decoded as UTF-8 already: the
  // text is characters, not bytes.
  const decode = (m: string) =>
    m.length === 1 && m >= '\x80' ? BAD_BYTE + m : Buffer.from(m, 'latin1').toString('utf8');
  const chars = /[^\x00-\xff]/.test(s) ? s : s.replace(UTF8_OR_BYTE, decode);
  const nfc = chars.normalize('NFC') === chars;
  let out = '';
  let badByte = false;
  for (const ch of chars) {
    if (ch === BAD_BYTE) {
      badByte = true;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (badByte) out += octal(ch);
    else if (ch === '\\' && !prose) out += '\\\\';
    else if (cp < 0x20 || cp === 0x7f) out += octal(ch);
    else if (HIDDEN.test(ch) || (!nfc && (/\p{M}/u.test(ch) || ch.normalize('NFC') !== ch))) {
      out += `\\u{${cp.toString(16).toUpperCase()}}`;
    } else out += ch;
    badByte = false;
  }
  return out.replace(/^ +| +$/g, (sp) => '\\040'.repeat(sp.length));
}

/** A valid UTF-8 sequence, or any one byte. */
const UTF8_OR_BYTE = new RegExp(
  [
    /[\xc2-\xdf][\x80-\xbf]/,
    /\xe0[\xa0-\xbf][\x80-\xbf]/, // not overlong
    /[\xe1-\xec\xee\xef][\x80-\xbf]{2}/,
    /\xed[\x80-\x9f][\x80-\xbf]/, // not a UTF-16 surrogate
    /\xf0[\x90-\xbf][\x80-\xbf]{2}/, // not overlong
    /[\xf1-\xf3][\x80-\xbf]{3}/,
    /\xf4[\x80-\x8f][\x80-\xbf]{2}/, // not past U+10FFFF
    /[\x00-\xff]/,
  ]
    .map((r) => r.source)
    .join('|'),
  'g',
);
/** Marks the next character as a raw byte (U+FFFF is a noncharacter: no decoded text holds it, as it is escaped). */
const BAD_BYTE = '\uffff';
/** Characters that do not show as themselves; see displayPath(). */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]|(?! )\p{Zs}/u;

function octal(ch: string): string {
  return `\\${ch.charCodeAt(0).toString(8).padStart(3, '0')}`;
}

/**
 * "x -> y" for a changed path; when the two read alike (the same text in
 * another normalisation, look-alike characters), says where they differ.
 */
export function changeText(before: string, after: string): string {
  const b = displayPath(before);
  const a = displayPath(after);
  const text = `${b || '(empty)'} -> ${a || '(empty)'}`;
  if (before === after) return text;
  const cb = units(before);
  const ca = units(after);
  let i = 0;
  while (i < cb.length && i < ca.length && cb[i] === ca[i]) i++;
  const at = (u: string | undefined) => {
    if (u === undefined) return 'the end';
    if (u.startsWith(BAD_BYTE)) return `byte 0x${u.charCodeAt(1).toString(16)}`;
    return `U+${u.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  };
  const plain = (u: string | undefined) => u === undefined || /^[\x21-\x7e]$/.test(u);
  if (plain(cb[i]) && plain(ca[i])) return text;
  const nfc = (us: string[]) => us.join('').normalize('NFC');
  const same = nfc(cb) === nfc(ca) ? 'the same text in another Unicode normalisation; ' : '';
  return `${text} (${same}they differ at character ${i + 1}: ${at(cb[i])} -> ${at(ca[i])})`;
}

/** The characters of a byte string, a byte that is not UTF-8 as BAD_BYTE and the byte. */
function units(s: string): string[] {
  if (/[^\x00-\xff]/.test(s)) return [...s];
  return [...s.matchAll(UTF8_OR_BYTE)].map(([m]) => {
    if (m.length > 1) return Buffer.from(m, 'latin1').toString('utf8');
    return m >= '\x80' ? BAD_BYTE + m : m;
  });
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
