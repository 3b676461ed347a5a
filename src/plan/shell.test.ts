import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { shJoin, shq } from './shell.js';

describe('shell quoting', () => {
  const hostile = [
    'plain',
    'with space',
    "it's",
    '$(touch /tmp/mountlab-pwned)',
    '`id`',
    '"dq"',
    'a\\b',
    '\n',
    '*',
    '-n',
    '',
    'ü\u0301 \\040',
  ];
  for (const word of hostile) {
    it(`passes ${JSON.stringify(word)} through sh unchanged`, () => {
      const out = execFileSync('sh', ['-c', `printf '%s' ${shq(word)}`]).toString('utf8');
      assert.equal(out, word);
    });
  }

  it('joins argv so each word stays one word', () => {
    const out = execFileSync('sh', [
      '-c',
      `for a in ${shJoin(['a b', "c'd", '$x'])}; do printf '[%s]' "$a"; done`,
    ]).toString();
    assert.equal(out, "[a b][c'd][$x]");
  });

  it('refuses NUL, which no shell word can carry', () => {
    assert.throws(() => shq('a\0b'), /NUL/);
  });
});
