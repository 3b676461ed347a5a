import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import type { TargetFacts } from '../results/result.js';
import type { CellPlan } from '../run/runner.js';
import { parseScenario } from '../scenario/load.js';
import type { ExecResult } from '../target/exec.js';
import type { GuestClient } from '../target/guest-client.js';
import { fakeGuestClient } from '../target/guest-client.testutil.js';
import type { StartedTarget } from '../target/target.js';
import { newState, readCampaign } from './campaign-state.js';
import { runCampaign, type CampaignOptions } from './campaign.js';
import { mergeCampaigns } from './merge.js';
import { GENERATOR_VERSION, type Generated } from './generator.js';

/** A guest that builds and restores everything; its dump fails, as CRIU does, for the scenarios `fails` picks. */
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
  client: GuestClient;
  constructor(fails: (scenario: string) => boolean) {
    const plain = fakeGuestClient();
    this.client = fakeGuestClient({
      dump: async (plan, pid) =>
        fails(plan.scenario)
          ? {
              code: 1,
              stderr: '',
              log: `(00.1) Error (criu/mount.c:77): mnt: mount ${plan.scenario.length * 7} has no parent\n`,
              durationMs: 1,
            }
          : plain.dump(plan, pid),
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

const index = (scenario: string) => Number(scenario.split(/[-[]/)[2]);

function cell(id: string, fails: (scenario: string) => boolean, guests: ScriptedGuest[] = []): CellPlan {
  return {
    id,
    target: {
      kind: 'vm',
      describe: id,
      start: async () => {
        const g = new ScriptedGuest(fails);
        guests.push(g);
        return g;
      },
    },
  };
}

/** A tiny scenario per draw, so the test is about the campaign, not the generator. */
const drawn: string[] = [];
const generate = (_seed: number, name: string): Generated => {
  drawn.push(name);
  return { scenario: { name, description: 'd', steps: [{ mkdir: '/w' }], expect: 'identical' }, features: [] };
};

function options(dir: string, cells: CellPlan[], over: Partial<CampaignOptions> = {}): CampaignOptions {
  return {
    dir,
    state: newState({ seed: 9, generator: 1, cells: cells.map((c) => c.id) }),
    findings: [],
    cells,
    budgetMs: 60_000,
    jobs: 1,
    signal: new AbortController().signal,
    probes: false,
    knownBugs: [],
    log: () => {},
    guestClient: (t) => (t as ScriptedGuest).client,
    generate,
    ...over,
  };
}

describe('fuzz campaign (scripted guests)', () => {
  after(removeScratch);
  beforeEach(() => {
    drawn.length = 0;
  });

  it('dedupes a failure by signature, stores its first scenario and logs, and cleans up the rest', async () => {
    const dir = scratchDir('fuzz');
    const guests: ScriptedGuest[] = [];
    const odd = cell('vm-a', (s) => index(s) % 2 === 1, guests);
    const s = await runCampaign(options(dir, [odd], { maxScenarios: 5 }));
    assert.deepEqual([s.stopped, s.sessionScenarios, s.sessionExecutions], ['max-scenarios', 5, 5]);
    assert.equal(s.findings.length, 1);
    const f = s.findings[0]!;
    assert.deepEqual([f.class, f.count, f.index, f.reduction.status], ['new', 2, 1, 'not-reduced-yet']);
    assert.match(f.signature, /^criu dump: Error \(criu\/mount\.c:77\): mnt: mount N has no parent$/);
    // The finding reruns as an ordinary scenario; its header says how it was drawn.
    const yaml = readFileSync(join(dir, f.scenarioFile), 'utf8');
    assert.match(yaml, /^# mountlab fuzz finding \w+ \(new\): criu dump/);
    assert.match(
      yaml,
      new RegExp(`generator ${GENERATOR_VERSION}, campaign seed 9, scenario index 1, scenario seed \\d+`),
    );
    assert.match(yaml, /reduced: not reduced yet/);
    assert.equal(parseScenario(yaml, 'f.yaml').scenario.name, 'fuzz-9-1');
    assert.ok(existsSync(join(dir, f.logs, 'dump.log')));
    assert.deepEqual(readdirSync(join(dir, 'work')), ['vm-a']);
    assert.deepEqual(readdirSync(join(dir, 'work', 'vm-a')), []);
    assert.ok(guests.every((g) => g.disposed));
    assert.equal(guests.length, 1, 'one guest kept for all the scenarios');
    assert.match(readFileSync(join(dir, 'findings.md'), 'utf8'), /\| new \| `criu dump: .*` \| 2 \|/);
  });

  it('resumes where it stopped: the next draws, the tallies carried on', async () => {
    const dir = scratchDir('fuzz');
    const cells = [cell('vm-a', () => false)];
    await runCampaign(options(dir, cells, { maxScenarios: 2 }));
    const { state, findings } = readCampaign(dir);
    await runCampaign(options(dir, cells, { maxScenarios: 2, state, findings }));
    assert.deepEqual(drawn, ['fuzz-9-0', 'fuzz-9-1', 'fuzz-9-2', 'fuzz-9-3']);
    assert.deepEqual(
      [readCampaign(dir).state.scenarios, readCampaign(dir).state.sessions, readCampaign(dir).state.drawsDone],
      [4, 2, 4],
    );
  });

  it('draws only its shard', async () => {
    const dir = scratchDir('fuzz');
    const cells = [cell('vm-a', () => false)];
    const state = newState({ seed: 9, generator: 1, shard: { index: 2, count: 3 }, cells: ['vm-a'] });
    await runCampaign(options(dir, cells, { maxScenarios: 3, state }));
    assert.deepEqual(drawn, ['fuzz-9-1', 'fuzz-9-4', 'fuzz-9-7']);
  });

  it('differential: a scenario that passes on the baseline and fails on the other is a regression', async () => {
    const dir = scratchDir('fuzz');
    const cells = [cell('vm-a', () => false), cell('vm-b', (s) => index(s) === 1)];
    const s = await runCampaign(options(dir, cells, { maxScenarios: 3 }));
    assert.equal(s.sessionExecutions, 6);
    assert.deepEqual(s.findings.map((f) => [f.class, f.cells, f.differential]).sort(), [
      ['new', ['vm-b'], undefined],
      ['regression', ['vm-b'], { passed: 'vm-a', failed: 'vm-b' }],
    ]);
  });

  it('stops on Ctrl-C with its guests torn down and the state saved', async () => {
    const dir = scratchDir('fuzz');
    const ctl = new AbortController();
    const guests: ScriptedGuest[] = [];
    const s = await runCampaign(
      options(dir, [cell('vm-a', () => false, guests)], {
        signal: ctl.signal,
        generate: (seed, name) => {
          if (drawn.length === 2) ctl.abort(new Error('SIGINT'));
          return generate(seed, name);
        },
      }),
    );
    assert.equal(s.stopped, 'interrupted');
    assert.ok(guests.every((g) => g.disposed));
    // The interrupted draw is not done: a resume draws it again.
    assert.equal(readCampaign(dir).state.drawsDone, 2);
  });

  it('merges the shards of a seed by signature: counts add, the first sighting and its files stay', async () => {
    const parts: string[] = [];
    for (const k of [1, 2]) {
      const dir = scratchDir('fuzz');
      const state = newState({ seed: 9, generator: 1, shard: { index: k, count: 2 }, cells: ['vm-a'] });
      await runCampaign(options(dir, [cell('vm-a', (s) => index(s) % 2 === 1)], { maxScenarios: 4, state }));
      parts.push(dir);
    }
    const out = scratchDir('fuzz-merged');
    const { state, findings } = await mergeCampaigns(parts, out);
    assert.deepEqual([state.scenarios, state.shard, findings.length, findings[0]!.count], [8, undefined, 1, 4]);
    assert.ok(existsSync(join(out, findings[0]!.scenarioFile)));
    await assert.rejects(mergeCampaigns([parts[0]!, parts[0]!], scratchDir('fuzz-merged')), /given twice/);
  });
});
