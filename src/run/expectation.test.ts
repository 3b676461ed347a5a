import { strict as assert } from 'node:assert';
import type { TargetFacts } from '../results/result.js';
import type { Scenario } from '../scenario/scenario.generated.js';
import { logPattern } from '../scenario/log-pattern.js';
import {
  applyKnownBug,
  describeExpectation,
  expectationOf,
  judgePhase,
  unmetFailure,
  type Expectation,
} from './expectation.js';

const facts: TargetFacts = {
  target: 'vm',
  kernel: '6.12.107+deb13-amd64',
  criu: '4.1.1',
  criuCheck: 'ok',
  utilLinux: '2.41',
  readyMs: 0,
};
const bug: Expectation = {
  kind: 'known-bug',
  upstream: { url: 'https://example.org/bug/1' },
  reason: logPattern('cr_link'),
  criu: '<=4.1.1',
};

describe('known-bug expectations', () => {
  it('a matching failure is xfail', () => {
    const v = applyKnownBug(bug, facts, { outcome: 'fail', reason: 'fd 20 now /w/a.cr_link', sentences: [] });
    assert.equal(v.outcome, 'xfail');
  });
  it('a pass is xpass, telling the user to update the expectation', () => {
    const v = applyKnownBug(bug, facts, { outcome: 'pass', reason: 'identical', sentences: [] });
    assert.equal(v.outcome, 'xpass');
    assert.match(v.reason, /update the expectation/);
  });
  it('another failure keeps its verdict and says it is not the known bug', () => {
    const v = applyKnownBug(bug, facts, { outcome: 'error', reason: 'criu dump crashed', sentences: [] });
    assert.equal(v.outcome, 'error');
    assert.match(v.reason, /not the known bug/);
  });
  it('outside the version range the scenario is expected identical', () => {
    const v = applyKnownBug(
      bug,
      { ...facts, criu: '4.2' },
      { outcome: 'fail', reason: 'fd 20 now /w/a.cr_link', sentences: [] },
    );
    assert.equal(v.outcome, 'fail');
  });
  it('a bug with no upstream report says so, and what was searched, in the verdict and the description', () => {
    const none: Expectation = { ...bug, upstream: { searched: "criu issues and commits for 'cr_link', 2026-12-03" } };
    const v = applyKnownBug(none, facts, { outcome: 'fail', reason: 'fd 20 now /w/a.cr_link', sentences: [] });
    assert.equal(
      v.reason,
      "known bug (no upstream report found; searched criu issues and commits for 'cr_link', 2026-12-03): " +
        'fd 20 now /w/a.cr_link',
    );
    assert.match(
      applyKnownBug(none, facts, { outcome: 'pass', reason: 'identical', sentences: [] }).reason,
      /^known bug no longer reproduces \(no upstream report found; searched criu issues/,
    );
    assert.equal(
      describeExpectation(none),
      "known bug (no upstream report found; searched criu issues and commits for 'cr_link', 2026-12-03) " +
        '(/cr_link/, criu <=4.1.1)',
    );
    assert.equal(describeExpectation(bug), 'known bug (https://example.org/bug/1) (/cr_link/, criu <=4.1.1)');
  });
  it('expectationOf carries the url, or what was searched', () => {
    const s = (k: object): Scenario => ({
      name: 'n',
      description: 'd',
      steps: [{ mkdir: '/a' }],
      expect: { 'known-bug': { reason: 'x', ...k } },
    });
    const a = expectationOf(s({ url: 'https://example.org/bug/2' }));
    assert.ok(a.kind === 'known-bug');
    assert.deepEqual(a.upstream, { url: 'https://example.org/bug/2' });
    const b = expectationOf(s({ upstream: 'none-found', searched: 'criu issues, 2026-12-03' }));
    assert.ok(b.kind === 'known-bug');
    assert.deepEqual(b.upstream, { searched: 'criu issues, 2026-12-03' });
  });
  it('fixed-by: a git build is judged by whether its history has the fix, not by its version', () => {
    const fixed: Expectation = { ...bug, criu: '<4.2', fixedBy: '88cb552f6' } as Expectation;
    const git = (has: boolean | undefined) => ({
      ...facts,
      criu: '4.2',
      criuBuild: {
        kind: 'git' as const,
        path: '/t',
        build: 'b',
        ...(has === undefined ? {} : { fixes: { '88cb552f6': has } }),
      },
    });
    const failed = { outcome: 'fail' as const, reason: 'fd 20 now /w/a.cr_link', sentences: [] };
    // v4.2 with the fix reverted calls itself 4.2, outside the range: its history says the bug is there.
    assert.equal(applyKnownBug(fixed, git(false), failed).outcome, 'xfail');
    assert.equal(applyKnownBug(fixed, git(true), failed).outcome, 'fail');
    // A tree that does not know the commit, and Debian's builds, fall back to the range.
    assert.equal(applyKnownBug(fixed, git(undefined), failed).outcome, 'fail');
    assert.equal(applyKnownBug(fixed, { ...facts, criu: '4.1.1' }, failed).outcome, 'xfail');
  });
  it('matches any difference sentence, not only the first', () => {
    const v = applyKnownBug(bug, facts, {
      outcome: 'fail',
      reason: 'flags changed',
      sentences: ['flags changed', 'path is /w/a.cr_link'],
    });
    assert.equal(v.outcome, 'xfail');
  });
});

describe('fail-expectations: judged from what criu did', () => {
  const scenario = (expect: Scenario['expect']): Scenario => ({
    name: 'n',
    description: 'd',
    steps: [{ mkdir: '/a' }],
    expect,
  });
  const failed = (log: string) => ({
    ok: false,
    failure: { kind: 'failed', headline: 'criu failed (exit 1)' },
    log,
    stderr: '',
  });
  const either = expectationOf(scenario({ fails: "Can't mount" }), 'v2', facts);

  it('fails (either phase): a dump that fails matching is a pass, and so is a restore that fails matching', () => {
    assert.deepEqual(judgePhase(either, 'dump', failed("Error: Can't mount at ./a")), {
      outcome: 'pass',
      reason: "criu dump failed as expected (matched /Can't mount/)",
    });
    assert.equal(judgePhase(either, 'restore', failed("Can't mount"))?.outcome, 'pass');
    assert.equal(describeExpectation(either), "fails /Can't mount/");
  });

  it('fails: a failure that does not match is a fail, a crash an error, success in both phases a fail', () => {
    assert.match(
      judgePhase(either, 'restore', failed('other'))!.reason,
      /^criu restore failed, but no log line matched \/Can't mount\//,
    );
    assert.equal(
      judgePhase(either, 'dump', {
        ...failed("Can't mount"),
        failure: { kind: 'crashed', headline: 'criu dump crashed' },
      })!.outcome,
      'error',
    );
    assert.equal(judgePhase(either, 'dump', { ok: true, log: '', stderr: '' }), undefined);
    assert.equal(unmetFailure(either), 'expected dump or restore to fail, but dump and restore succeeded');
  });

  it('dump-fails is not met by a failing restore, nor restore-fails by a failing dump (both errors, as before)', () => {
    const dump = expectationOf(scenario({ 'dump-fails': 'x' }), 'v2', facts);
    const restore = expectationOf(scenario({ 'restore-fails': 'x' }), 'v2', facts);
    assert.equal(judgePhase(dump, 'restore', failed('x'))!.outcome, 'error');
    assert.equal(judgePhase(restore, 'dump', failed('x'))!.outcome, 'error');
    assert.equal(judgePhase(restore, 'restore', failed('x'))!.outcome, 'pass');
    assert.equal(unmetFailure(dump), 'expected dump to fail, but dump and restore succeeded');
  });

  it('outside its kernel or criu range a fail-expectation does not apply: the scenario is expected identical', () => {
    const ranged = scenario({ 'restore-fails': 'x', kernel: '>=6.13', criu: '>=4.1' });
    const out = expectationOf(ranged, 'v2', facts);
    assert.equal(out.kind, 'identical');
    assert.equal(
      describeExpectation(out),
      'identical (restore-fails applies on kernel >=6.13, criu >=4.1; this is kernel 6.12.107+deb13-amd64, criu 4.1.1)',
    );
    assert.equal(unmetFailure(out), undefined);
    assert.equal(judgePhase(out, 'restore', failed('x'))!.outcome, 'error');
    assert.equal(expectationOf(ranged, 'v2', { ...facts, kernel: '6.13.2' }).kind, 'fails');
    assert.equal(expectationOf(scenario({ fails: 'x', criu: '<4.1' }), 'v2', facts).kind, 'identical');
  });
});

describe('expect: dropped', () => {
  const scenario = (expect: Scenario['expect']) => ({ name: 't', description: 'd', steps: [], expect }) as Scenario;

  it('is identical but for the listed mounts, under either engine and on any kernel', () => {
    const x = expectationOf(scenario({ dropped: ['/auto', '/net'] }), 'compat', facts);
    assert.deepEqual(x, { kind: 'identical', dropped: ['/auto', '/net'] });
    assert.equal(describeExpectation(x), 'identical but for /auto, /net, which CRIU drops');
    assert.equal(unmetFailure(x), undefined);
  });

  it('leaves the plain identical expectation as it was', () => {
    assert.deepEqual(expectationOf(scenario('identical')), { kind: 'identical' });
    assert.equal(describeExpectation({ kind: 'identical' }), 'identical');
  });
});
