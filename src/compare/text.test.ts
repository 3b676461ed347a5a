import { strict as assert } from 'node:assert';
import { parseCapture } from '../capture/capture-file.js';
import { compareCaptures } from './compare.js';
import { changeText, displayPath, listText } from './text.js';

const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('text for sentences', () => {
  it('shows latin1-decoded UTF-8 bytes as the characters they encode', () => {
    assert.equal(displayPath(Buffer.from('/srv/café', 'utf8').toString('latin1')), '/srv/café');
  });

  it('shows bytes that are not UTF-8, and control characters, as octal escapes', () => {
    assert.equal(displayPath('/x\xff\xfe'), '/x\\377\\376');
    assert.equal(displayPath('/a\nb\tc'), '/a\\012b\\011c');
  });

  it('leaves text that was already decoded as UTF-8 alone', () => {
    assert.equal(displayPath('/srv/café/日本'), '/srv/café/日本');
  });

  describe('different bytes never print alike (issue 16.6)', () => {
    const NFC = bytes('/café'.normalize('NFC'));
    const NFD = bytes('/café'.normalize('NFD'));
    const alike: [string, string, string][] = [
      ['café in NFC and in NFD', NFC, NFD],
      ['byte 0xff and a literal \\377', '/a\xff', '/a\\377'],
      ['a trailing space', '/x', '/x '],
      ['a leading space', 'src', ' src'],
      ['a U+202E (right-to-left override) and none', bytes('/a\u202eb'), '/ab'],
      ['a zero-width space and none', bytes('/a\u200bb'), '/ab'],
      ['a no-break space and a space', bytes('/a\u00a0b'), '/a b'],
      ['a C1 control and none', bytes('/a\u0085b'), '/ab'],
      ['a literal \\u{202E} and the character', '/a\\u{202E}b', bytes('/a\u202eb')],
    ];
    for (const [what, x, y] of alike) {
      it(`class: ${what}`, () => {
        assert.notEqual(displayPath(x), displayPath(y));
        assert.ok(
          !/[\u2066-\u2069\u202a-\u202e\u200b-\u200f\u0080-\u009f\u00a0]/u.test(displayPath(x) + displayPath(y)),
        );
      });
    }

    it('escapes: NFD combining marks, bidi and format characters, ends of spaces, bad bytes, backslashes', () => {
      assert.equal(displayPath(bytes('/café'.normalize('NFC'))), '/café');
      assert.equal(displayPath(bytes('/café'.normalize('NFD'))), '/cafe\\u{301}');
      assert.equal(displayPath(bytes('/a\u202eb')), '/a\\u{202E}b');
      assert.equal(displayPath('/x  '), '/x\\040\\040');
      assert.equal(displayPath('/a b'), '/a b');
      assert.equal(displayPath('/a\\377'), '/a\\\\377');
      assert.equal(displayPath('\xe2\x80'), '\\342\\200');
    });

    it('says how two sides that read alike differ', () => {
      assert.equal(
        changeText(NFC, NFD),
        '/café -> /cafe\\u{301} ' +
          '(the same text in another Unicode normalisation; they differ at character 5: U+00E9 -> U+0065)',
      );
      assert.equal(
        changeText('/a\xff', '/a\\377'),
        '/a\\377 -> /a\\\\377 (they differ at character 3: byte 0xff -> U+005C)',
      );
      assert.equal(changeText('/x', '/x '), '/x -> /x\\040 (they differ at character 3: the end -> U+0020)');
      assert.equal(changeText(bytes('/а'), '/a'), '/а -> /a (they differ at character 2: U+0430 -> U+0061)');
      assert.equal(changeText('/tmp', '/tmpx'), '/tmp -> /tmpx');
    });

    it('a mountpoint that gained a trailing space is a sentence that shows it', () => {
      const cap = (mp: string) => parseCapture(`1 0 0:40 / / rw - tmpfs root rw\n2 1 0:41 / ${mp} rw - tmpfs a rw\n`);
      const c = compareCaptures(cap('/x'), cap('/x\\040'));
      assert.deepEqual(
        c.differences.map((d) => d.sentence),
        ['/x: mountpoint changed: /x -> /x\\040 (they differ at character 3: the end -> U+0020)'],
      );
    });
  });

  it('joins lists in English and cuts long ones', () => {
    assert.equal(listText(['/a']), '/a');
    assert.equal(listText(['/a', '/b']), '/a and /b');
    assert.equal(listText(['/a', '/b', '/c']), '/a, /b and /c');
    assert.equal(listText(['1', '2', '3', '4', '5'], 3), '1, 2 and 3 more');
  });
});
