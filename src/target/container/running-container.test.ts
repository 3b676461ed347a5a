import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import { EXEC_WRAPPER, backstopMs, decodeStdout, execArgv, execLimitSeconds, timedOut } from './running-container.js';

describe('container target: exec argv', () => {
  it('passes the command as separate words after a fixed wrapper script, never inside it', () => {
    const evil = ["it's", '$(touch /pwned)', '"; rm -rf / #', 'a b'];
    const argv = execArgv(['/run/mountlab/labctl', 'setup', ...evil], 30, '/var/lib/.mountlab-stdin-1');
    assert.deepEqual(argv.slice(0, 3), ['sh', '-c', EXEC_WRAPPER]);
    assert.deepEqual(argv.slice(3), [
      'mountlab-exec',
      '/var/lib/.mountlab-stdin-1',
      '30',
      '/run',
      '/run/mountlab/labctl',
      'setup',
      ...evil,
    ]);
    for (const e of evil) assert.ok(!EXEC_WRAPPER.includes(e));
  });

  it('runs a string through sh -c, and no stdin as an empty first argument', () => {
    const argv = execArgv('echo hi && true', 5, undefined);
    assert.deepEqual(argv.slice(3), ['mountlab-exec', '', '5', '/run', 'sh', '-c', 'echo hi && true']);
  });

  it('limits: whole seconds in the container, a later backstop on the host', () => {
    assert.equal(execLimitSeconds(1500), 2);
    assert.equal(execLimitSeconds(10), 1);
    assert.ok(backstopMs(60_000) > 60_000 + 5_000);
    assert.equal(timedOut(124, 30_000, 30), true);
    assert.equal(timedOut(137, 35_100, 30), true);
    // labctl's own 124 (setup-timeout) comes before the exec's limit.
    assert.equal(timedOut(124, 12_000, 30), false);
    assert.equal(timedOut(0, 40_000, 30), false);
  });

  it('decodes stdout byte for byte (latin1 keeps non-UTF-8 bytes)', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x5c, 0x0a, 0xe9]);
    assert.deepEqual(
      [...decodeStdout(bytes.toString('base64'), 'latin1')].map((c) => c.charCodeAt(0)),
      [...bytes],
    );
    assert.equal(decodeStdout(Buffer.from('héllo\n').toString('base64')), 'héllo\n');
    assert.equal(decodeStdout(''), '');
  });
});

/** The wrapper is plain POSIX sh + coreutils: run it here exactly as the container would. */
describe('container target: the exec wrapper, run by this machine sh', function () {
  this.timeout(20_000);
  after(removeScratch);
  const run = (argv: string[]) => {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('feeds the stdin file to the command, removes it first, keeps the exit code and stderr', () => {
    const dir = scratchDir('wrap');
    const stdin = join(dir, 'stdin');
    writeFileSync(stdin, 'line one\n$(not expanded) `nor this`\n');
    const r = run(
      execArgv(
        ['sh', '-c', 'cat; test -e "$1" && echo still-there >&2; echo oops >&2; exit 7', 'sh', stdin],
        10,
        stdin,
        dir,
      ),
    );
    assert.equal(r.code, 7);
    assert.equal(decodeStdout(r.stdout), 'line one\n$(not expanded) `nor this`\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(existsSync(stdin), false);
    assert.deepEqual(readdirSync(dir), [], 'the stdout file is removed too');
  });

  it('passes awkward arguments through unchanged', () => {
    const dir = scratchDir('wrap');
    const args = ["it's", '$(echo no)', 'a  b', '*', ''];
    const r = run(execArgv(['printf', '[%s]\\n', ...args], 10, undefined, dir));
    assert.equal(r.code, 0);
    assert.equal(decodeStdout(r.stdout), args.map((a) => `[${a}]\n`).join(''));
  });

  it('gives the command /dev/null as stdin when there is none', () => {
    const dir = scratchDir('wrap');
    const r = run(execArgv(['cat'], 10, undefined, dir));
    assert.equal(r.code, 0);
    assert.equal(decodeStdout(r.stdout), '');
  });

  it('stops a command at its limit with timeout (exit 124)', () => {
    const dir = scratchDir('wrap');
    const t0 = Date.now();
    const r = run(execArgv(['sh', '-c', 'echo started; sleep 30'], 1, undefined, dir));
    const ms = Date.now() - t0;
    assert.equal(r.code, 124);
    assert.ok(ms < 10_000, `took ${ms} ms`);
    assert.equal(decodeStdout(r.stdout), 'started\n');
    assert.equal(timedOut(r.code!, Math.max(ms, 1000), 1), true);
  });
});
