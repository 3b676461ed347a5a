import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { thrown } from '../../test/thrown.js';
import { isAnnotation, splitAnnotation } from './annotations.js';
import { parsePaste } from './parse-paste.js';

describe('import: annotations', () => {
  it('takes arrows, #, //, parentheses and brackets after a blank for remarks; words are not', () => {
    for (const r of ['<===', '<-- this one', '# comment', '(this one)', '// here', '[bad]', '\u00e2\u0086\u0090 here'])
      assert.ok(isAnnotation(r), r);
    for (const r of ['this one', '42', 'rw', '-']) assert.ok(!isAnnotation(r), r);
    assert.deepEqual(splitAnnotation('a - tmpfs t rw <==', 16), { line: 'a - tmpfs t rw', remark: '<==' });
    assert.equal(splitAnnotation('a - tmpfs t rw,<==', 16), undefined);
  });

  it('what is not clearly a remark is still refused where it is', () => {
    const e = thrown(() => parsePaste('1 0 0:1 / / rw - tmpfs t rw this one\n', 'f'), BadInputError);
    assert.match(e.message, /^f:1:29: unexpected text after the super options: "this"/);
  });
});
