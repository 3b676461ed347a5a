import { strict as assert } from 'node:assert';
import { renderJson } from './render-json.js';
import { renderedDiff } from './runs.testutil.js';

describe('run-diff: JSON', () => {
  const { x } = renderedDiff();

  it('JSON: the categories with both sides of each change', () => {
    const j = JSON.parse(renderJson(x)) as {
      format: string;
      counts: Record<string, number>;
      changes: { category: string; baseline?: { outcome: string }; new?: { outcome: string; error?: unknown } }[];
      exitCode: number;
      new: { note: string };
    };
    assert.equal(j.format, 'mountlab-run-diff/1');
    assert.equal(j.exitCode, 1);
    assert.equal(j.counts.regression, 1);
    assert.equal(j.counts.unchanged, 1);
    assert.deepEqual(
      j.changes.map((c) => [c.category, c.baseline?.outcome, c.new?.outcome]),
      [
        ['regression', 'pass', 'error'],
        ['fix', 'fail', 'pass'],
        ['changed', 'error', 'fail'],
      ],
    );
    assert.deepEqual(j.changes[0]?.new?.error, { phase: 'restore', message: 'criu restore failed (exit 1)' });
    assert.match(j.new.note, /newest of 2 runs/);
  });
});
