import { strict as assert } from 'node:assert';
import { parseScenario } from '../scenario/load.js';
import { compileScenario } from './compile.js';
import { executorFromEnv } from './executor-choice.js';

describe('the executor choice (MOUNTLAB_EXECUTOR)', () => {
  it('is the helper by default, helper or bash when asked, and refuses anything else', () => {
    assert.equal(executorFromEnv({}), 'helper');
    assert.equal(executorFromEnv({ MOUNTLAB_EXECUTOR: '' }), 'helper');
    assert.equal(executorFromEnv({ MOUNTLAB_EXECUTOR: 'helper' }), 'helper');
    assert.equal(executorFromEnv({ MOUNTLAB_EXECUTOR: 'bash' }), 'bash');
    assert.throws(() => executorFromEnv({ MOUNTLAB_EXECUTOR: 'Helper' }), /"Helper" is not an executor/);
  });

  it("puts the helper's program, as wire text and in words, in the plan only for the helper", () => {
    const s = parseScenario(
      'name: t\ndescription: d\noutside: [{mkdir: /h}]\nsteps: [{mkdir: /w}]\nexpect: identical\n',
      't.yaml',
    ).scenario;
    const bash = compileScenario(s, { id: 's1', file: 't.yaml', executor: 'bash' });
    assert.equal(bash.executor, 'bash');
    assert.equal(bash.program, undefined);
    const helper = compileScenario(s, { id: 's1', file: 't.yaml' });
    assert.equal(helper.executor, 'helper');
    assert.match(helper.program?.wire ?? '', /^mountlab-plan 1\n[\s\S]*\noutside 1 [\s\S]*\nend\n$/);
    assert.match(helper.program?.rendering ?? '', /^program for scenario/);
    // The same steps, labels and limits either way: the messages do not depend on the executor.
    assert.deepEqual(helper.stepLabels, bash.stepLabels);
    assert.deepEqual(helper.outsideLabels, bash.outsideLabels);
  });
});
