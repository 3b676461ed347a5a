import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { thrown } from '../../test/thrown.js';
import { compileLogPattern, logPattern } from './log-pattern.js';
import { parseScenario } from './load.js';

const doc = (expect: string) => `name: n\ndescription: d\nsteps: [{mkdir: /w}]\nexpect:\n${expect}`;

describe('log patterns: class, user patterns that backtrack exponentially', () => {
  it('runs the shapes that backtracked in linear time, on a long log, and still matches what they should', () => {
    const log = `${'a1'.repeat(50_000)}\n`;
    for (const p of ['(\\w|\\d)+Q', '(a+)+$', '(.*)*x', '(x(y+))*z', '(?:\\d+){2,}Q', '(a|a)*b']) {
      const started = Date.now();
      assert.equal(logPattern(p).test(log), false, p);
      assert.ok(Date.now() - started < 2000, `${p} took ${Date.now() - started} ms on ${log.length} characters`);
    }
    assert.equal(logPattern('(\\w|\\d)+Q').test('ab1Q'), true);
  });

  it('anchors ^ and $ at each line of a log', () => {
    assert.equal(
      logPattern("^Error \\(criu/mount\\.c:\\d+\\): mnt: Can't mount").test(
        "(00.1) x\nError (criu/mount.c:42): mnt: Can't mount at ./a\n",
      ),
      true,
    );
    assert.equal(logPattern('^mount$').test('a mount\nmounts\n'), false);
  });

  it('refuses what the linear-time engine cannot express, saying which and why', () => {
    for (const [p, re] of [
      ['(a)\\1', /no backreferences/],
      ['(?<n>a)\\k<n>', /no backreferences/],
      ['(?=mount)m', /no lookahead or lookbehind/],
      ['(?<!x)y', /no lookahead or lookbehind/],
      ['(', /not a valid regular expression in RE2 syntax: missing closing \)/],
    ] as const) {
      const c = compileLogPattern(p);
      assert.ok('error' in c, p);
      assert.match(c.error, re, p);
    }
  });

  it('is refused at validate, at the pattern in the file', () => {
    const msg = thrown(
      () =>
        parseScenario(doc('  known-bug:\n    url: https://example.org/bug/1\n    reason: "(mount)\\\\1"\n'), 'x.yaml'),
      BadInputError,
    ).message;
    assert.match(
      msg,
      /^x\.yaml:7:13: patterns run in a linear-time engine \(RE2 syntax\), which has no backreferences/,
    );
    assert.match(
      thrown(() => parseScenario(doc('  fails: "(?=a)"\n'), 'x.yaml'), BadInputError).message,
      /^x\.yaml:5:10: .*no lookahead or lookbehind/,
    );
  });

  it('accepts the nested repetition the old shape list refused: it is harmless now', () => {
    assert.equal(
      parseScenario(doc('  dump-fails: "(.*mount.*)+"\n'), 'x.yaml').scenario.expect instanceof Object,
      true,
    );
  });
});
