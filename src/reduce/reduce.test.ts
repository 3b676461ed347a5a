import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { assetPath } from '../paths.js';
import { parseScenario, type LoadedScenario } from '../scenario/load.js';
import { failureOf } from '../results/signature.js';
import type { ScenarioResult } from '../results/result.js';
import { ScenarioShape } from './candidates.js';
import { type Oracle, reduceScenario } from './reduce.js';

const FIXTURE = 'src/reduce/fixtures/noisy-root-bind.yaml';
const load = (file: string) => parseScenario(readFileSync(assetPath(file)), file);

type Verdict = Pick<ScenarioResult, 'outcome' | 'reason' | 'differences' | 'error'>;
const MESSAGE = "criu dump failed (exit 1): Error (criu/mount.c:753): mnt: 97:./bug doesn't have a proper root mount";
const failing: Verdict = {
  outcome: 'xfail',
  reason: MESSAGE,
  differences: [],
  error: { phase: 'dump', message: MESSAGE },
};
const passing: Verdict = { outcome: 'xpass', reason: 'no longer reproduces', differences: [] };

/** What the guest needs for the fixture's failure: its five steps, found by their labels. */
const NEEDED = ['mkdir /src /bug', 'mount -t tmpfs src /src', 'mkdir /src/sub', 'bind /src/sub -> /bug', 'umount /src'];

/**
 * A fake runner: the scenario fails as the fixture does when the five steps
 * are there; a scenario missing some of them runs clean. It records the
 * candidates it ran.
 */
function fakeRunner(ran: string[] = [], parallel = 1): Oracle {
  return {
    parallel,
    async run(c: LoadedScenario) {
      const labels = new ScenarioShape(c.text, c.file, c.scenario).atoms
        .filter((a) => a.kind === 'step')
        .map((a) => a.label);
      ran.push(labels.join('; '));
      return NEEDED.every((n) => labels.includes(n)) ? failing : passing;
    },
  };
}

describe('reduce', () => {
  it('the fixture: labels as the fake runner expects, 24 steps, 7 mounts standing', () => {
    const shape = ScenarioShape.load(load(FIXTURE));
    const labels = shape.atoms.filter((a) => a.kind === 'step').map((a) => a.label);
    for (const n of NEEDED) assert.ok(labels.includes(n), `${n} in ${labels.join('; ')}`);
    const all = new Set(shape.atoms.map((a) => a.id));
    assert.deepEqual(shape.size(all), { steps: 24, mounts: 7 });
  });

  it('shrinks the fixture to its five failing steps of 24, keeping their comments', async () => {
    const shape = ScenarioShape.load(load(FIXTURE));
    const ran: string[] = [];
    const r = await reduceScenario({ shape, want: failureOf(failing), oracle: fakeRunner(ran), budgetMs: 60_000 });
    assert.ok(r.complete);
    assert.equal(r.after.steps, NEEDED.length, r.text);
    assert.ok(r.after.steps <= NEEDED.length + 3);
    const min = parseScenario(r.text, 'min.yaml');
    assert.deepEqual(
      new ScenarioShape(r.text, 'min.yaml', min.scenario).atoms.filter((a) => a.kind === 'step').map((a) => a.label),
      NEEDED,
    );
    assert.match(r.text, /# the failure, 2\/5: a tmpfs whose root mount will go/);
    assert.doesNotMatch(r.text, /n1|n3|child/);
    // Each candidate ran once, and only candidates the model accepts.
    assert.equal(new Set(ran).size, ran.length);
    assert.equal(r.tries, ran.length);
    assert.ok(r.refused > 0, 'some candidates (a bind without its mkdir) are refused on the host');
    assert.ok(r.tries < 60, `tries ${r.tries}`);
  });

  it('is deterministic for a seed and gives the same scenario with -j 3', async () => {
    const shape = ScenarioShape.load(load(FIXTURE));
    const want = failureOf(failing);
    const a: string[] = [];
    const b: string[] = [];
    const r1 = await reduceScenario({ shape, want, oracle: fakeRunner(a), budgetMs: 60_000, seed: 5 });
    const r2 = await reduceScenario({ shape, want, oracle: fakeRunner(b), budgetMs: 60_000, seed: 5 });
    assert.deepEqual(a, b);
    const r3 = await reduceScenario({ shape, want, oracle: fakeRunner([], 3), budgetMs: 60_000, seed: 5 });
    assert.equal(r1.text, r2.text);
    assert.equal(r3.text, r1.text);
  });

  it('never drops a wait or a signal of a task that stays: the steps after the wait would race the task', async () => {
    const text = [
      'name: race',
      'description: d',
      'steps:',
      '  - mkdir: /f',
      '  - spawn:',
      '      name: t1',
      '      steps:',
      '        - mkdir: /f/s2',
      '        - signal: t1-done',
      '  - wait: t1-done',
      '  - mkdir: /g',
      '  - bind: { source: /f, target: /f/s2 }',
      'expect: identical',
      '',
    ].join('\n');
    const loaded = parseScenario(text, 'race.yaml');
    // Fails whenever the task and the bind are there, with or without the wait: as a guest that ran t1 first.
    const oracle: Oracle = {
      parallel: 1,
      async run(c: LoadedScenario) {
        const labels = new ScenarioShape(c.text, c.file, c.scenario).atoms.map((a) => a.label);
        return labels.includes('t1: mkdir /f/s2') && labels.includes('bind /f -> /f/s2') ? failing : passing;
      },
    };
    const r = await reduceScenario({
      shape: ScenarioShape.load(loaded),
      want: failureOf(failing),
      oracle,
      budgetMs: 60_000,
    });
    assert.match(r.text, /- wait: t1-done/, r.text);
    assert.match(r.text, /- signal: t1-done/, r.text);
    assert.doesNotMatch(r.text, /mkdir: \/g/, r.text);
  });

  it('keeps a candidate only when the outcome matches too', async () => {
    const shape = ScenarioShape.load(load(FIXTURE));
    // The same criu line, but as a plain fail: not the failure being reduced.
    const oracle: Oracle = { parallel: 1, run: async () => ({ ...failing, outcome: 'fail' }) };
    const r = await reduceScenario({ shape, want: failureOf(failing), oracle, budgetMs: 60_000 });
    assert.equal(r.after.steps, r.before.steps);
  });

  it('stops at its budget with the smallest scenario so far, marked incomplete', async () => {
    const shape = ScenarioShape.load(load(FIXTURE));
    let t = 0;
    // Each try costs a minute of a five-minute budget.
    const oracle = fakeRunner();
    const slow: Oracle = {
      parallel: 1,
      run: async (c, n) => {
        t += 60_000;
        return oracle.run(c, n);
      },
    };
    const r = await reduceScenario({ shape, want: failureOf(failing), oracle: slow, budgetMs: 300_000, now: () => t });
    assert.equal(r.complete, false);
    assert.ok(r.tries <= 6);
    parseScenario(r.text, 'partial.yaml');
  });
});

describe('reduce candidates', () => {
  it("seed 002's measured reduction (fixtures/seed-002-lxc.min.yaml): 4 mounts standing of 21, 10 steps of 108", () => {
    const measure = (file: string) => {
      const shape = ScenarioShape.load(load(file));
      return shape.size(new Set(shape.atoms.map((a) => a.id)));
    };
    assert.deepEqual(measure('scenarios/imported/seed-002-lxc.yaml'), { steps: 108, mounts: 21 });
    assert.deepEqual(measure('src/reduce/fixtures/seed-002-lxc.min.yaml'), { steps: 10, mounts: 4 });
  });

  it('groups an import into its 21 pasted mounts, scratch sources unmounted', () => {
    const shape = ScenarioShape.load(load('scenarios/imported/seed-002-lxc.yaml'));
    const all = new Set(shape.atoms.map((a) => a.id));
    const units = shape.mountUnits(all);
    assert.equal(units.filter((u) => !u.unmounted).length, 21);
    const pasted = units.find((u) => u.label === 'bind /.import/sb/0-21/cgmanager -> /pasted/sys/fs/cgroup/cgmanager')!;
    assert.deepEqual(
      pasted.atoms.map((a) => shape.atoms[a]!.label),
      [
        'bind /.import/sb/0-21/cgmanager -> /pasted/sys/fs/cgroup/cgmanager',
        'remount /pasted/sys/fs/cgroup/cgmanager rw,strictatime',
      ],
    );
    // The two sysfs mounts stacked on /pasted/sys are two mounts, each with its own remount.
    const sys = units.filter((u) => shape.atoms[u.atoms[0]!]!.label.endsWith('-> /pasted/sys'));
    assert.equal(sys.length, 2);
    assert.ok(sys.every((u) => u.atoms.length === 2));
  });

  it('a task is its spawn, its steps and the waits for its signals; dropping it renders a valid scenario', () => {
    const shape = ScenarioShape.load(load(FIXTURE));
    const all = new Set(shape.atoms.map((a) => a.id));
    const [task] = shape.taskUnits(all);
    assert.deepEqual(
      task!.atoms.map((a) => shape.atoms[a]!.label),
      [
        'spawn child',
        'child: unshare mnt',
        'child: mount -t tmpfs childonly /n3',
        'child: signal child-ready',
        'wait child-ready',
      ],
    );
    const without = new Set([...all].filter((a) => !task!.atoms.includes(a)));
    const c = shape.check(without);
    assert.ok(c);
    assert.equal(c.loaded.scenario.steps.length, 19);
  });

  it('takes single paths out of a mkdir list, and never leaves a list empty', () => {
    const shape = ScenarioShape.load(load(FIXTURE));
    const all = new Set(shape.atoms.map((a) => a.id));
    const n2 = shape.atoms.find((a) => a.kind === 'path' && a.label === 'mkdir /n2')!.id;
    const c = shape.check(new Set([...all].filter((a) => a !== n2)));
    assert.deepEqual(c?.loaded.scenario.steps[0], { mkdir: ['/n1', '/n3', '/n4'] });
    const n1to4 = shape.atoms.filter((a) => a.kind === 'path' && /^mkdir \/n\d$/.test(a.label)).map((a) => a.id);
    assert.equal(n1to4.length, 4);
    assert.equal(shape.check(new Set([...all].filter((a) => !n1to4.includes(a)))), undefined);
  });

  it('refuses, on the host, a candidate the model says cannot build', () => {
    const shape = ScenarioShape.load(load(FIXTURE));
    // Without "bind /n1 -> /n2", make-slave /n2 acts on what is no mount.
    const bind = shape.atoms.find((a) => a.label === 'bind /n1 -> /n2')!.id;
    assert.equal(shape.check(new Set(shape.atoms.map((a) => a.id).filter((a) => a !== bind))), undefined);
  });
});
