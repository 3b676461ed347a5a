import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import type { Outcome } from '../results/outcome.js';
import type { ScenarioResult } from '../results/result.js';
import { runResult as run, scenarioResult } from '../results/results.testutil.js';
import { renderTap } from './tap.js';

const result = (
  scenario: string,
  outcome: Outcome,
  reason: string,
  extra: Partial<ScenarioResult> = {},
): ScenarioResult => scenarioResult({ scenario, outcome, reason, ...extra });

describe('TAP report', () => {
  const tap = renderTap(
    run([
      result('a', 'pass', 'restored topology is identical up to renumbering'),
      result('b', 'skip', 'needs kernel >=6.4;\nthis guest runs 6.1'),
      result('c', 'xfail', 'known bug (url): O_DIRECTORY dropped'),
      result('d#1', 'fail', '/c: master lost', {
        differences: [{ kind: 'master-lost', sentence: '/c was a slave of /b: "quoted" # not a directive' }],
      }),
      result('e', 'error', 'criu dump failed', {
        error: { phase: 'dump', message: 'criu dump failed', excerpt: 'Error (criu/mount.c:1): x\nError: y' },
      }),
      result('f', 'xpass', 'known bug no longer reproduces'),
    ]),
  );
  const lines = tap.split('\n');

  it('has a version, a plan and one test point per result, with directives for skip and xfail', () => {
    assert.equal(lines[0], 'TAP version 13');
    assert.equal(lines[1], '1..6');
    assert.deepEqual(
      lines.filter((l) => /^(not )?ok \d/.test(l)),
      [
        'ok 1 - vm-debian-6.12-criu-4.1.1: a',
        'ok 2 - vm-debian-6.12-criu-4.1.1: b # SKIP needs kernel >=6.4; this guest runs 6.1',
        'not ok 3 - vm-debian-6.12-criu-4.1.1: c # TODO known bug (url): O_DIRECTORY dropped',
        'not ok 4 - vm-debian-6.12-criu-4.1.1: d\\#1',
        'not ok 5 - vm-debian-6.12-criu-4.1.1: e',
        'not ok 6 - vm-debian-6.12-criu-4.1.1: f',
      ],
    );
    assert.match(lines[lines.length - 2]!, /^# mountlab run r1: 1 pass, 1 fail, 1 error, 1 skip, 1 xfail, 1 xpass$/);
  });

  it('puts a YAML block under each failure that parses back to the reason, the differences and the log excerpt', () => {
    const blocks = tap
      .split('\n  ---\n')
      .slice(1)
      .map((b) => parse(b.slice(0, b.indexOf('\n  ...')).replace(/^ {2}/gm, '')) as Record<string, unknown>);
    assert.equal(blocks.length, 3);
    assert.deepEqual(blocks[0]!.differences, ['/c was a slave of /b: "quoted" # not a directive']);
    assert.deepEqual(blocks[1]!.error, {
      phase: 'dump',
      message: 'criu dump failed',
      excerpt: 'Error (criu/mount.c:1): x\nError: y',
    });
    assert.equal(blocks[2]!.outcome, 'xpass');
    assert.match(String(blocks[2]!.message), /no longer reproduces/);
  });
});
