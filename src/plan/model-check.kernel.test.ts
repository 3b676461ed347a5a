import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { buildHelper } from '../../test/helper-build.js';
import { parseScenario } from '../scenario/load.js';
import { modelProblems } from './model-check.js';
import { compileProgram } from './program.js';
import { judge, prng, randomScenario } from './random-scenario.testutil.js';
import { runTree } from './run-tree.testutil.js';

/**
 * The model against this host's kernel: random scenarios, built by the
 * guest helper's run-tree in private mount and pid namespaces (as
 * executor.test.ts does), must never be refused by the model when the
 * kernel builds them, and where the model refuses a step the kernel must
 * fail at that very step. The issue asks for this in one VM; the host's
 * kernel is what a test without VMs has; bench/model-vs-kernel.ts runs the
 * same scenarios (random-scenario.testutil.ts) in one VM. About a minute
 * for 240 scenarios.
 */

const COUNT = 240;
const SEED = Number(process.env.MOUNTLAB_MODEL_SEED ?? 19);

describe('@e2e the mount model against this host kernel (random scenarios in private namespaces)', function () {
  this.timeout(1_800_000);
  let helper = '';
  before(() => {
    assert.equal(spawnSync('unshare', ['--version']).status, 0, 'unshare(1) is needed here');
    helper = buildHelper(scratchDir('helper'));
  });
  after(removeScratch);

  it(`accepts all the kernel builds, refuses only steps the kernel fails (${COUNT} scenarios, seed ${SEED})`, () => {
    const r = prng(SEED);
    const tally = { ready: 0, failed: 0, refused: 0, neither: 0 };
    for (let i = 0; i < COUNT; i++) {
      const yaml = randomScenario(r);
      const scenario = parseScenario(yaml, `random-${i}.yaml`).scenario;
      const problems = modelProblems(scenario);
      const run = runTree(helper, compileProgram(scenario, `m${i}`));
      const verdict = judge(problems, run.outsideStatus, run.status);
      const what =
        `scenario ${i} (seed ${SEED}):\n${yaml}\nmodel: ${JSON.stringify(problems)}\n` +
        `kernel: ${run.outsideStatus.join(' | ')} / ${run.status.join(' | ')}\n${run.err}`;
      assert.deepEqual(verdict.disagreements, [], what);
      if (verdict.refused) tally.refused++;
      tally[verdict.verdict]++;
    }
    // The property is only worth something if both sides are exercised.
    assert.ok(tally.ready >= 10 && tally.refused >= 20, JSON.stringify(tally));
    console.log(`      ${JSON.stringify(tally)}`);
  });
});
