import { strict as assert } from 'node:assert';
import { displayPath, listText } from './labels.js';

describe('labels', () => {
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

  it('joins lists in English and cuts long ones', () => {
    assert.equal(listText(['/a']), '/a');
    assert.equal(listText(['/a', '/b']), '/a and /b');
    assert.equal(listText(['/a', '/b', '/c']), '/a, /b and /c');
    assert.equal(listText(['1', '2', '3', '4', '5'], 3), '1, 2 and 3 more');
  });
});
