import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { renderEndSummary } from './end-summary.js';
import { progressReporter } from './progress.js';
import { LineProgress } from './progress-lines.js';
import { LiveProgress } from './progress-live.js';
import { runResult, scenarioResult } from '../results/results.testutil.js';

const DRIVER = fileURLToPath(new URL('../../test/pty/progress-driver.js', import.meta.url));
const ESC = /\x1b\[/;

/**
 * The screen a terminal shows after these bytes: just enough of a VT100 for
 * what the live view writes (newline, carriage return, cursor to the start
 * of a previous line, erase below, cursor visibility), failing on anything
 * else so the view cannot start using sequences this test does not judge.
 */
function screen(bytes: string): { lines: string[]; cursorVisible: boolean } {
  const lines: string[] = [''];
  let row = 0;
  let cursorVisible = true;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === '\x1b') {
      const m = /^\x1b\[(\??)(\d*)([A-Za-z])/.exec(bytes.slice(i));
      assert.ok(m, `unknown escape at ${i}: ${JSON.stringify(bytes.slice(i, i + 8))}`);
      const [all, q, n, cmd] = m;
      if (q === '?' && n === '25') cursorVisible = cmd === 'h';
      else if (cmd === 'F') row = Math.max(0, row - Number(n || 1));
      else if (cmd === 'J') {
        lines.splice(row + 1);
        lines[row] = '';
      } else assert.fail(`unexpected escape ${JSON.stringify(all)}`);
      i += all.length - 1;
    } else if (c === '\n') {
      row++;
      if (lines.length <= row) lines.push('');
      else lines[row] = lines[row] ?? '';
    } else if (c === '\r') {
      lines[row] = '';
    } else {
      lines[row] = (lines[row] ?? '') + c;
    }
  }
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return { lines, cursorVisible };
}

describe('progress output', () => {
  const fail = scenarioResult({ scenario: 'trap', outcome: 'fail', reason: 'extra mount /a [stacked 3]\nmore detail' });
  const run = runResult([
    scenarioResult({ scenario: 'ok', outcome: 'pass' }),
    fail,
    scenarioResult({ scenario: 'bug', outcome: 'xfail', reason: 'known' }),
  ]);

  it('picks the live view only for a terminal that can show it', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    assert.ok(progressReporter('normal', tty, { TERM: 'xterm' }) instanceof LiveProgress);
    assert.ok(progressReporter('normal', tty, { TERM: 'dumb' }) instanceof LineProgress);
    assert.ok(progressReporter('quiet', tty, { TERM: 'xterm' }) instanceof LineProgress);
    assert.ok(progressReporter('normal', new PassThrough(), { TERM: 'xterm' }) instanceof LineProgress);
  });

  it('ends with a one-screen summary: counts, the first line explaining each failure, and the index.html path', () => {
    const lines = renderEndSummary(run, '/r/run1', 80, 24);
    assert.ok(lines.includes('  FAIL  trap: extra mount /a [stacked 3]'), lines.join('\n'));
    assert.ok(!lines.join('\n').includes('more detail'));
    assert.match(lines.join('\n'), /1 pass, 1 fail, 1 xfail in 1m 00s; exit 1\nreport: \/r\/run1\/index\.html/);
  });

  it('cuts a long failure list to fit the screen and says where the rest is', () => {
    const many = runResult(
      Array.from({ length: 50 }, (_, i) =>
        scenarioResult({ scenario: `s${i}-${'x'.repeat(100)}`, outcome: 'fail', reason: 'r' }),
      ),
    );
    const lines = renderEndSummary(many, '/r', 60, 20);
    assert.ok(lines.length <= 20, `${lines.length} lines`);
    assert.ok(
      lines.every((l) => l.length < 60),
      lines.find((l) => l.length >= 60),
    );
    assert.match(lines.join('\n'), /\.\.\. and 37 more in summary\.md/);
  });

  it('in a pipe writes plain timestamped lines and the summary, no escape codes', () => {
    const r = spawnSync(process.execPath, [DRIVER], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm' } });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, ESC);
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines[0]!, /^\[ +\d+\.\ds\] run r-pty: 2 scenario\(s\) on vm-debian-6\.12-criu-4\.1\.1$/);
    assert.ok(
      lines.some((l) => /^\[ +\d+\.\ds\] \[1\/2\] PASS slave-chain-3 in 1\.5 s$/.test(l)),
      r.stderr,
    );
    assert.ok(
      lines.some((l) =>
        /^\[ +\d+\.\ds\] vm-debian-6\.12-criu-4\.1\.1: ready in 7\.0 s: kernel 6\.12\.0, criu 4\.1\.1, TCG$/.test(l),
      ),
      r.stderr,
    );
    assert.ok(!lines.some((l) => /: dump$/.test(l)), 'phases only with --verbose');
    assert.deepEqual(lines.slice(-3), [
      '1 pass, 1 fail in 3.0 s; exit 1',
      'report: /tmp/reports/r-pty/index.html',
      '        summary.md, results.json, junit.xml, results.tap beside it',
    ]);
  });

  it('with --verbose in a pipe names every phase; with --quiet prints one line', () => {
    const verbose = spawnSync(process.execPath, [DRIVER, 'verbose'], { encoding: 'utf8' }).stderr;
    assert.match(verbose, /\] slave-chain-3: dump\n/);
    assert.match(verbose, /phases: /);
    const quiet = spawnSync(process.execPath, [DRIVER, 'quiet'], { encoding: 'utf8' }).stderr;
    assert.equal(quiet, 'not ok: 1 pass, 1 fail; report: /tmp/reports/r-pty/index.html\n');
  });

  it('on a pseudo-terminal shows a live block that ends as the summary, within the terminal width', function () {
    this.timeout(30_000);
    // script(1) gives the driver a real pty; stty sets its size as a 60x20 terminal.
    const raw = execFileSync(
      'script',
      ['-qfec', `stty cols 60 rows 20; ${JSON.stringify(process.execPath)} ${JSON.stringify(DRIVER)}`, '/dev/null'],
      {
        encoding: 'utf8',
        env: { ...process.env, TERM: 'xterm' },
      },
    ).replace(/\r\n/g, '\n');
    // Live: the cursor was hidden, the block redrawn in place many times, phases and the clock shown.
    assert.match(raw, /\x1b\[\?25l/);
    assert.ok((raw.match(/\x1b\[\d+F\x1b\[J/g) ?? []).length >= 5, 'redrawn in place');
    assert.match(raw, /slave-chain-3 +dump +\d+\.\d s\r?\n/);
    assert.match(raw, / vm-debian-6\.12-criu-4\.1\.1 +boot +\d+\.\d s\r?\n/);
    assert.match(raw, /1\/2 done: 1 pass/);
    const { lines, cursorVisible } = screen(raw);
    assert.ok(cursorVisible, 'the cursor is given back');
    assert.ok(
      lines.every((l) => [...l].length < 60),
      lines.find((l) => [...l].length >= 60),
    );
    // What stays on screen: the permanent lines, then the summary; no leftover live block.
    assert.deepEqual(lines, [
      'run r-pty: 2 scenario(s) on vm-debian-6.12-criu-4.1.1',
      'vm-debian-6.12-criu-4.1.1: starting qemu TCG, kernel 6.12',
      'vm-debian-6.12-criu-4.1.1: console says hello',
      'vm-debian-6.12-criu-4.1.1: ready in 7.0 s: kernel 6.12.0, …',
      'PASS slave-chain-3 in 1.5 s',
      'FAIL a-scenario-with-a-rather-long-name-that-does-not-fit-…',
      '',
      '  FAIL  a-scenario-with-a-rather-long-name-that-does-not-f…',
      '1 pass, 1 fail in 3.0 s; exit 1',
      'report: /tmp/reports/r-pty/index.html',
      '        summary.md, results.json, junit.xml, results.tap b…',
    ]);
  });
});
