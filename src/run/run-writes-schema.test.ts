import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../scenario/load.js';
import { fakeGuestClient } from '../target/guest-client.testutil.js';
import type { StartedTarget, Target } from '../target/target.js';
import type { TargetFacts } from '../results/result.js';
import { JsonReporter } from '../report/json.js';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { runCorpus } from './runner.js';
import { resultsProblems } from '../results/results-schema.js';
import type { ScenarioResult } from '../results/result.js';

/** A started target; its client (fakeGuestClient) answers like a guest whose scenarios all survive. */
const guest = (): StartedTarget => ({
  facts: {
    target: 'vm',
    kernel: '6.12',
    criu: '4.1.1',
    criuCheck: 'ok',
    utilLinux: '2.41',
    readyMs: 1,
    accel: 'tcg',
  } satisfies TargetFacts,
  alive: true,
  exec: () => Promise.reject(new Error('not used: the runner talks to a guest through its client')),
  async writeFile() {},
  consoleMark: () => 0,
  consoleSince: () => '',
  async [Symbol.asyncDispose]() {},
});

describe('results.json a run writes', () => {
  after(removeScratch);

  it('accepts what a run writes, after every scenario (partial) and at the end (complete)', async () => {
    const dir = scratchDir('results-schema');
    const json = new JsonReporter(dir);
    const partials: string[][] = [];
    const target: Target = { kind: 'vm', describe: 'scripted', start: async () => guest() };
    const s = (n: string, extra = '') =>
      parseScenario(`name: ${n}\ndescription: d\n${extra}steps: [{mkdir: /w}]\nexpect: identical\n`, `${n}.yaml`);
    const run = await runCorpus(
      [s('a'), s('b', 'requires: {targets: [container]}\n'), s('c', 'engine: {mount-engine: both}\n')],
      [{ id: 'cell', target }],
      {
        runId: 'r',
        guestClient: () => fakeGuestClient(),
        probes: false,
        runDir: dir,
        signal: new AbortController().signal,
        reporter: {
          onRunStart: (i) => json.onRunStart(i),
          onScenarioEnd: async (r: ScenarioResult) => {
            await json.onScenarioEnd(r);
            partials.push(resultsProblems(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))));
          },
          onRunEnd: (r) => json.onRunEnd(r),
        },
      },
    );
    assert.equal(run.results.length, 4);
    assert.deepEqual(partials, [[], [], [], []]);
    const final = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { complete: boolean };
    assert.equal(final.complete, true);
    assert.deepEqual(resultsProblems(final), []);
  });
});
