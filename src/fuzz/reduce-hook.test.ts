import { strict as assert } from 'node:assert';
import { parseScenario } from '../scenario/load.js';
import { pinEngine } from './reduce-hook.js';

const both = parseScenario(
  'name: t\ndescription: d\nsteps:\n  - mkdir: /a\n' +
    'engine:\n  mount-engine: both\n  link-remap: true\nexpect: identical\n',
  't.yaml',
);

describe('fuzz reduce hook', () => {
  it('reduces a both-engines scenario in the engine its finding failed in', () => {
    const pinned = pinEngine(both, 'findings/x/logs/vm-debian-6.12-criu-4.1.1/fuzz-7-739[compat]');
    assert.equal(pinned.scenario.engine?.['mount-engine'], 'compat');
    assert.equal(pinned.scenario.engine?.['link-remap'], true);
    assert.equal(pinEngine(both, 'findings/x/logs/c/fuzz-7-739[v2]').scenario.engine?.['mount-engine'], 'v2');
  });

  it('leaves a one-engine scenario, or a finding without a variant, as it is', () => {
    assert.equal(pinEngine(both, 'findings/x/logs/c/fuzz-7-739'), both);
    const v2 = parseScenario('name: t\ndescription: d\nsteps:\n  - mkdir: /a\nexpect: identical\n', 't.yaml');
    assert.equal(pinEngine(v2, 'findings/x/logs/c/fuzz-7-1[compat]'), v2);
  });
});
