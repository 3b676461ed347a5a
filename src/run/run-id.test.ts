import { strict as assert } from 'node:assert';
import { newRunId } from './run-id.js';

describe('run ids', () => {
  it('are the UTC start time to the second and 4 hex digits, with an optional kind', () => {
    const at = new Date('2026-12-03T17:12:36.789Z');
    assert.match(newRunId(undefined, at), /^20261203-171236-[0-9a-f]{4}$/);
    assert.match(newRunId('merged', at), /^merged-20261203-171236-[0-9a-f]{4}$/);
    assert.match(newRunId('verify', at), /^verify-20261203-171236-[0-9a-f]{4}$/);
  });
});
