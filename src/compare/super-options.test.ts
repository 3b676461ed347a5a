import { strict as assert } from 'node:assert';
import { parseCapture } from '../capture/capture-file.js';
import { compareCaptures } from './compare.js';
import { canonicalSuperOptions, sequenceOptions } from './super-options.js';

const overlay = (opts: string) => `1 0 0:40 / / rw - tmpfs root rw\n2 1 0:41 / /o rw - overlay overlay rw,${opts}\n`;
const compare = (b: string, a: string) => compareCaptures(parseCapture(b), parseCapture(a));

describe('super options as a sequence (issue 16.4)', () => {
  it("class: overlay's repeated lowerdir+= in another order is a difference that shows both orders", () => {
    const c = compare(
      overlay('lowerdir+=/l1,lowerdir+=/l2,upperdir=/u,workdir=/w'),
      overlay('lowerdir+=/l2,lowerdir+=/l1,upperdir=/u,workdir=/w'),
    );
    assert.deepEqual(
      c.differences.map((d) => [d.kind, d.sentence]),
      [
        [
          'super-options-changed',
          '/o: super options changed: layer order lowerdir+=/l1,lowerdir+=/l2 -> lowerdir+=/l2,lowerdir+=/l1',
        ],
      ],
    );
  });

  it('class: datadir+= layers in another order, and a lower layer given twice, differ too', () => {
    assert.equal(
      compare(overlay('lowerdir+=/l,datadir+=/d1,datadir+=/d2'), overlay('lowerdir+=/l,datadir+=/d2,datadir+=/d1'))
        .equivalent,
      false,
    );
    assert.equal(
      compare(overlay('lowerdir+=/l1,lowerdir+=/l2'), overlay('lowerdir+=/l1,lowerdir+=/l2,lowerdir+=/l1')).equivalent,
      false,
    );
  });

  it('other super options, and lowerdir+= beside them, stay a set: reordering those is no difference', () => {
    assert.equal(
      compare(
        overlay('lowerdir+=/l1,lowerdir+=/l2,upperdir=/u,workdir=/w'),
        overlay('workdir=/w,lowerdir+=/l1,upperdir=/u,lowerdir+=/l2'),
      ).equivalent,
      true,
    );
    const tmpfs = (o: string) => `1 0 0:40 / / rw - tmpfs root rw\n2 1 0:41 / /t rw - tmpfs t ${o}\n`;
    assert.equal(compare(tmpfs('rw,size=1k,mode=755'), tmpfs('mode=755,rw,size=1k')).equivalent, true);
  });

  it('only overlay has sequences; the canonical form sorts the set and keeps the sequence', () => {
    assert.deepEqual(sequenceOptions('tmpfs', ['lowerdir+=/a']), []);
    assert.deepEqual(sequenceOptions('overlay', ['rw', 'lowerdir+=/b', 'lowerdir+=/a']), [
      'lowerdir+=/b',
      'lowerdir+=/a',
    ]);
    assert.deepEqual(canonicalSuperOptions('overlay', ['workdir=/w', 'lowerdir+=/b', 'rw', 'lowerdir+=/a']), [
      'rw',
      'workdir=/w',
      '\0',
      'lowerdir+=/b',
      'lowerdir+=/a',
    ]);
  });
});
