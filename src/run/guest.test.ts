import { strict as assert } from 'node:assert';
import type { StartedTarget } from '../target/target.js';
import { Guest } from './guest.js';

/** Only `alive` matters to the runner's judgement. */
const target = (state: { alive: boolean }): StartedTarget => ({
  facts: { target: 'vm', kernel: '6.12', criu: '4.1.1', criuCheck: 'ok', utilLinux: '2.41', readyMs: 1 },
  get alive() {
    return state.alive;
  },
  exec: () => Promise.reject(new Error('not used')),
  writeFile: () => Promise.reject(new Error('not used')),
  consoleMark: () => 0,
  consoleSince: () => '',
  async [Symbol.asyncDispose]() {},
});

describe('guest', () => {
  it('is usable until retired, and keeps the first reason it was retired for', () => {
    const g = new Guest(target({ alive: true }));
    assert.equal(g.usable, true);
    assert.equal(g.retiredBecause, undefined);
    g.retire('kernel trouble on the console');
    g.retire('left dirty: mount:/x');
    assert.equal(g.usable, false);
    assert.equal(g.retiredBecause, 'kernel trouble on the console');
  });

  it('is not usable once its target stops answering, though nobody retired it', () => {
    const state = { alive: true };
    const g = new Guest(target(state));
    state.alive = false;
    assert.equal(g.usable, false);
    assert.equal(g.retiredBecause, undefined);
  });
});
