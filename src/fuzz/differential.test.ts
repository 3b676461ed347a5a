import { strict as assert } from 'node:assert';
import type { ScenarioResult } from '../results/result.js';
import { compareCells } from './differential.js';

const r = (cell: string, outcome: ScenarioResult['outcome'], error?: ScenarioResult['error']): ScenarioResult => ({
  scenario: 's',
  mountEngine: 'v2',
  file: 's.yaml',
  cell,
  outcome,
  reason: error?.message ?? 'ok',
  expected: 'identical',
  phases: [],
  differences: [],
  filtered: [],
  leaks: [],
  artifacts: {},
  durationMs: 1,
  ...(error ? { error } : {}),
});

describe('fuzz differential', () => {
  const broke = {
    phase: 'restore' as const,
    message: "criu restore failed (exit 1): Error (criu/mount.c:12): Can't mount",
  };

  it('is a regression in B when A passes and B fails, and fixed in B the other way round', () => {
    const reg = compareCells([
      { cell: 'A', result: r('A', 'pass') },
      { cell: 'B', result: r('B', 'error', broke) },
    ]);
    assert.deepEqual(
      reg.map((d) => [d.class, d.passed, d.failed, d.signature.phase]),
      [['regression', 'A', 'B', 'restore']],
    );
    const fixed = compareCells([
      { cell: 'A', result: r('A', 'error', broke) },
      { cell: 'B', result: r('B', 'pass') },
    ]);
    assert.deepEqual(
      fixed.map((d) => [d.class, d.passed, d.failed]),
      [['fixed', 'B', 'A']],
    );
  });

  it('says nothing when both agree, or when one side did not build or was skipped', () => {
    const setup = { phase: 'setup' as const, message: 'setup failed' };
    for (const [a, b] of [
      [r('A', 'pass'), r('B', 'pass')],
      [r('A', 'error', broke), r('B', 'error', broke)],
      [r('A', 'pass'), r('B', 'error', setup)],
      [r('A', 'skip'), r('B', 'error', broke)],
    ] as const)
      assert.deepEqual(
        compareCells([
          { cell: 'A', result: a },
          { cell: 'B', result: b },
        ]),
        [],
      );
  });
});
