import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../scenario/load.js';
import type { ExecResult } from '../target/exec.js';
import type { GuestClient } from '../target/guest-client.js';
import { fakeGuestClient } from '../target/guest-client.testutil.js';
import type { StartedTarget, Target } from '../target/target.js';
import type { TargetFacts } from '../results/result.js';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { PreflightError } from '../errors.js';
import { runCorpus } from './runner.js';
import type { ScenarioResult } from '../results/result.js';

/**
 * A started target whose guest, through its typed client, builds, dumps and
 * restores every scenario with its topology intact (fakeGuestClient), and
 * whose console shows whatever `console` says. Tests replace client calls.
 */
class ScriptedGuest implements StartedTarget {
  readonly facts: TargetFacts = {
    target: 'vm',
    kernel: '6.12',
    criu: '4.1.1',
    criuCheck: 'ok',
    utilLinux: '2.41',
    readyMs: 1,
  };
  disposed = false;
  /** Its process or connection is gone, as a real target would notice. */
  dead = false;
  client: GuestClient = fakeGuestClient();
  constructor(private readonly console: string) {}
  get alive() {
    return !this.dead && !this.disposed;
  }
  async exec(): Promise<ExecResult> {
    throw new Error('not used: the runner talks to a guest through its client');
  }
  async writeFile(): Promise<void> {}
  consoleMark() {
    return 0;
  }
  consoleSince() {
    return this.console;
  }
  async [Symbol.asyncDispose]() {
    this.disposed = true;
  }
}

const viaClient = (t: StartedTarget): GuestClient => (t as ScriptedGuest).client;

describe('runner', () => {
  after(removeScratch);

  it('passes a scenario whose expected-dropped mount is gone after restore, and fails it when it is not', async () => {
    /** The tree (pid 100) has an automount on /auto; the restored one (pid 200) has it only when `keeps`. */
    class DroppingGuest extends ScriptedGuest {
      constructor(keeps: boolean) {
        super('');
        const plain = this.client;
        this.client = fakeGuestClient({
          capture: async (plan, pid) => {
            const r = await plain.capture(plan, pid);
            if (!r.ok || (pid === 200 && !keeps)) return r;
            return { ...r, text: `${r.text}2 1 0:22 / /auto rw - binfmt_misc binfmt_misc rw\n` };
          },
        });
      }
    }
    const scenario = parseScenario(
      'name: drops\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: {dropped: [/auto]}\n',
      'drops.yaml',
    );
    const verdicts: string[][] = [];
    for (const keeps of [false, true]) {
      const target: Target = { kind: 'vm', describe: 'scripted', start: async () => new DroppingGuest(keeps) };
      const run = await runCorpus([scenario], [{ id: 'cell', target }], {
        runId: 'r',
        probes: false,
        runDir: scratchDir('runner'),
        signal: new AbortController().signal,
        reporter: {},
        guestClient: viaClient,
      });
      const r = run.results[0]!;
      verdicts.push([r.outcome, r.reason, ...r.differences.map((d) => d.kind)]);
    }
    assert.deepEqual(verdicts, [
      ['pass', 'restored topology is identical up to renumbering, but for the mounts CRIU drops as expected: /auto'],
      [
        'fail',
        '/auto is expected to be dropped by CRIU (expect: dropped), but it is still mounted after restore',
        'mount-not-dropped',
      ],
    ]);
  });

  it('gives error on a kernel oops and runs the next scenario on a fresh guest', async () => {
    const consoles = [
      '[  12.0] Oops: general protection fault, probably for non-canonical address\n[  12.0] Call Trace:\n',
      '',
    ];
    const guests: ScriptedGuest[] = [];
    const target: Target = {
      kind: 'vm',
      describe: 'scripted',
      start: async () => {
        const g = new ScriptedGuest(consoles[guests.length] ?? '');
        guests.push(g);
        return g;
      },
    };
    const scenario = (name: string) =>
      parseScenario(`name: ${name}\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n`, `${name}.yaml`);
    const logs: string[] = [];
    const results: ScenarioResult[] = [];
    const run = await runCorpus([scenario('first'), scenario('second')], [{ id: 'cell', target }], {
      runId: 'r',
      guestClient: viaClient,
      probes: false,
      runDir: scratchDir('runner'),
      signal: new AbortController().signal,
      reporter: { onScenarioEnd: (r) => void results.push(r), onLog: (m) => void logs.push(m) },
    });
    assert.deepEqual(
      results.map((r) => [r.scenario, r.outcome]),
      [
        ['first', 'error'],
        ['second', 'pass'],
      ],
    );
    assert.match(results[0]!.reason, /^kernel oops: \[ {2}12\.0\] Oops: general protection fault/);
    assert.equal(guests.length, 2, 'a fresh guest for the second scenario');
    assert.ok(
      guests.every((g) => g.disposed),
      'every guest disposed',
    );
    assert.match(logs.join('\n'), /no longer trusted/);
    assert.equal(run.exitCode, 2);
  });

  it('skips, saying why, a scenario for another target or needing a path the guest lacks', async () => {
    const target: Target = { kind: 'vm', describe: 'scripted', start: async () => new ScriptedGuest('') };
    const s = (n: string, requires: string) =>
      parseScenario(
        `name: ${n}\ndescription: d\nrequires: ${requires}\nsteps: [{mkdir: /w}]\nexpect: identical\n`,
        `${n}.yaml`,
      );
    const run = await runCorpus(
      [
        s('elsewhere', '{targets: [container]}'),
        s('no-path', '{paths: [/proc/sys, /proc/nope]}'),
        s('here', '{targets: [vm], paths: [/proc/sys]}'),
      ],
      [{ id: 'cell', target }],
      {
        runId: 'r',
        guestClient: viaClient,
        probes: false,
        runDir: scratchDir('runner'),
        signal: new AbortController().signal,
        reporter: {},
      },
    );
    assert.deepEqual(
      run.results.map((r) => [r.scenario, r.outcome, r.reason]),
      [
        ['elsewhere', 'skip', 'runs only on the container target; this is vm'],
        ['no-path', 'skip', 'needs /proc/nope, which this guest (kernel 6.12) does not have'],
        ['here', 'pass', 'restored topology is identical up to renumbering'],
      ],
    );
  });

  it('runs each scenario once per flavour, NAME[uns] beside NAME; one that needs real root skips in uns', async () => {
    const target: Target = { kind: 'vm', describe: 'scripted', start: async () => new ScriptedGuest('') };
    const s = (n: string, extra: string) =>
      parseScenario(`name: ${n}\ndescription: d\n${extra}steps: [{mkdir: /w}]\nexpect: identical\n`, `${n}.yaml`);
    const run = await runCorpus(
      [s('both', ''), s('root-only', 'requires: {flavors: [ns]}\n')],
      [{ id: 'cell', target }],
      {
        runId: 'r',
        guestClient: viaClient,
        probes: false,
        runDir: scratchDir('runner'),
        signal: new AbortController().signal,
        reporter: {},
        flavors: ['ns', 'uns'],
      },
    );
    assert.deepEqual(
      run.results.map((r) => [r.scenario, r.outcome, r.reason]),
      [
        ['both', 'pass', 'restored topology is identical up to renumbering'],
        ['root-only', 'pass', 'restored topology is identical up to renumbering'],
        ['both[uns]', 'pass', 'restored topology is identical up to renumbering'],
        ['root-only[uns]', 'skip', 'runs only in the ns flavour; this run is uns'],
      ],
    );
  });

  it('keeps one guest for a whole corpus when nothing goes wrong', async () => {
    let starts = 0;
    const target: Target = {
      kind: 'vm',
      describe: 'scripted',
      start: async () => {
        starts++;
        return new ScriptedGuest('');
      },
    };
    const s = (n: string) =>
      parseScenario(`name: ${n}\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n`, `${n}.yaml`);
    const run = await runCorpus([s('a'), s('b'), s('c')], [{ id: 'cell', target }], {
      runId: 'r',
      guestClient: viaClient,
      probes: false,
      runDir: scratchDir('runner'),
      signal: new AbortController().signal,
      reporter: {},
    });
    assert.equal(starts, 1);
    assert.deepEqual(run.counts.pass, 3);
    assert.equal(run.exitCode, 0);
  });
});

describe('runner: stopAfter capture-before', () => {
  after(removeScratch);

  it('builds and captures, never dumps, and passes with before.capture saved', async () => {
    const asked: string[] = [];
    const guest = new ScriptedGuest('');
    const { capture, dump, restore } = guest.client;
    guest.client.capture = (...a) => {
      asked.push('capture');
      return capture(...a);
    };
    guest.client.dump = (...a) => {
      asked.push('dump');
      return dump(...a);
    };
    guest.client.restore = (...a) => {
      asked.push('restore');
      return restore(...a);
    };
    const target: Target = { kind: 'vm', describe: 'scripted', start: async () => guest };
    const run = await runCorpus(
      [parseScenario('name: b\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n', 'b.yaml')],
      [{ id: 'cell', target }],
      {
        runId: 'r',
        guestClient: viaClient,
        probes: true,
        runDir: scratchDir('runner'),
        signal: new AbortController().signal,
        reporter: {},
        stopAfter: 'capture-before',
      },
    );
    assert.deepEqual(
      run.results.map((r) => [r.outcome, r.reason]),
      [['pass', 'built and captured; stopped before the dump as asked']],
    );
    assert.ok(run.results[0]!.artifacts['before.capture']);
    assert.ok(asked.includes('capture') && !asked.includes('dump') && !asked.includes('restore'), asked.join(' '));
  });
});

describe('runner: what the guest runs', () => {
  after(removeScratch);

  it('keeps the program the guest got as artifacts: in words and as sent', async () => {
    const wires: string[] = [];
    const guest = new ScriptedGuest('');
    const setup = guest.client.setup;
    guest.client.setup = async (plan) => {
      wires.push(plan.program.wire);
      return setup(plan);
    };
    const runDir = scratchDir('runner-program');
    const run = await runCorpus(
      [parseScenario('name: b\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n', 'b.yaml')],
      [{ id: 'cell', target: { kind: 'vm', describe: 'scripted', start: async () => guest } }],
      {
        runId: 'r',
        guestClient: viaClient,
        probes: false,
        runDir,
        signal: new AbortController().signal,
        reporter: {},
      },
    );
    assert.equal(run.results[0]!.outcome, 'pass');
    const artifacts = run.results[0]!.artifacts;
    assert.deepEqual(
      Object.keys(artifacts).filter((a) => !a.endsWith('.log') && !a.endsWith('capture')),
      ['program.txt', 'plan.wire'],
    );
    assert.equal(wires.length, 1);
    assert.equal(readFileSync(join(runDir, artifacts['plan.wire']!), 'utf8'), wires[0]);
    assert.match(readFileSync(join(runDir, artifacts['program.txt']!), 'utf8'), /^ {2}step 1: mkdir \/w$/m);
  });
});

describe('runner: the last guest call', () => {
  after(removeScratch);

  it('probes and cleans up in one call, but probes apart when the same images are restored again', async () => {
    for (const twice of [false, true]) {
      const calls: string[] = [];
      const guest = new ScriptedGuest('');
      const c = guest.client;
      const { cleanup, probePropagation } = c;
      c.cleanup = async (plan) => {
        calls.push('cleanup');
        return cleanup(plan);
      };
      c.probePropagation = async (...a) => {
        calls.push('probe');
        return probePropagation(...a);
      };
      c.finish = async () => {
        calls.push('finish');
        return { probeMs: 1, cleanup: { ok: true, code: 0 }, cleanupMs: 7 };
      };
      const engine = twice ? 'engine: {restore-twice: true}\n' : '';
      const run = await runCorpus(
        [parseScenario(`name: l\ndescription: d\nsteps: [{mkdir: /w}]\n${engine}expect: identical\n`, 'l.yaml')],
        [{ id: 'cell', target: { kind: 'vm', describe: 'scripted', start: async () => guest } }],
        {
          runId: 'r',
          guestClient: viaClient,
          probes: true,
          runDir: scratchDir('runner-last-call'),
          signal: new AbortController().signal,
          reporter: {},
        },
      );
      const r = run.results[0]!;
      assert.equal(r.outcome, 'pass', r.reason);
      assert.deepEqual(calls, twice ? ['cleanup'] : ['finish']);
      const cleanupPhase = r.phases.find((p) => p.phase === 'cleanup');
      if (!twice) assert.equal(cleanupPhase?.ms, 7, 'the clean-up time is the one finish measured');
      else assert.ok(cleanupPhase);
    }
  });
});

describe('setup errors', () => {
  it("quote util-linux's message, not its dmesg footnote", async () => {
    const { lastMessage } = await import('./execute-scenario.js');
    assert.equal(
      lastMessage(
        'mount: /sys: sysfs already mounted on /sys.\n' +
          '       dmesg(1) may have more information after failed mount system call.\n',
      ),
      'mount: /sys: sysfs already mounted on /sys.',
    );
    assert.equal(lastMessage('one\ntwo\n'), 'two');
    assert.equal(lastMessage(''), '');
  });
});

describe('runner: parallel targets, shards, repeats', () => {
  after(removeScratch);
  const s = (n: string, steps = 1) =>
    parseScenario(
      `name: ${n}\ndescription: d\n` +
        `steps: [${Array.from({ length: steps }, (_, i) => `{mkdir: /w${i}}`).join(', ')}]\nexpect: identical\n`,
      `${n}.yaml`,
    );
  const opts = (extra: Partial<Parameters<typeof runCorpus>[2]> = {}): Parameters<typeof runCorpus>[2] => ({
    runId: 'r',
    guestClient: viaClient,
    probes: false,
    runDir: scratchDir('runner-par'),
    signal: new AbortController().signal,
    reporter: {},
    ...extra,
  });

  /** A guest whose every command takes a little while, counting how many guests are busy at once. */
  function slowTarget(state: { busy: number; peak: number; starts: number; guests: ScriptedGuest[] }): Target {
    return {
      kind: 'vm',
      describe: 'slow',
      start: async () => {
        state.starts++;
        const g = new ScriptedGuest('');
        // A guest is busy while any call of its own is in flight (the last call is opened during the engine's).
        let inFlight = 0;
        const slow =
          <A extends unknown[], R>(call: (...a: A) => Promise<R>) =>
          async (...a: A): Promise<R> => {
            if (inFlight++ === 0) state.busy++;
            state.peak = Math.max(state.peak, state.busy);
            await new Promise((r) => setTimeout(r, 5));
            if (--inFlight === 0) state.busy--;
            return call(...a);
          };
        const c = g.client;
        g.client = {
          ...c,
          setup: slow(c.setup),
          build: slow(c.build),
          engine: slow(c.engine),
          finish: slow(c.finish),
          capture: slow(c.capture),
          dump: slow(c.dump),
          restore: slow(c.restore),
          cleanup: slow(c.cleanup),
        };
        state.guests.push(g);
        return g;
      },
    };
  }

  it('-j 2 runs two guests at once, reports results in plan order and disposes every guest', async () => {
    const st = { busy: 0, peak: 0, starts: 0, guests: [] as ScriptedGuest[] };
    const names = ['a', 'b', 'c', 'd', 'e'];
    const run = await runCorpus(
      names.map((n) => s(n)),
      [{ id: 'cell', target: slowTarget(st) }],
      opts({ jobs: 2 }),
    );
    assert.equal(st.peak, 2, 'two guests busy at the same time');
    assert.equal(st.starts, 2, 'one guest per job, kept between scenarios');
    assert.deepEqual(
      run.results.map((r) => r.scenario),
      names,
    );
    assert.equal(run.counts.pass, 5);
    assert.ok(st.guests.every((g) => g.disposed));
  });

  it('--fresh-vm boots a guest for every scenario', async () => {
    const st = { busy: 0, peak: 0, starts: 0, guests: [] as ScriptedGuest[] };
    await runCorpus([s('a'), s('b'), s('c')], [{ id: 'cell', target: slowTarget(st) }], opts({ freshTarget: true }));
    assert.equal(st.starts, 3);
    assert.ok(st.guests.every((g) => g.disposed));
  });

  it("starts the longest scenarios first, by the last run's times, then by their size", async () => {
    const started: string[] = [];
    const st = { busy: 0, peak: 0, starts: 0, guests: [] as ScriptedGuest[] };
    const run = await runCorpus(
      [s('short'), s('big', 30), s('slow-last-time'), s('medium', 10)],
      [{ id: 'cell', target: slowTarget(st) }],
      opts({
        history: new Map([['slow-last-time', 60_000]]),
        reporter: { onScenarioStart: (n) => void started.push(n) },
      }),
    );
    assert.deepEqual(started, ['slow-last-time', 'big', 'medium', 'short']);
    assert.deepEqual(
      run.results.map((r) => r.scenario),
      ['short', 'big', 'slow-last-time', 'medium'],
    );
  });

  it(
    '--shard K/N: ' +
      'the shards cover every scenario × cell exactly once, and a cell with nothing to do is not started',
    async () => {
      const names = ['a', 'b', 'c', 'd', 'e'];
      const seen: string[] = [];
      for (let k = 1; k <= 3; k++) {
        const starts: string[] = [];
        const cell = (id: string): { id: string; target: Target } => ({
          id,
          target: {
            kind: 'vm',
            describe: id,
            start: async () => {
              starts.push(id);
              return new ScriptedGuest('');
            },
          },
        });
        const run = await runCorpus(
          names.map((n) => s(n)),
          [cell('c1'), cell('c2')],
          opts({ shard: { index: k, count: 3 } }),
        );
        seen.push(...run.results.map((r) => `${r.cell}/${r.scenario}`));
        assert.ok(run.results.length === 3 || run.results.length === 4, `shard ${k}: ${run.results.length}`);
        assert.deepEqual(
          run.cells.map((c) => c.id),
          [...new Set(run.results.map((r) => r.cell))],
        );
        assert.deepEqual(
          [...new Set(starts)],
          run.cells.map((c) => c.id),
        );
      }
      assert.deepEqual(seen.sort(), names.flatMap((n) => [`c1/${n}`, `c2/${n}`]).sort());
    },
  );

  it(
    '--repeat N: agreeing attempts are one result; ' + 'disagreeing ones are flaky, counted as the most severe',
    async () => {
      let captures = 0;
      const target: Target = {
        kind: 'vm',
        describe: 'flaky',
        start: async () => {
          const g = new ScriptedGuest('');
          const capture = g.client.capture;
          g.client.capture = async (plan, pid) => {
            const r = await capture(plan, pid);
            // Each attempt captures twice (before, after); the second attempt's restore grows a mount.
            if (r.ok && ++captures === 4) return { ...r, text: `${r.text}2 1 0:22 / /x rw - tmpfs x rw\n` };
            return r;
          };
          return g;
        },
      };
      const run = await runCorpus([s('wobbly')], [{ id: 'cell', target }], opts({ repeat: 3 }));
      const r = run.results[0]!;
      assert.equal(run.results.length, 1);
      assert.equal(r.flaky, true);
      assert.deepEqual(
        r.attempts?.map((a) => a.outcome),
        ['pass', 'fail', 'pass'],
      );
      assert.equal(r.outcome, 'fail');
      assert.match(r.reason, /^flaky \(pass, fail, pass\): /);
      assert.equal(run.exitCode, 1);
      // Each attempt kept its own artifacts.
      assert.notEqual(r.artifacts['after.capture'], undefined);
      assert.match(r.artifacts['after.capture']!, /attempt-2\/after\.capture$/);

      const steady = await runCorpus(
        [s('steady')],
        [{ id: 'cell', target: { kind: 'vm', describe: 'ok', start: async () => new ScriptedGuest('') } }],
        opts({ repeat: 3 }),
      );
      assert.equal(steady.results[0]!.flaky, false);
      assert.deepEqual(
        steady.results[0]!.attempts?.map((a) => a.outcome),
        ['pass', 'pass', 'pass'],
      );
      assert.equal(steady.results[0]!.outcome, 'pass');
    },
  );
});

describe('runner: an exception in the lab itself', () => {
  after(removeScratch);

  it('propagates, after every guest of every job is disposed', async () => {
    const guests: ScriptedGuest[] = [];
    const target: Target = {
      kind: 'vm',
      describe: 'scripted',
      start: async () => {
        const guest = new ScriptedGuest('');
        guests.push(guest);
        return guest;
      },
    };
    const s = (n: string) =>
      parseScenario(`name: ${n}\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n`, `${n}.yaml`);
    let ended = 0;
    await assert.rejects(
      runCorpus([s('a'), s('b'), s('c'), s('d')], [{ id: 'cell', target }], {
        runId: 'r',
        guestClient: viaClient,
        probes: false,
        runDir: scratchDir('runner-throw'),
        signal: new AbortController().signal,
        jobs: 2,
        reporter: {
          onScenarioEnd: () => {
            if (++ended === 2) throw new Error('a reporter bug');
          },
        },
      }),
      /a reporter bug/,
    );
    assert.equal(guests.length, 2);
    assert.ok(
      guests.every((g) => g.disposed),
      'both guests disposed',
    );
    assert.ok(ended <= 3, `${ended} scenarios ended: the other job took no new scenario after the error`);
  });
});

describe('runner: a guest left dirty', () => {
  after(removeScratch);

  it('is not used again: the next scenario gets a fresh guest, and the log says why', async () => {
    const guests: ScriptedGuest[] = [];
    const target: Target = {
      kind: 'vm',
      describe: 'scripted',
      start: async () => {
        const g = new ScriptedGuest('');
        // The first guest's cleanup finds a mount it could not remove.
        if (guests.length === 0)
          g.client.cleanup = async () => ({ ok: true, code: 0, dirty: 'mount:/run/mountlab/s1/root' });
        guests.push(g);
        return g;
      },
    };
    const s = (n: string) =>
      parseScenario(`name: ${n}\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n`, `${n}.yaml`);
    const logs: string[] = [];
    const run = await runCorpus([s('a'), s('b')], [{ id: 'cell', target }], {
      runId: 'r',
      guestClient: viaClient,
      probes: false,
      runDir: scratchDir('runner-dirty'),
      signal: new AbortController().signal,
      jobs: 1,
      reporter: { onLog: (m) => void logs.push(m) },
    });
    assert.deepEqual(
      run.results.map((r) => r.outcome),
      ['pass', 'pass'],
      'a dirty guest after a passing scenario does not change its verdict',
    );
    assert.equal(guests.length, 2);
    assert.match(
      logs.join('\n'),
      /cell: the guest is no longer trusted \(left dirty: mount:\/run\/mountlab\/s1\/root\); booting a fresh one/,
    );
  });
});

describe('runner: a guest that stops answering', () => {
  after(removeScratch);

  it('is not used again, though nobody retired it: the next scenario gets a fresh guest', async () => {
    const guests: ScriptedGuest[] = [];
    const target: Target = {
      kind: 'vm',
      describe: 'scripted',
      start: async () => {
        const g = new ScriptedGuest('');
        // The first guest's connection drops after its scenario cleaned up.
        if (guests.length === 0) {
          const cleanup = g.client.cleanup;
          g.client.cleanup = async (plan) => {
            const r = await cleanup(plan);
            g.dead = true;
            return r;
          };
        }
        guests.push(g);
        return g;
      },
    };
    const s = (n: string) =>
      parseScenario(`name: ${n}\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n`, `${n}.yaml`);
    const logs: string[] = [];
    const run = await runCorpus([s('a'), s('b')], [{ id: 'cell', target }], {
      runId: 'r',
      guestClient: viaClient,
      probes: false,
      runDir: scratchDir('runner-dead'),
      signal: new AbortController().signal,
      jobs: 1,
      reporter: { onLog: (m) => void logs.push(m) },
    });
    assert.deepEqual(
      run.results.map((r) => r.outcome),
      ['pass', 'pass'],
    );
    assert.equal(guests.length, 2);
    assert.ok(guests.every((g) => g.disposed));
    assert.match(logs.join('\n'), /cell: the guest is no longer trusted \(it stopped answering\); booting a fresh one/);
  });
});

describe('runner: a cell that cannot run CRIU', () => {
  after(removeScratch);
  const s = (n: string) =>
    parseScenario(`name: ${n}\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n`, `${n}.yaml`);

  /** A target whose guests' dumps hang (the guest's limit kills criu: exit 137) for the scenarios named. */
  const hanging = (hangs: ReadonlySet<string>, guests: ScriptedGuest[] = []): Target => ({
    kind: 'container',
    describe: 'scripted',
    start: async () => {
      const g = new ScriptedGuest('');
      const dump = g.client.dump;
      g.client.dump = async (plan, pid) =>
        hangs.has(plan.scenario)
          ? { code: 137, log: '(00.1) pie: 1: new_sp=0x7f ip 0x7f\n', stderr: '', durationMs: 120_000 }
          : dump(plan, pid);
      guests.push(g);
      return g;
    },
  });

  it(
    'stops sending scenarios after two dumps in a row hang: ' + 'the rest are errors naming the first, exit 2',
    async () => {
      const logs: string[] = [];
      const run = await runCorpus(
        [s('one'), s('two'), s('three'), s('four')],
        [{ id: 'c', target: hanging(new Set(['one', 'two'])) }],
        {
          runId: 'r',
          guestClient: viaClient,
          probes: false,
          runDir: scratchDir('runner-hang'),
          signal: new AbortController().signal,
          jobs: 1,
          reporter: { onLog: (m) => void logs.push(m) },
        },
      );
      assert.deepEqual(
        run.results.map((r) => [r.scenario, r.outcome, r.error?.hung ?? false]),
        [
          ['one', 'error', true],
          ['two', 'error', true],
          ['three', 'error', false],
          ['four', 'error', false],
        ],
      );
      assert.match(run.results[0]!.reason, /criu dump did not finish in time and was killed/);
      assert.match(
        run.results[2]!.reason,
        /^not run: dump of one and then dump of two hung until killed: the cause is this cell/,
      );
      assert.match(run.results[3]!.reason, /the logs of the first are in c\/one\/dump\.log/);
      assert.deepEqual(run.results[2]!.phases, [], 'a scenario that was not run has no phase timings');
      assert.match(run.cells[0]!.error ?? '', /dump of one and then dump of two hung/);
      assert.match(logs.join('\n'), /c: dump of one and then dump of two hung/);
      assert.equal(run.exitCode, 2);
    },
  );

  it('keeps going when a hang is followed by a scenario that does not hang', async () => {
    const run = await runCorpus(
      [s('one'), s('fine'), s('three'), s('four')],
      [{ id: 'c', target: hanging(new Set(['one', 'three'])) }],
      {
        runId: 'r',
        guestClient: viaClient,
        probes: false,
        runDir: scratchDir('runner-hang2'),
        signal: new AbortController().signal,
        jobs: 1,
        reporter: {},
      },
    );
    assert.deepEqual(
      run.results.map((r) => [r.scenario, r.outcome]),
      [
        ['one', 'error'],
        ['fine', 'pass'],
        ['three', 'error'],
        ['four', 'pass'],
      ],
    );
    assert.equal(run.cells[0]!.error, undefined);
  });

  it(
    'refuses a cell whose preflight fails: ' + 'its scenarios are preflight errors at once, other cells run, exit 2',
    async () => {
      let starts = 0;
      const refused: Target = {
        kind: 'container',
        describe: 'refused',
        start: async () => {
          starts++;
          throw new PreflightError(
            'CRIU preflight failed: criu dump of a sleeping task did not finish in 10 s and was killed',
            '(00.2) pie: 7: new_sp=0x1 ip 0x2',
          );
        },
      };
      const fine: Target = { kind: 'vm', describe: 'fine', start: async () => new ScriptedGuest('') };
      const logs: string[] = [];
      const run = await runCorpus(
        [s('a'), s('b')],
        [
          { id: 'container-x', target: refused },
          { id: 'vm-x', target: fine },
        ],
        {
          runId: 'r',
          guestClient: viaClient,
          probes: false,
          runDir: scratchDir('runner-preflight'),
          signal: new AbortController().signal,
          jobs: 1,
          reporter: { onLog: (m) => void logs.push(m) },
        },
      );
      assert.equal(starts, 1, 'a refused cell is not tried again for each scenario');
      const by = run.results.map((r) => [r.cell, r.scenario, r.outcome, r.error?.phase]);
      assert.deepEqual(by, [
        ['container-x', 'a', 'error', 'preflight'],
        ['container-x', 'b', 'error', 'preflight'],
        ['vm-x', 'a', 'pass', undefined],
        ['vm-x', 'b', 'pass', undefined],
      ]);
      assert.match(run.results[0]!.reason, /^preflight: CRIU preflight failed/);
      assert.equal(run.results[0]!.error?.excerpt, '(00.2) pie: 7: new_sp=0x1 ip 0x2');
      assert.match(run.cells[0]!.error ?? '', /CRIU preflight failed/);
      assert.match(
        logs.join('\n'),
        /container-x: refused, its scenarios are errors: CRIU preflight failed[^\n]*\n {4}\(00\.2\) pie: 7/,
      );
      assert.equal(run.exitCode, 2);
    },
  );
});
