import { strict as assert } from 'node:assert';
import { parseScenario } from '../scenario/load.js';
import type { ExecResult } from '../target/exec.js';
import type { GuestClient } from '../target/guest-client.js';
import { fakeGuestClient } from '../target/guest-client.testutil.js';
import type { StartedTarget, Target } from '../target/target.js';
import type { TargetFacts } from '../results/result.js';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { GuestPool } from './guest-pool.js';

class FakeGuest implements StartedTarget {
  readonly facts: TargetFacts = {
    target: 'vm',
    kernel: '6.12',
    criu: '4.1.1',
    criuCheck: 'ok',
    utilLinux: '2',
    readyMs: 1,
  };
  disposed = false;
  ran = 0;
  client: GuestClient;
  constructor(cleanupFails: boolean) {
    this.client = fakeGuestClient({
      build: async (plan) => {
        this.ran++;
        return fakeGuestClient().build(plan);
      },
      // A cleanup that leaves something behind retires the guest (execute-scenario.ts).
      ...(cleanupFails ? { cleanup: async () => ({ ok: false, code: 1, stderr: 'busy' }) } : {}),
    });
  }
  get alive() {
    return !this.disposed;
  }
  async exec(): Promise<ExecResult> {
    throw new Error('not used');
  }
  async writeFile(): Promise<void> {}
  consoleMark() {
    return 0;
  }
  consoleSince() {
    return '';
  }
  async [Symbol.asyncDispose]() {
    this.disposed = true;
  }
}

const scenario = parseScenario('name: s\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n', 's.yaml');

describe('guest pool (mountlab reduce)', () => {
  after(removeScratch);

  it('keeps at most -j guests, reuses them between scenarios, and ends every one', async () => {
    const started: FakeGuest[] = [];
    const target: Target = {
      kind: 'vm',
      describe: 'fake',
      start: async () => {
        const g = new FakeGuest(false);
        started.push(g);
        return g;
      },
    };
    {
      await using pool = new GuestPool({
        cell: { id: 'cell', target },
        jobs: 2,
        runDir: scratchDir('guest-pool'),
        signal: new AbortController().signal,
        probes: false,
        guestClient: (t) => (t as FakeGuest).client,
      });
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => pool.run(scenario, `s~try${n}`)));
      assert.deepEqual(
        results.map((r) => r.outcome),
        ['pass', 'pass', 'pass', 'pass', 'pass'],
      );
      assert.equal(started.length, 2);
      assert.equal(started[0]!.ran + started[1]!.ran, 5);
      assert.ok(started.every((g) => !g.disposed));
    }
    assert.ok(started.every((g) => g.disposed));
  });

  it('replaces a guest that is no longer trusted', async () => {
    const started: FakeGuest[] = [];
    const target: Target = {
      kind: 'vm',
      describe: 'fake',
      start: async () => {
        const g = new FakeGuest(started.length === 0);
        started.push(g);
        return g;
      },
    };
    await using pool = new GuestPool({
      cell: { id: 'cell', target },
      jobs: 1,
      runDir: scratchDir('guest-pool-2'),
      signal: new AbortController().signal,
      probes: false,
      guestClient: (t) => (t as FakeGuest).client,
    });
    await pool.run(scenario, 'a');
    await pool.run(scenario, 'b');
    assert.equal(started.length, 2);
    assert.ok(started[0]!.disposed, 'the dirty guest was ended at once');
    assert.equal(started[1]!.ran, 1);
  });
});
