import { strict as assert } from 'node:assert';
import { parseScenario } from '../scenario/load.js';
import { expectationOf } from './expectation.js';
import { scenarioRuns } from './variants.js';

const load = (name: string, extra: string) =>
  parseScenario(`name: ${name}\ndescription: d\nsteps: [{mkdir: /a}]\n${extra}`, `${name}.yaml`);

describe('scenario runs', () => {
  it('runs a scenario once under mount-v2 unless it asks for another engine or both', () => {
    const runs = scenarioRuns([
      load('plain', 'expect: identical\n'),
      load('old', 'engine: {mount-engine: compat}\nexpect: identical\n'),
      load('twice', 'engine: {mount-engine: both}\nexpect: identical\n'),
    ]);
    assert.deepEqual(
      runs.map((r) => [r.name, r.mountEngine]),
      [
        ['plain', 'v2'],
        ['old', 'compat'],
        ['twice[v2]', 'v2'],
        ['twice[compat]', 'compat'],
      ],
    );
  });

  it('expects a known bug of one engine only under that engine', () => {
    const s = load(
      'b',
      [
        'engine: {mount-engine: both}',
        'expect: {known-bug: {url: https://example.org/bug/1, reason: r, mount-engine: compat}}',
        '',
      ].join('\n'),
    ).scenario;
    assert.equal(expectationOf(s, 'compat').kind, 'known-bug');
    assert.deepEqual(expectationOf(s, 'v2'), { kind: 'identical' });
  });
});
