import { strict as assert } from 'node:assert';
import { parseFacts, targetFacts } from './guest-facts.js';

describe('guest facts', () => {
  it("reads labctl info's key=value lines", () => {
    const info = 'kernel=6.12.48+deb13-amd64\ncriu=4.1.1\ncriu_gitid=v4.1.1-3-gabc\nutil_linux=2.41\ncriu_check=ok\n';
    assert.deepEqual(parseFacts(info), {
      criuGitId: 'v4.1.1-3-gabc',
      kernel: '6.12.48+deb13-amd64',
      criu: '4.1.1',
      criuCheck: 'ok',
      utilLinux: '2.41',
    });
  });

  it('leaves out what the guest could not say; a GitID of 0 (built outside git) is none', () => {
    assert.deepEqual(parseFacts('kernel=6.1.0\ncriu=\ncriu_gitid=0\nutil_linux=\n'), {
      kernel: '6.1.0',
      criuCheck: 'failed',
    });
  });

  it("records a started target's facts, a fact the guest did not say as '?'", () => {
    const facts = targetFacts('vm', { kernel: '6.1.0', criuCheck: 'ok' }, { readyMs: 900, accel: 'tcg', bootMs: 700 });
    assert.deepEqual(facts, {
      target: 'vm',
      kernel: '6.1.0',
      criu: '?',
      criuCheck: 'ok',
      utilLinux: '?',
      readyMs: 900,
      accel: 'tcg',
      bootMs: 700,
    });
  });
});
