import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { modelProblems } from '../plan/model-check.js';
import { checkProgramSize } from '../plan/program-size.js';
import { parseScenario } from '../scenario/load.js';
import { generateScenario, GENERATOR_VERSION, scenarioYaml } from './generator.js';
import { scenarioSeed } from '../prng.js';

/** What a campaign does with a generated scenario before a guest sees it: the YAML, read back as `run` reads it. */
function loaded(seed: number) {
  const g = generateScenario(seed, { name: `fuzz-${seed}` });
  const yaml = scenarioYaml(g.scenario, [`mountlab fuzz: generator ${GENERATOR_VERSION}, seed ${seed}`]);
  return { g, yaml, l: parseScenario(yaml, `fuzz-${seed}.yaml`) };
}

describe('fuzz generator', () => {
  it('draws scenarios that validate, fit a guest and pass the model check (fast-check over seeds)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        const { yaml, l } = loaded(seed);
        checkProgramSize(l);
        assert.deepEqual(modelProblems(l.scenario), [], yaml);
      }),
      { numRuns: 150 },
    );
  });

  it('draws the same scenario for the same seed, and another for another seed', () => {
    for (let i = 0; i < 20; i++) {
      const seed = scenarioSeed(42, i);
      assert.equal(loaded(seed).yaml, loaded(seed).yaml);
      assert.notEqual(loaded(seed).yaml, loaded(scenarioSeed(42, i + 1)).yaml);
    }
  });

  it('writes a scenario `run` reads back unchanged, with its header as a comment', () => {
    const { g, yaml, l } = loaded(7);
    assert.match(yaml, /^# mountlab fuzz: generator \d+, seed 7\n/);
    assert.deepEqual(l.scenario, JSON.parse(JSON.stringify(g.scenario)));
  });

  it('reaches everything the weights ask for, over a few hundred seeds', () => {
    // A feature that never comes up means a weight or a proposal went dead: the campaign would never try it.
    const seen = new Map<string, number>();
    for (let i = 0; i < 400; i++)
      for (const f of generateScenario(scenarioSeed(1, i)).features) seen.set(f, (seen.get(f) ?? 0) + 1);
    const wanted = [
      'shared',
      'slave',
      'unbindable',
      'set-group',
      'overmount',
      'bind-through-fd',
      'bind-subdir',
      'move',
      'open-tree',
      'rbind',
      'nested-mntns',
      'external-master',
      'propagated-mount',
      'rshared',
      'rslave',
      'lazy-umount',
      'lazy-umount-survivor',
      'cwd-on-mount',
      'open-file',
      'open-dir',
      'unlinked',
      'relinked',
      'name-reused',
      'mmap',
      'engine-v2',
      'engine-compat',
      'engine-both',
      'restore-twice',
      'remount',
      'remount-root',
      'read-only',
      'external-file',
      'external-only',
    ];
    assert.deepEqual(
      wanted.filter((f) => !seen.has(f)),
      [],
      JSON.stringify(Object.fromEntries(seen)),
    );
  });

  it('gives an open, mapped or relinked file --link-remap and an external master the options CRIU needs', () => {
    for (let i = 0; i < 200; i++) {
      const { scenario, features } = generateScenario(scenarioSeed(3, i));
      const open = ['relinked', 'open-file', 'mmap'].some((f) => features.includes(f));
      if (open) assert.equal(scenario.engine?.['link-remap'], true);
      if (features.includes('external-master'))
        assert.ok(scenario.engine?.['dump-args']?.includes('--enable-external-masters'));
    }
  });
});
