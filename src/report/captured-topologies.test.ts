import { strict as assert } from 'node:assert';
import { scenarioResult } from '../results/results.testutil.js';
import { capturedTopologies, type ReadArtifact } from './captured-topologies.js';

describe('captured topologies', () => {
  const capture = [
    '@task init pid=1 mntns=1 cwd=/ root=/',
    '1 0 0:20 / / rw - overlay mountlab-root rw',
    '2 1 0:30 / /w rw shared:5 - tmpfs w rw',
    '',
  ].join('\n');
  const files: Record<string, string> = { 'c/s/before.capture': capture, 'c/s/after.capture': 'not a capture\n' };
  const read: ReadArtifact = async (rel) => files[rel];

  it('reads each capture a result saved; one that is missing, unreadable or unparsable is left out', async () => {
    const artifacts = { 'before.capture': 'c/s/before.capture', 'after.capture': 'c/s/after.capture' };
    const both = scenarioResult({ scenario: 's', outcome: 'fail', artifacts });
    const t = await capturedTopologies(both, read);
    assert.deepEqual(
      t.before?.mounts.map((m) => m.label),
      ['/', '/w'],
    );
    assert.equal(t.after, undefined);
    const gone = scenarioResult({ scenario: 's', outcome: 'error', artifacts: { 'before.capture': 'c/s/gone' } });
    assert.deepEqual(await capturedTopologies(gone, read), {});
  });
});
