import { strict as assert } from 'node:assert';
import type { Outcome } from '../results/outcome.js';
import type { ScenarioResult } from '../results/result.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { renderMarkdown, topologies } from './markdown.js';
import { runResult, scenarioResult, vmCell } from '../results/results.testutil.js';

const result = (
  scenario: string,
  cell: string,
  outcome: Outcome,
  probes?: ScenarioResult['probes'],
  extra: Partial<ScenarioResult> = {},
): ScenarioResult =>
  scenarioResult({
    scenario,
    cell,
    outcome,
    reason: outcome === 'pass' ? 'restored topology is identical up to renumbering' : 'criu restore failed | badly',
    durationMs: 4200,
    ...(probes ? { probes } : {}),
    ...extra,
  });

const run = (results: ScenarioResult[], cells: string[]) => runResult(results, cells.map(vmCell));

describe('Markdown report', () => {
  after(removeScratch);

  it('puts a scenario x cell table first in a matrix run, scenarios whose verdicts differ at the top', async () => {
    const cells = ['vm-debian-6.1-criu-3.17.1', 'vm-debian-6.12-criu-4.1.1'];
    const md = await renderMarkdown(
      run(
        [
          result('a-same', cells[0]!, 'pass'),
          result('a-same', cells[1]!, 'pass'),
          result('z-differs', cells[0]!, 'error'),
          result('z-differs', cells[1]!, 'pass'),
        ],
        cells,
      ),
    );
    const table = md.slice(md.indexOf('## Scenario x cell'));
    assert.match(table, /1 of 2 scenarios have different verdicts across cells/);
    const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| scenario'));
    assert.deepEqual(rows.slice(0, 2), ['| **z-differs** | error | pass |', '| a-same | pass | pass |']);
  });

  it('has no matrix table for one cell, shows probe counts, and escapes pipes in reasons', async () => {
    const md = await renderMarkdown(
      run(
        [
          result('s', 'vm', 'pass', { propagation: 3, copies: 4, fdWrites: 1, fdChecks: 2, notes: [] }),
          result('t', 'vm', 'error'),
        ],
        ['vm'],
      ),
    );
    assert.ok(!md.includes('Scenario x cell'));
    assert.match(md, /\| s \| vm \| pass \| 4\.2 s \| 3 mounts \(4 copies\), 1 fd \| restored topology/);
    assert.match(md, /\| t \| vm \| error \| 4\.2 s \| - \| criu restore failed \\\| badly \|/);
  });

  it("shows a container cell's preflight in the cells table and says why a refused cell ran no scenarios", async () => {
    const ok = {
      ...vmCell('container-a'),
      facts: {
        ...vmCell('x').facts,
        target: 'container' as const,
        preflight: 'ok in 0.6 s (dump 0.4 s, restore 0.2 s)',
      },
    };
    const refused = {
      ...vmCell('container-b'),
      error: 'CRIU preflight failed: criu dump of a sleeping task did not finish in 10 s and was killed',
    };
    const md = await renderMarkdown(
      runResult([result('s', 'container-a', 'pass'), result('s', 'container-b', 'error')], [ok, refused]),
    );
    assert.match(
      md,
      /\| container-a \| container \| [^|]+ \| [^|]*\(preflight ok in 0\.6 s \(dump 0\.4 s, restore 0\.2 s\)\) \|/,
    );
    assert.match(
      md,
      new RegExp(
        String.raw`- \*\*container-b\*\* ran no more scenarios: ` +
          'CRIU preflight failed: criu dump of a sleeping task did not finish in 10 s',
      ),
    );
  });

  it('draws the before and after trees of a failing scenario from its captures', async () => {
    const dir = scratchDir('md-trees');
    const cap = (master: boolean) =>
      [
        '@task init pid=1 mntns=1 cwd=/ root=/',
        '1 0 0:20 / / rw - overlay mountlab-root rw',
        '2 1 0:30 / /w rw shared:5 - tmpfs w rw',
        `3 1 0:30 / /c rw${master ? ' master:5' : ''} - tmpfs w rw`,
        '',
      ].join('\n');
    writeFileSync(join(dir, 'b.capture'), cap(true));
    writeFileSync(join(dir, 'a.capture'), cap(false));
    const failing = result('chain', 'vm', 'fail', undefined, {
      differences: [
        {
          kind: 'master-lost',
          mount: '/c',
          sentence: '/c was a slave of the peer group of /w; after restore it is private',
        },
      ],
      artifacts: { 'before.capture': 'b.capture', 'after.capture': 'a.capture' },
    });
    const md = await renderMarkdown(run([failing], ['vm']), (r) => topologies(dir, r));
    const section = md.slice(md.indexOf('## chain on vm: fail'));
    assert.match(
      section,
      new RegExp(
        [
          'Before the dump:',
          '',
          '```',
          'ns#1: init',
          '/ +overlay mountlab-root',
          '├─ c +tmpfs w +master:A',
          '└─ w +tmpfs w +shared:A',
          '```',
        ].join('\n'),
      ),
    );
    assert.match(
      section,
      /After the restore:\n\n```\nns#1: init\n\/ +overlay mountlab-root\n├─ c +tmpfs w\n└─ w +tmpfs w +shared:A\n```/,
    );
  });
});

describe('summary.md with --repeat', () => {
  it("lists flaky scenarios with every attempt's verdict", async () => {
    const md = await renderMarkdown(
      runResult([
        scenarioResult({
          scenario: 'wobbly',
          outcome: 'fail',
          reason: 'flaky (pass, fail, pass): extra mount /x',
          flaky: true,
          attempts: [
            { outcome: 'pass', reason: 'identical', durationMs: 1 },
            { outcome: 'fail', reason: 'extra mount /x', durationMs: 1 },
            { outcome: 'pass', reason: 'identical', durationMs: 1 },
          ],
        }),
        scenarioResult({
          scenario: 'steady',
          outcome: 'pass',
          flaky: false,
          attempts: [
            { outcome: 'pass', reason: 'identical', durationMs: 1 },
            { outcome: 'pass', reason: 'identical', durationMs: 1 },
          ],
        }),
      ]),
    );
    assert.match(
      md,
      new RegExp(
        [
          String.raw`## Flaky \(1\)`,
          '',
          String.raw`Attempts of these scenarios disagreed \(--repeat\); each verdict in order:`,
          '',
          String.raw`- wobbly on vm-debian-6\.12-criu-4\.1\.1: pass, fail, pass`,
          '',
        ].join('\n'),
      ),
    );
    assert.doesNotMatch(md, /- steady on/);
  });
});

describe('summary.md cells', () => {
  it('give boot-to-ready and the median reset between scenarios', async () => {
    const cell = vmCell('vm-debian-6.12-criu-4.1.1');
    const withCleanup = (scenario: string, ms: number) =>
      scenarioResult({
        scenario,
        outcome: 'pass',
        phases: [
          { phase: 'setup', ms: 5000, ok: true },
          { phase: 'cleanup', ms, ok: true },
        ],
      });
    const md = await renderMarkdown(
      runResult([withCleanup('a', 800), withCleanup('b', 1200), withCleanup('c', 900)], [cell]),
    );
    assert.match(
      md,
      /\| vm-debian-6\.12-criu-4\.1\.1 \| vm \| 6\.12\.0 \| 4\.1\.1 \| - \| 7\.0 s \| 0\.9 s \(median of 3\) \|/,
    );
  });
});
