import { strict as assert } from 'node:assert';
import { parseScenario } from '../scenario/load.js';
import { expectationOf } from './expectation.js';
import { parseFlavors, scenarioRuns } from './variants.js';

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

  it('runs every run once per flavour: ns keeps the name, uns appends [uns] after the engine', () => {
    const runs = scenarioRuns(
      [load('plain', 'expect: identical\n'), load('twice', 'engine: {mount-engine: both}\nexpect: identical\n')],
      ['ns', 'uns'],
    );
    assert.deepEqual(
      runs.map((r) => [r.name, r.mountEngine, r.flavor]),
      [
        ['plain', 'v2', 'ns'],
        ['twice[v2]', 'v2', 'ns'],
        ['twice[compat]', 'compat', 'ns'],
        ['plain[uns]', 'v2', 'uns'],
        ['twice[v2][uns]', 'v2', 'uns'],
        ['twice[compat][uns]', 'compat', 'uns'],
      ],
    );
    assert.deepEqual(
      scenarioRuns([load('plain', 'expect: identical\n')]).map((r) => r.flavor),
      ['ns'],
    );
  });

  it('reads --flavor lists, once each, and refuses an unknown flavour', () => {
    assert.deepEqual(parseFlavors('ns,uns'), ['ns', 'uns']);
    assert.deepEqual(parseFlavors('uns, uns'), ['uns']);
    assert.throws(() => parseFlavors('ns,h'), /unknown flavour 'h'; known: ns, uns/);
  });
});
