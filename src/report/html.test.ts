import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseCapture } from '../capture/capture-file.js';
import { compareCaptures } from '../compare/compare.js';
import { assetPath } from '../paths.js';
import type { ScenarioResult } from '../results/result.js';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { HtmlReporter, logBlock, renderHtml, runDirFiles, type ReportFiles } from './html.js';
import { runResult, scenarioResult, vmCell } from '../results/results.testutil.js';

const captureText = (name: string) => readFileSync(assetPath('test', 'fixtures', 'captures', name), 'latin1');
const BEFORE = captureText('vm-trixie-slave-chain-3.before.capture');
const EXTRA_MOUNT = '99 61 0:40 / /b rw,relatime - tmpfs cover rw,inode64\n';
/** The real after capture with one mount more: a tmpfs stacked on /b (mount 61 there). */
const AFTER_EXTRA = `${captureText('vm-trixie-slave-chain-3.after.capture')}${EXTRA_MOUNT}`;

function differencesOf(before: string, after: string): ScenarioResult['differences'] {
  return compareCaptures(parseCapture(before), parseCapture(after)).differences.map((d) => ({
    kind: d.kind,
    sentence: d.sentence,
    ...(d.mount ? { mount: d.mount } : {}),
  }));
}

/** Files held in memory; `reads` records what the page asked for. */
function memFiles(
  artifacts: Record<string, string>,
  scenarios: Record<string, string> = {},
): ReportFiles & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    artifact: async (rel) => {
      reads.push(rel);
      return artifacts[rel];
    },
    scenario: async (file) => scenarios[file],
    scenarioHref: (file) => `../../${file}`,
  };
}

/** The section of one result, by its data attributes. */
function section(html: string, scenario: string, cell?: string): string {
  const re = new RegExp(
    `<section class="scenario[^"]*" id="r-[0-9a-f]+" data-scenario="${scenario.replace(/[[\]]/g, '\\$&')}"` +
      `${cell ? ` data-cell="${cell}"` : ''}[\\s\\S]*?</section>`,
  );
  const m = html.match(re);
  assert.ok(m, `no section for ${scenario}`);
  return m[0];
}

describe('index.html', () => {
  after(removeScratch);

  it(
    "summarises the run: all six verdict counts, each cell's kernel, criu, accelerator and times, " +
      'the matrix with disagreeing rows first',
    async () => {
      const c1 = {
        ...vmCell('vm-debian-6.1-criu-4.1.1'),
        facts: { ...vmCell('vm-debian-6.1-criu-4.1.1').facts, accel: 'tcg' as const, bootMs: 5500 },
      };
      const c2 = vmCell('vm-debian-6.12-criu-4.1.1');
      const results = [
        scenarioResult({ scenario: 'alpha', outcome: 'pass', cell: c1.id, durationMs: 2000 }),
        scenarioResult({ scenario: 'zeta', outcome: 'pass', cell: c1.id }),
        scenarioResult({ scenario: 'gamma', outcome: 'xfail', cell: c1.id, reason: 'known bug' }),
        scenarioResult({ scenario: 'alpha', outcome: 'pass', cell: c2.id }),
        scenarioResult({ scenario: 'zeta', outcome: 'fail', cell: c2.id, reason: '/w: peers split' }),
        scenarioResult({ scenario: 'gamma', outcome: 'xfail', cell: c2.id, reason: 'known bug' }),
      ];
      const html = await renderHtml(runResult(results, [c1, c2]), memFiles({}));
      for (const [n, v] of [
        [3, 'pass'],
        [1, 'fail'],
        [0, 'error'],
        [0, 'skip'],
        [2, 'xfail'],
        [0, 'xpass'],
      ] as const) {
        assert.ok(
          html.includes(`<span class="count v-${v}${n ? '' : ' zero'}" data-outcome="${v}"><b>${n}</b> ${v}</span>`),
          v,
        );
      }
      const cells = html.match(/<table class="cells">[\s\S]*?<\/table>/)![0];
      assert.match(
        cells,
        new RegExp(
          String.raw`vm-debian-6\.1-criu-4\.1\.1</code></td><td>vm</td><td>6\.1\.0</td><td>4\.1\.1</td><td>2\.41</td>` +
            String.raw`<td>tcg</td><td>5\.5 s</td><td>7\.0 s</td><td>3</td><td>4\.0 s</td>`,
        ),
      );
      assert.match(
        cells,
        new RegExp(
          String.raw`vm-debian-6\.12-criu-4\.1\.1</code></td><td>vm</td><td>6\.12\.0</td><td>4\.1\.1</td>` +
            '<td>2\\.41</td><td>-</td>',
        ),
      );
      const matrix = html.match(/<table class="matrix">[\s\S]*?<\/table>/)![0];
      const rows = [...matrix.matchAll(/<tr( class="differs")?><td>([^<]+)<\/td>/g)].map((m) => [m[2], !!m[1]]);
      assert.deepEqual(rows, [
        ['zeta', true],
        ['alpha', false],
        ['gamma', false],
      ]);
      assert.match(html, /1 of 3 scenarios have different verdicts across cells/);
      // Each matrix verdict links to its section.
      const link = matrix.match(
        /<tr class="differs"><td>zeta<\/td><td><a href="#(r-[0-9a-f]+)">.*?<a href="#(r-[0-9a-f]+)">/,
      )!;
      assert.match(section(html, 'zeta', c1.id), new RegExp(`id="${link[1]}"`));
      assert.match(section(html, 'zeta', c2.id), new RegExp(`id="${link[2]}"`));
      assert.match(html, /<p class="status">Finished: exit code 1\.<\/p>/);
    },
  );

  it('has no matrix for one cell, and lists what needs a look first', async () => {
    const html = await renderHtml(
      runResult(
        [
          scenarioResult({ scenario: 'p', outcome: 'pass' }),
          scenarioResult({ scenario: 'x', outcome: 'xfail' }),
          scenarioResult({ scenario: 'f', outcome: 'error' }),
        ],
        [vmCell('vm-debian-6.12-criu-4.1.1')],
      ),
      memFiles({}),
    );
    assert.ok(!html.includes('class="matrix"'));
    const table = html.match(/<table class="results">[\s\S]*?<\/table>/)![0];
    assert.deepEqual(
      [...table.matchAll(/<a href="#r-[0-9a-f]+">([^<]+)<\/a>/g)].map((m) => m[1]),
      ['f', 'x', 'p'],
    );
    assert.deepEqual(
      [...html.matchAll(/data-scenario="([^"]+)"/g)].map((m) => m[1]),
      ['f', 'x', 'p'],
    );
  });

  it(
    'draws a failing scenario before and after, the extra mount marked on the after picture, ' +
      'the differences beside them',
    async () => {
      const differences = differencesOf(BEFORE, AFTER_EXTRA);
      assert.ok(
        differences.some((d) => d.kind === 'mount-added'),
        JSON.stringify(differences),
      );
      const r = scenarioResult({
        scenario: 'chain',
        outcome: 'fail',
        reason: differences[0]!.sentence,
        differences,
        artifacts: { 'before.capture': 'c/chain/before.capture', 'after.capture': 'c/chain/after.capture' },
      });
      const html = await renderHtml(
        runResult([r]),
        memFiles({ 'c/chain/before.capture': BEFORE, 'c/chain/after.capture': AFTER_EXTRA }),
      );
      const s = section(html, 'chain');
      assert.match(s, /<details class="scenario-details" open>/);
      const before = s.match(/<figure class="before">[\s\S]*?<\/figure>/)![0];
      const after = s.match(/<figure class="after">[\s\S]*?<\/figure>/)![0];
      assert.equal((before.match(/<svg /g) ?? []).length, 1);
      assert.equal((after.match(/<svg /g) ?? []).length, 1);
      assert.match(after, /<g class="mount diff diff-added" data-label="\/b \[stacked 2\]"/);
      assert.ok(!before.includes('diff-added'));
      // Same group, same letter on both sides (kernel numbers differ between the captures).
      for (const mp of ['/w', '/a', '/w/sub', '/a/sub']) {
        const letter = (fig: string) => fig.match(new RegExp(`data-label="${mp}" data-group="([A-Z]+)"`))![1];
        assert.equal(letter(after), letter(before), mp);
      }
      const aside = s.match(/<aside class="differences">[\s\S]*?<\/aside>/)![0];
      for (const d of differences)
        assert.ok(
          aside.includes(
            d.sentence
              .replace(/&/g, '&amp;')
              .replace(/</g, '&lt;')
              .replace(/>/g, '&gt;')
              .replace(/"/g, '&quot;')
              .replace(/'/g, '&#39;'),
          ),
          d.sentence,
        );
    },
  );

  it('outlines on both pictures a mount a difference names', async () => {
    const after = captureText('vm-trixie-slave-chain-3.after.capture').replace(
      '63 61 0:33 / /b/sub rw,relatime master:2',
      '63 61 0:33 / /b/sub ro,relatime master:2',
    );
    const differences = differencesOf(BEFORE, after);
    assert.deepEqual(
      differences.map((d) => d.mount),
      ['/b/sub'],
    );
    const r = scenarioResult({
      scenario: 'ro',
      outcome: 'fail',
      differences,
      artifacts: { 'before.capture': 'b', 'after.capture': 'a' },
    });
    const s = section(await renderHtml(runResult([r]), memFiles({ b: BEFORE, a: after })), 'ro');
    assert.equal((s.match(/<g class="mount diff diff-changed" data-label="\/b\/sub"/g) ?? []).length, 2);
  });

  it('draws a pass once, collapsed, and a scenario that never restored with its before picture only', async () => {
    const pass = scenarioResult({
      scenario: 'ok',
      outcome: 'pass',
      artifacts: { 'before.capture': 'b', 'after.capture': 'a' },
    });
    const xfail = scenarioResult({
      scenario: 'nodump',
      outcome: 'xfail',
      reason: 'known bug: dump failed',
      artifacts: { 'before.capture': 'b' },
    });
    const html = await renderHtml(
      runResult([pass, xfail]),
      memFiles({ b: BEFORE, a: captureText('vm-trixie-slave-chain-3.after.capture') }),
    );
    const p = section(html, 'ok');
    assert.match(p, /<details class="scenario-details">/);
    assert.equal((p.match(/<svg /g) ?? []).length, 1);
    assert.match(p, /the same, up to renumbering/);
    const x = section(html, 'nodump');
    assert.equal((x.match(/<svg /g) ?? []).length, 1);
    assert.match(x, /No picture after the restore: there is no capture/);
  });

  it('still explains a failure whose captures are missing or unreadable', async () => {
    const differences = [{ kind: 'mount-lost', mount: '/w', sentence: '/w is missing after restore' }];
    const missing = scenarioResult({
      scenario: 'gone',
      outcome: 'fail',
      reason: '/w is missing after restore',
      differences,
      artifacts: { 'before.capture': 'nowhere', 'after.capture': 'nowhere2' },
    });
    const broken = scenarioResult({
      scenario: 'broken',
      outcome: 'fail',
      reason: '/w is missing after restore',
      differences,
      artifacts: { 'before.capture': 'bad', 'after.capture': 'bad' },
    });
    const html = await renderHtml(runResult([missing, broken]), memFiles({ bad: '@task init pid=x\nnot mountinfo\n' }));
    for (const name of ['gone', 'broken']) {
      const s = section(html, name);
      assert.ok(!s.includes('<svg'), name);
      assert.match(s, /No picture: the captures could not be read/);
      assert.match(s, /<p class="reason">\/w is missing after restore<\/p>/);
      assert.match(
        s,
        new RegExp(
          '<li><code class="mount-name">/w</code> <span class="kind">mount-lost</span>' +
            '<br>/w is missing after restore</li>',
        ),
      );
    }
  });

  it("puts a log's errors, BUGs and mnt-v2 decisions first, and caps a huge log", () => {
    const lines = ['(00.000001) Version: 4.1.1'];
    for (let i = 0; i < 100_000; i++)
      lines.push(`(00.${String(i).padStart(6, '0')}) mnt: noise line ${i} <tag> & "quoted"`);
    lines.splice(500, 0, "(00.100000) Error (criu/mount.c:1992): mnt: A few mount points can't be mounted");
    lines.splice(700, 0, '(00.100001)      1: mnt-v2: Mount 49 is detected as dir-mount');
    lines.splice(900, 0, '[ 12.3] kernel BUG at fs/namespace.c:1234!');
    lines.splice(901, 0, `<script>alert(1)</script> err ${'x'.repeat(5000)}`);
    const html = logBlock('restore.log', 'cell/s/restore.log', `${lines.join('\n')}\n`);
    assert.ok(html.length < 60_000, String(html.length));
    const key = html.match(/<pre class="key-lines">([\s\S]*?)<\/pre>/)![1]!;
    assert.deepEqual(
      [...key.matchAll(/<span class="(k-\w+)">\s*(\d+) /g)].map((m) => [m[1], Number(m[2])]),
      [
        ['k-err', 501],
        ['k-v2', 701],
        ['k-err', 901],
        ['k-err', 902],
      ],
    );
    assert.match(html, /100005 lines, 3 error\/BUG lines, 1 mnt-v2 line/);
    assert.match(html, /The last 80 of 100005 lines/);
    assert.match(html, /noise line 99999 &lt;tag&gt; &amp; &quot;quoted&quot;/);
    assert.ok(!html.includes('noise line 99900 '), 'only the tail');
    assert.ok(!html.includes('<script>'));
    assert.match(html, /x… \(\d+ more characters\)/);
    assert.match(html, /<a href="cell\/s\/restore\.log">whole file<\/a>/);
    // A pass's logs get a short tail: most of a corpus passes.
    const short = logBlock('restore.log', 'r', lines.join('\n'), 'pass');
    assert.match(short, /The last 20 of 100005 lines/);
    assert.ok(short.length < html.length / 2);
  });

  it('keeps the errors when mnt-v2 lines alone would pass the key-line cap', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `(${i}) 1: mnt-v2: step ${i}`);
    lines.push('(1000) Error (criu/mount.c:1): last');
    const key = logBlock('restore.log', 'r', lines.join('\n')).match(/<pre class="key-lines">([\s\S]*?)<\/pre>/)![1]!;
    assert.match(key, /Error \(criu\/mount\.c:1\): last/);
    assert.equal((key.match(/<span /g) ?? []).length, 300);
  });

  it('shows dump and restore logs in pipeline order, with the error excerpt and the scenario source', async () => {
    const r = scenarioResult({
      scenario: 'err',
      outcome: 'error',
      file: 'scenarios/x/err.yaml',
      reason: 'criu restore failed',
      error: { phase: 'restore', message: 'criu restore failed (exit 1)', excerpt: 'Error (criu/mount.c:1): <boom>' },
      artifacts: { 'restore.log': 'c/err/restore.log', 'dump.log': 'c/err/dump.log', 'tree.sh': 'c/err/tree.sh' },
    });
    const yaml = 'name: err\nsteps:\n  - mkdir: "/a<b>&c"\nexpect: identical\n';
    const html = await renderHtml(
      runResult([r]),
      memFiles(
        { 'c/err/dump.log': 'dump ok\n', 'c/err/restore.log': 'x\nError (criu/mount.c:1): <boom>\n' },
        { 'scenarios/x/err.yaml': yaml },
      ),
    );
    const s = section(html, 'err');
    assert.ok(s.indexOf('data-log="dump.log"') < s.indexOf('data-log="restore.log"'));
    assert.ok(!s.includes('data-log="tree.sh"'));
    assert.match(
      s,
      new RegExp(
        String.raw`<b>error in restore:</b> criu restore failed \(exit 1\)</p>\n` +
          String.raw`<pre>Error \(criu/mount\.c:1\): &lt;boom&gt;</pre>`,
      ),
    );
    assert.match(
      s,
      /Scenario file: <a href="\.\.\/\.\.\/scenarios\/x\/err\.yaml"><code>scenarios\/x\/err\.yaml<\/code><\/a>/,
    );
    assert.match(
      s,
      new RegExp(
        '<details class="yaml"><summary>scenario source</summary>' +
          String.raw`<pre>name: err\nsteps:\n {2}- mkdir: &quot;/a&lt;b&gt;&amp;c&quot;\n` +
          String.raw`expect: identical\n</pre></details>`,
      ),
    );
    assert.match(s, /Files: <a href="c\/err\/restore\.log">restore\.log<\/a>/);
  });

  it('escapes every text it shows', async () => {
    const evil = '<img src=x onerror="alert(1)">&amp;\'';
    const capture = [
      `@task ${'init'} pid=1 mntns=1`,
      '10 1 0:20 / / rw - overlay root rw',
      '11 10 0:21 / /x<script>\\040"q" rw - tmpfs <i>src rw',
      '',
    ].join('\n');
    const r = scenarioResult({
      scenario: evil,
      outcome: 'fail',
      cell: `cell${evil}`,
      file: `s/${evil}.yaml`,
      reason: evil,
      expected: evil,
      differences: [{ kind: 'mount-lost', mount: evil, sentence: evil }],
      leaks: [evil],
      error: { phase: 'restore', message: evil, excerpt: evil },
      artifacts: { 'before.capture': 'b', 'after.capture': 'a', 'dump.log': 'd' },
    });
    const run = runResult([r], [{ ...vmCell('vm-x'), id: `cell${evil}`, error: evil }]);
    run.runId = evil;
    const html = await renderHtml(run, {
      artifact: async (rel) => (rel === 'd' ? evil : capture),
      scenario: async () => evil,
      scenarioHref: () => `../${evil}`,
    });
    assert.ok(!html.includes('<img'));
    assert.ok(!html.includes('<i>'));
    assert.equal((html.match(/<script/g) ?? []).length, 1, "only the page's own script");
    assert.ok(html.includes('x&lt;script&gt; &quot;q&quot;'));
    assert.ok(html.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;&#39;'));
  });

  it('HtmlReporter names the target of a cell whose target has not started yet', async () => {
    const dir = scratchDir('html-pending-cell');
    const none = async () => undefined;
    const rep = new HtmlReporter(dir, { artifact: none, scenario: none, scenarioHref: () => undefined });
    const waiting = {
      id: 'container-debian',
      facts: { ...vmCell('x').facts, target: 'container' as const, kernel: '?' },
    };
    const r = scenarioResult({ scenario: 's', outcome: 'pass', cell: 'vm-debian-6.12-criu-4.1.1' });
    const scenarios = [{ name: 's', file: r.file }];
    rep.onRunStart({ runId: 'r', runDir: dir, scenarios, cells: [vmCell(r.cell), waiting] });
    await rep.onScenarioEnd(r);
    const page = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.match(page, /<code>container-debian<\/code><\/td><td>container<\/td><td>\?<\/td>/);
  });

  it('HtmlReporter takes scenarios that end at once (parallel guests) and results re-sorted at the end', async () => {
    const dir = scratchDir('html-parallel');
    const results = Array.from({ length: 12 }, (_, i) =>
      scenarioResult({
        scenario: `p${i}`,
        outcome: i === 5 ? 'fail' : 'pass',
        ...(i === 3
          ? {
              flaky: true,
              attempts: [
                { outcome: 'pass', reason: 'ok', durationMs: 1 },
                { outcome: 'fail', reason: 'bad', durationMs: 2 },
              ],
            }
          : {}),
      }),
    );
    // Reads that finish in reverse order, so renders complete out of order.
    const files: ReportFiles = {
      artifact: async () => undefined,
      scenario: (f) =>
        new Promise((res) => setTimeout(() => res(`name: ${f}\n`), 30 - Number(f.match(/p(\d+)/)![1]) * 2)),
      scenarioHref: () => undefined,
    };
    const rep = new HtmlReporter(dir, files);
    const scenarios = results.map((r) => ({ name: r.scenario, file: r.file }));
    rep.onRunStart({ runId: 'par', runDir: dir, scenarios, cells: [vmCell('vm-debian-6.12-criu-4.1.1')], items: 12 });
    await Promise.all(results.map((r) => rep.onScenarioEnd(r)));
    const partial = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.match(partial, /written after 12 of 12 results/);
    await rep.onRunEnd(runResult([...results].reverse()));
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    for (const r of results) {
      const s = section(html, r.scenario);
      // Every section carries its own scenario's source, not a neighbour's.
      assert.ok(s.includes(`name: scenarios/${r.scenario}.yaml`), r.scenario);
      const id = s.match(/id="(r-[0-9a-f]+)"/)![1];
      assert.ok(
        html.includes(`<a href="#${id}">${r.scenario}</a>`),
        `the results table links ${r.scenario} to its section`,
      );
    }
    assert.match(
      section(html, 'p3'),
      new RegExp(
        '<b class="warn">flaky: the attempts disagreed</b>' +
          '<ol class="attempts"><li>1: <span class="verdict v-pass">pass</span>',
      ),
    );
    assert.deepEqual(readdirSync(dir), ['index.html']);
  });

  it(
    'HtmlReporter rewrites index.html after every scenario (a killed run leaves a page) and at the end, ' +
      'fast enough for a 90-scenario run',
    async function () {
      // 91 writes of a page over a megabyte: seconds on a busy 2-core machine, though far from mocha's 2 s default.
      this.timeout(30_000);
      const dir = scratchDir('html');
      const cell = vmCell('vm-debian-6.12-criu-4.1.1');
      const results: ScenarioResult[] = [];
      for (let i = 0; i < 90; i++) {
        const rel = `${cell.id}/s${i}`;
        mkdirSync(join(dir, rel), { recursive: true });
        writeFileSync(join(dir, rel, 'before.capture'), BEFORE, 'latin1');
        const fail = i % 15 === 7;
        writeFileSync(
          join(dir, rel, 'after.capture'),
          fail ? AFTER_EXTRA : captureText('vm-trixie-slave-chain-3.after.capture'),
          'latin1',
        );
        writeFileSync(
          join(dir, rel, 'dump.log'),
          Array.from({ length: 600 }, (_, j) => `(0.${j}) dump line ${j}`).join('\n'),
        );
        writeFileSync(
          join(dir, rel, 'restore.log'),
          Array.from({ length: 500 }, (_, j) => `(0.${j}) 1: mnt-v2: restore line ${j}`).join('\n'),
        );
        results.push(
          scenarioResult({
            scenario: `s${i}`,
            outcome: fail ? 'fail' : 'pass',
            file: 'scenarios/propagation/slave-chain-3.yaml',
            cell: cell.id,
            differences: fail ? differencesOf(BEFORE, AFTER_EXTRA) : [],
            artifacts: Object.fromEntries(
              ['before.capture', 'after.capture', 'dump.log', 'restore.log'].map((f) => [f, `${rel}/${f}`]),
            ),
          }),
        );
      }
      const rep = new HtmlReporter(dir, runDirFiles(dir, assetPath()));
      rep.onRunStart({
        runId: 'r1',
        runDir: dir,
        scenarios: results.map((r) => ({ name: r.scenario, file: r.file })),
        cells: [cell],
      });
      rep.onCellReady({ ...cell, facts: { ...cell.facts, accel: 'tcg' } });
      const page = () => readFileSync(join(dir, 'index.html'), 'utf8');
      for (const [i, r] of results.entries()) {
        await rep.onScenarioEnd(r);
        if (i === 0 || i === 44) {
          const html = page();
          assert.match(html, new RegExp(`Incomplete: written after ${i + 1} of 90 results`));
          assert.equal((html.match(/<section class="scenario/g) ?? []).length, i + 1);
          assert.match(html, /<td>tcg<\/td>/);
        }
      }
      await rep.onRunEnd(runResult(results, [cell]));
      const html = page();
      assert.match(html, /Finished: exit code 1/);
      assert.equal((html.match(/<section class="scenario/g) ?? []).length, 90);
      // The link is relative from the run directory to the scenario file, wherever the checkout is.
      assert.ok(
        html.includes(`<a href="${relative(dir, join(assetPath(), 'scenarios/propagation/slave-chain-3.yaml'))}">`),
        'a relative link to the scenario source',
      );
      assert.match(html, /name: slave-chain-3/);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.startsWith('index.html')),
        ['index.html'],
        'no temporary file left',
      );
      // Sections are rendered once each; a rewrite is the page around them.
      const writes = rep.writeMs;
      assert.equal(writes.length, 91);
      const mean = writes.reduce((a, b) => a + b, 0) / writes.length;
      // A loose bound that holds on a loaded 2-core host: it catches re-rendering
      // every section on each write (seconds), not speed, which bench/ measures.
      assert.ok(mean < 500, `mean write ${mean.toFixed(1)} ms`);
      assert.ok(html.length < 4_000_000, `${html.length} bytes`);
    },
  );
});
