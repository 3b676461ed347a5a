import { strict as assert } from 'node:assert';
import { parseScenario } from '../scenario/load.js';
import { compileScenario, criuArgs } from './compile.js';
import type { MountEngine } from './plan.js';

/** The plan of a scenario t.yaml made of these lines after its name and description. */
const compile = (yaml: string, id: string, mountEngine?: MountEngine) => {
  const { scenario } = parseScenario(`name: t\ndescription: d\n${yaml}`, 't.yaml');
  return compileScenario(scenario, { id, mountEngine });
};

describe('plan compiler', () => {
  it('turns engine settings into criu options, externals restored from their host source', () => {
    assert.deepEqual(
      criuArgs(
        {
          'link-remap': true,
          'ghost-limit': 1024,
          'mount-engine': 'both',
          external: [{ path: '/data', source: '/host/data' }],
        },
        'compat',
      ),
      {
        dumpArgs: ['--external', 'mnt[/data]:data', '--link-remap', '--ghost-limit=1024'],
        restoreArgs: ['--external', 'mnt[data]:@ROOT@/host/data', '--mntns-compat-mode'],
      },
    );
  });

  it('gives auto-detected externals to dump only, a device to both sides, and raw options as they are', () => {
    assert.deepEqual(
      criuArgs({
        external: [{ auto: true }, { auto: true, flags: 's' }, { device: '7/0', key: 'loop', source: '/dev/loop0' }],
        'dump-args': ['--external', 'mnt[]:m'],
        'restore-args': ['--external', 'mnt[k]:@ROOT@/a b*'],
      }),
      {
        dumpArgs: [
          ...['--external', 'mnt[]', '--external', 'mnt[]:s', '--external', 'dev[7/0]:loop'],
          ...['--external', 'mnt[]:m'],
        ],
        restoreArgs: ['--external', 'dev[loop]:/dev/loop0', '--external', 'mnt[k]:@ROOT@/a b*'],
      },
    );
  });

  it('numbers steps scenario-wide, child tasks included, and labels them by task', () => {
    const p = compile(
      [
        'steps:',
        '  - mkdir: /a',
        '  - spawn: {name: kid, steps: [{unshare: [mnt]}, {signal: up}]}',
        '  - wait: up',
        'expect: identical',
        '',
      ].join('\n'),
      's1',
    );
    assert.deepEqual(p.stepLabels, ['mkdir /a', 'spawn kid', 'kid: unshare mnt', 'kid: signal up', 'wait up']);
    assert.deepEqual(p.tasks, ['init', 'kid']);
    // The guest gets the program: its wire text and its words, with the same step numbers.
    assert.match(p.program.wire, /^mountlab-plan 1/);
    assert.match(p.program.rendering, /^ {2}step 3: unshare mnt$/m);
  });

  it('restores with --mntns-compat-mode only for the compat engine', () => {
    const yaml = 'steps: [{mkdir: /a}]\nengine: {mount-engine: both}\nexpect: identical\n';
    assert.deepEqual(compile(yaml, 's7', 'v2').criu.restoreArgs, []);
    assert.deepEqual(compile(yaml, 's7', 'compat').criu.restoreArgs, ['--mntns-compat-mode']);
  });

  it('labels the outside steps, which the program carries before the tree', () => {
    const p = compile(
      'outside:\n  - mkdir: /host\n  - make-shared: /host\nsteps: [{mkdir: /a}]\nexpect: identical\n',
      's3',
    );
    assert.deepEqual(p.outsideLabels, ['mkdir /host', 'make-shared /host']);
    assert.match(p.program.rendering, /^outside: .*\n {2}step 1: mkdir \/host\n/m);
    assert.deepEqual(compile('steps: [{mkdir: /a}]\nexpect: identical\n', 's4').outsideLabels, []);
  });

  it("uns: the plan carries zdtm's maps for init; ns carries none; the words say what run-tree does", () => {
    const { scenario } = parseScenario('name: t\ndescription: d\nsteps: [{mkdir: /a}]\nexpect: identical\n', 't.yaml');
    const uns = compileScenario(scenario, { id: 'u1', flavor: 'uns' });
    const line = uns.program.wire.split('\n').find((l) => l.startsWith('init-user '));
    assert.equal(
      line,
      'init-user allow 0\\040100000\\040100000\\012100000\\040200000\\04050000\\012 ' +
        '0\\040400000\\04050000\\01250000\\040500000\\040100000\\012',
    );
    assert.match(uns.program.rendering, /new user, mount and pid namespaces .*uns/);
    assert.match(uns.program.rendering, /uid_map \[0 100000 100000; 100000 200000 50000\]/);
    const ns = compileScenario(scenario, { id: 'u1' });
    assert.ok(!ns.program.wire.includes('init-user'));
    assert.equal(uns.program.wire.replace(`${line}\n`, ''), ns.program.wire);
  });

  it('unshare-user: maps default to root over 100000-165535, written as the kernel reads them', () => {
    const plan = compile('steps: [{unshare-user: {namespaces: [mnt]}}]\nexpect: identical\n', 'u2');
    assert.match(
      plan.program.wire,
      /\nop unshare-user allow 0\\040100000\\04065536\\012 0\\040100000\\04065536\\012 mnt\n/,
    );
    assert.match(plan.program.rendering, /unshare a user namespace with mnt owned by it/);
  });
});
