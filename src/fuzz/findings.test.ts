import { strict as assert } from 'node:assert';
import { parseScenario } from '../scenario/load.js';
import type { ScenarioResult } from '../results/result.js';
import { campaignSignature, classify, FindingBook, knownBugOf, knownBugsOf, type Observation } from './findings.js';

const facts = { kernel: '6.12.57', criu: '4.1.1' };

function result(over: Partial<ScenarioResult>): ScenarioResult {
  return {
    scenario: 'fuzz-1-2',
    mountEngine: 'v2',
    file: 'x.yaml',
    cell: 'vm-a',
    outcome: 'error',
    reason: '',
    expected: 'identical',
    phases: [],
    differences: [],
    filtered: [],
    leaks: [],
    artifacts: {},
    durationMs: 1,
    ...over,
  };
}

const dumpError = (line: string) =>
  result({
    reason: `criu dump failed (exit 1): ${line}`,
    error: { phase: 'dump', message: `criu dump failed (exit 1): ${line}` },
  });

function corpus(reason: string, extra = '') {
  const yaml =
    'name: k\ndescription: d\nsteps: [{mkdir: /w}]\nexpect:\n  known-bug:\n' +
    '    url: https://github.com/checkpoint-restore/criu/issues/1\n' +
    `    reason: "${reason}"\n${extra}`;
  return knownBugsOf([parseScenario(yaml, 'k.yaml')]);
}

describe('fuzz findings', () => {
  it('labels a failure a corpus known-bug matches as known, within its ranges', () => {
    const bugs = corpus('Open files on overmounted mounts', '    criu: "<4.2"\n');
    const r = dumpError(
      'Error (criu/files-reg.c:1796): Open files on overmounted mounts are not supported yet; mount=42',
    );
    assert.equal(classify(r, facts, bugs)?.class, 'known');
    assert.equal(classify(r, { ...facts, criu: '4.2' }, bugs)?.class, 'new');
  });

  it("reads a known-bug pattern's numbers as any number: the corpus's fd 11 is a generated scenario's fd 10", () => {
    const bugs = corpus('fd 11 .*O_DIRECTORY dropped');
    const r = result({
      outcome: 'fail',
      reason: 'task init fd 10 (/f): open flags changed: O_DIRECTORY dropped',
      differences: [
        { kind: 'fd-flags-changed', sentence: 'task init fd 10 (/f): open flags changed: O_DIRECTORY dropped' },
      ],
    });
    assert.equal(knownBugOf(r, facts, bugs)?.scenario, 'k');
    assert.equal(knownBugOf(r, facts, corpus('fd 11 .*O_APPEND dropped')), undefined);
  });

  it('keeps set-up failures apart: the generator did wrong, not CRIU', () => {
    const r = result({
      reason: 'setup failed at step 3',
      error: { phase: 'setup', message: 'setup failed at step 3 (bind /a -> /b): EINVAL' },
    });
    assert.equal(classify(r, facts, [])?.class, 'not-built');
    assert.equal(classify(result({ outcome: 'pass' }), facts, []), undefined);
  });

  it('dedupes by signature: numbers masked, counts and cells kept, the first sighting stays', () => {
    const book = new FindingBook();
    const obs = (line: string, cell: string, index: number): Observation => {
      const c = classify(dumpError(line), facts, [])!;
      return { ...c, cell, index, scenarioSeed: index * 7, reason: line, atMs: index };
    };
    const where = { scenarioFile: 'f', logs: 'l' };
    const a = book.record(obs("Error (criu/mount.c:1234): Can't mount 42", 'vm-a', 1), where);
    const b = book.record(obs("Error (criu/mount.c:1234): Can't mount 57", 'vm-b', 2), where);
    const c = book.record(obs("Error (criu/mount.c:999): Can't mount 57", 'vm-a', 3), where);
    assert.deepEqual([a.first, b.first, c.first], [true, false, true]);
    assert.equal(book.all.length, 2);
    assert.deepEqual(
      { count: a.finding.count, cells: a.finding.cells, index: a.finding.index },
      {
        count: 2,
        cells: ['vm-a', 'vm-b'],
        index: 1,
      },
    );
    assert.equal(a.finding.reduction.status, 'not-reduced-yet');
    const other = new FindingBook();
    other.record(obs("Error (criu/mount.c:1234): Can't mount 1", 'vm-c', 9), where);
    book.merge(other.all);
    assert.equal(book.all.find((f) => f.id === a.finding.id)!.count, 3);
  });

  it("reads the generator's own names in a signature as any: one bug whatever directory or task it hit", () => {
    const text = (t: string) => campaignSignature({ kind: 'criu', phase: 'dump', text: t }).text;
    assert.equal(
      text('Open files on overmounted mounts are not supported yet; mount=N fd=N path=/f/dN/fN'),
      text('Open files on overmounted mounts are not supported yet; mount=N fd=N path=/f/sN'),
    );
    assert.equal(text("Can't lookup mount=N for fd=N path=/sN"), "Can't lookup mount=N for fd=N path=PATH");
    assert.equal(campaignSignature({ kind: 'difference', text: 'fd-flags-changed tN' }).text, 'fd-flags-changed TASK');
    assert.equal(
      text("Can't re-create deleted file /tmp/.criu.mntns.VFNtWC/mnt-N/sN/fN: File exists"),
      text("Can't re-create deleted file /tmp/.criu.mntns.aB3dEf/mnt-N/dN: File exists"),
    );
    // CRIU's own paths and words stay.
    assert.equal(text('Error (criu/mount.c:N): /proc/self/mountinfo'), 'Error (criu/mount.c:N): /proc/self/mountinfo');
  });
});
