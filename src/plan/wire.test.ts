import { strict as assert } from 'node:assert';
import { assetPath } from '../paths.js';
import { discoverScenarioFiles, loadScenarioFile, parseScenario } from '../scenario/load.js';
import { compileProgram } from './program.js';
import { escapeArg, serialiseProgram } from './wire.js';
import { hostileProgram, parseProgramWire, unescapeArg } from './wire.testutil.js';

describe('wire: the program as the guest helper reads it', () => {
  it('escapes every byte outside 0x21-0x7e, backslash and double quote, and nothing else', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_v, i) => i));
    const text = escapeArg(all);
    assert.match(text, /^[\x21-\x7e]+$/);
    assert.ok(!text.includes('"'));
    assert.deepEqual(unescapeArg(text), all);
    assert.equal(escapeArg('a b'), 'a\\040b');
    assert.equal(escapeArg('\\040'), '\\134040');
    assert.equal(escapeArg(''), '""');
    assert.equal(escapeArg('""'), '\\042\\042');
    assert.equal(escapeArg(Buffer.from([0xff, 0x2f])), '\\377/');
  });

  it('writes a small program as pinned here', () => {
    const p = compileProgram(
      parseScenario(
        [
          'name: t',
          'description: d',
          'steps:',
          '  - mkdir: /a',
          '  - mount: {fstype: tmpfs, source: s, target: /a, options: "ro,size=1m"}',
          '  - spawn: {name: k, steps: [{open: {path: /a, fd: 12}}]}',
          'expect: identical',
          '',
        ].join('\n'),
        't.yaml',
      ).scenario,
      's1',
    );
    assert.equal(
      serialiseProgram(p),
      [
        'mountlab-plan 1',
        'scenario t',
        'sync-dir /.mountlab-sync-s1',
        'task init',
        'step 1 mkdir\\040/a',
        'op mkdir /a',
        'step 2 mount\\040-t\\040tmpfs\\040s\\040/a',
        'op mount s /a tmpfs 0x1 size=1m',
        'step 3 spawn\\040k',
        'op spawn 1 k',
        'task k',
        'step 4 open\\040/a\\040as\\040fd\\04012\\040(rdonly)',
        'op open /a 12 0644 0 rdonly',
        'end',
        '',
      ].join('\n'),
    );
  });

  it('carries hostile names, paths and contents as data: one record per line, decoded back unchanged', () => {
    const p = hostileProgram();
    const wire = serialiseProgram(p);
    assert.match(wire, /^[\x20-\x7e\n]+$/, 'only printable ASCII and newlines');
    for (const line of wire.slice(0, -1).split('\n')) assert.match(line, /^[a-z-]+( [^ ]+)*$/, line);
    assert.equal(wire.split('\n').filter((l) => l === 'end').length, 1);
    assert.deepEqual(parseProgramWire(wire), p);
  });

  it('round-trips every scenario of the corpus', async () => {
    const files = await discoverScenarioFiles([
      assetPath('scenarios'),
      assetPath('test', 'fixtures', 'scenarios-hostile-valid'),
    ]);
    for (const f of files) {
      const p = compileProgram((await loadScenarioFile(f)).scenario, 'c1');
      assert.deepEqual(parseProgramWire(serialiseProgram(p)), p, String(f));
    }
  });

  it('has a decoder that refuses what the helper refuses', () => {
    const good = serialiseProgram(hostileProgram());
    assert.throws(() => parseProgramWire(good.replace('mountlab-plan 1', 'mountlab-plan 2')), /bad first line/);
    assert.throws(() => parseProgramWire(good.replace('end\n', '')), /cut short/);
    assert.throws(() => parseProgramWire(good.replace('op mkdir', 'op mkdirs')), /unknown op/);
    assert.throws(() => parseProgramWire(good.replace('\\040', '\\400')), /bad escape/);
    assert.throws(() => parseProgramWire(good.replace('op open', 'op open extra')), /bad decimal|extra/);
  });
});
