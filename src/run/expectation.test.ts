import { strict as assert } from 'node:assert';
import type { TargetFacts } from '../target/target.js';
import { applyKnownBug, type Expectation } from './expectation.js';

const facts: TargetFacts = { target: 'vm', kernel: '6.12.107+deb13-amd64', criu: '4.1.1', criuCheck: 'ok', utilLinux: '2.41', readyMs: 0 };
const bug: Expectation = { kind: 'known-bug', url: 'https://example.org/bug/1', reason: /cr_link/, criu: '<=4.1.1' };

describe('known-bug expectations', () => {
  it('a matching failure is xfail', () => {
    const v = applyKnownBug(bug, facts, { outcome: 'fail', reason: 'fd 20 now /w/a.cr_link', sentences: [] });
    assert.equal(v.outcome, 'xfail');
  });
  it('a pass is xpass, telling the user to update the expectation', () => {
    const v = applyKnownBug(bug, facts, { outcome: 'pass', reason: 'identical', sentences: [] });
    assert.equal(v.outcome, 'xpass');
    assert.match(v.reason, /update the expectation/);
  });
  it('another failure keeps its verdict and says it is not the known bug', () => {
    const v = applyKnownBug(bug, facts, { outcome: 'error', reason: 'criu dump crashed', sentences: [] });
    assert.equal(v.outcome, 'error');
    assert.match(v.reason, /not the known bug/);
  });
  it('outside the version range the scenario is expected identical', () => {
    const v = applyKnownBug(bug, { ...facts, criu: '4.2' }, { outcome: 'fail', reason: 'fd 20 now /w/a.cr_link', sentences: [] });
    assert.equal(v.outcome, 'fail');
  });
  it('matches any difference sentence, not only the first', () => {
    const v = applyKnownBug(bug, facts, { outcome: 'fail', reason: 'flags changed', sentences: ['flags changed', 'path is /w/a.cr_link'] });
    assert.equal(v.outcome, 'xfail');
  });
});
