import { strict as assert } from 'node:assert';
import { parseScenario } from './load.js';
import { nestedQuantifier } from './semantics.js';
import { BadInputError } from '../errors.js';

describe('expectation patterns', () => {
  it('flag a repeated group that itself repeats, the shape of catastrophic backtracking', () => {
    for (const p of ['(a+)+$', '(.*)*', '(x(y+))*', '(?:\\d+){2,}', '(a*b*)+c']) assert.equal(nestedQuantifier(p), true, p);
    for (const p of ["Can't mount .* at", '(foo|bar)+', '[(+]+', '\\(a+\\)+', '(a+)?', 'mnt: (\\d+):\\./sys', "doesn't have a proper root mount"]) assert.equal(nestedQuantifier(p), false, p);
  });

  it('such a pattern is refused before anything runs, at its place in the file', () => {
    const doc = 'name: n\ndescription: d\nsteps: [{mkdir: /w}]\nexpect:\n  known-bug:\n    url: u\n    reason: "(.*mount.*)+"\n';
    assert.throws(() => parseScenario(doc, 'x.yaml'), (e: unknown) => {
      assert.ok(e instanceof BadInputError);
      assert.match(e.message, /^x\.yaml:7:\d+: a repeated group that itself repeats/);
      return true;
    });
  });
});
