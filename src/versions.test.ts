import { strict as assert } from 'node:assert';
import { inRange, parseVersion } from './versions.js';

describe('version ranges', () => {
  it('reads distro kernel releases by their numeric head', () => {
    assert.deepEqual(parseVersion('6.12.107+deb13-amd64'), [6, 12, 107]);
    assert.equal(parseVersion('?'), undefined);
  });
  const cases: [string, string, boolean][] = [
    ['6.12.107+deb13-amd64', '>=5.15', true],
    ['6.1.0-30-amd64', '>=6.1 <6.13', true],
    ['6.13', '>=6.1 <6.13', false],
    ['4.1.1', '>=4.1.1', true],
    ['4.1', '>4.1', false],
    ['3.17.1', '=3.17.1', true],
    ['3.17', '=3.17.0', true],
    ['?', '>=1', false],
  ];
  for (const [v, r, want] of cases)
    it(`${v} ${want ? 'is' : 'is not'} in "${r}"`, () => assert.equal(inRange(v, r), want));
});
