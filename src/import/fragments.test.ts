import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { thrown } from '../../test/thrown.js';
import { fitTogether, isCutMark } from './fragments.js';
import { parsePaste } from './parse-paste.js';

const M = (id: number, parent: number, mp: string) => `${id} ${parent} 0:${id} / ${mp} rw - tmpfs t rw`;

describe('import: fragments', () => {
  it('knows cut marks', () => {
    for (const c of ['...', '[...]', '\u00e2\u0080\u00a6', '[snip]', '<snip>', '[ 40 lines snipped ]', '-- 8< --'])
      assert.ok(isCutMark(c), c);
    for (const c of ['and then', '. . x', '[1]']) assert.ok(!isCutMark(c), c);
  });

  it('fragments fit when their ids are distinct and parents link them all', () => {
    const f = (first: number, ...ids: [number, number][]) => ({
      first,
      last: first,
      mounts: ids.map(([id, parent]) => ({ mountId: id, parentId: parent, line: first }) as never),
    });
    assert.deepEqual(fitTogether([f(1, [663, 627]), f(5, [623, 1], [627, 623])]), { fit: true });
    assert.equal(fitTogether([f(1, [663, 627]), f(5, [623, 1])]).fit, false);
    assert.equal(fitTogether([f(1, [663, 627]), f(5, [663, 627], [627, 1])]).fit, false);
  });

  it('fragments that do not fit are still separate pastes, refused with why and --pick', () => {
    const text = ['first:', M(10, 1, '/'), M(11, 10, '/a'), 'second:', M(20, 2, '/'), M(21, 20, '/b')].join('\n');
    const e = thrown(() => parsePaste(text, 'f'), BadInputError);
    assert.match(
      e.message,
      /^f:5:1: the text holds 2 separate pastes: .*\(not fragments of one table: no parent id links/,
    );
    assert.match(e.message, /choose one with --pick N/);
  });
});
