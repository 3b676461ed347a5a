import { strict as assert } from 'node:assert';
import { detectPrefix, isPromptCommand, prefixLength } from './line-prefix.js';

const M = (id: number) => `${id} 1 0:${id} / /m${id} rw - tmpfs t rw`;

describe('import: line-prefix', () => {
  it('finds a prefix that varies only in digits and blanks, and strips it where a mount line follows', () => {
    const p = detectPrefix([`[    1.000001] ${M(2)}`, `[   12.345678] ${M(3)}`, 'prose'])!;
    assert.ok(p && !p.constant);
    assert.equal(prefixLength(p, `[  123.000000] ${M(4)}`), 15);
    assert.equal(prefixLength(p, M(4)), 0);
  });

  it('finds nothing when the lines disagree, when one line alone has text before it, or there is none', () => {
    assert.equal(detectPrefix([`DEBUG ${M(2)}`, `INFO ${M(3)}`]), undefined);
    assert.equal(detectPrefix([`see ${M(2)}`, M(3), M(4)]), undefined);
    assert.equal(detectPrefix([M(2), M(3)]), undefined);
  });

  it('a prefix of digits alone (line numbers) is stripped only before a mount line, never from one', () => {
    const p = detectPrefix([`  663\t${M(2)}`, `  664\t${M(3)}`])!;
    assert.ok(p.numeric);
    assert.equal(prefixLength(p, `665\t${M(5)}`), 4);
    assert.equal(prefixLength(p, '12 rw,relatime - tmpfs t rw'), 0);
  });

  it('knows the command line that printed the table', () => {
    assert.ok(isPromptCommand('root@host:~# cat /proc/self/mountinfo'));
    assert.ok(isPromptCommand('$ podman exec c1 cat /proc/1/mountinfo'));
    assert.ok(!isPromptCommand('the mountinfo of the container'));
  });
});
