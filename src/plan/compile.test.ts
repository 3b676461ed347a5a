import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { parseScenario } from '../scenario/load.js';
import { compileScenario, criuArgs } from './compile.js';
import type { MountEngine } from './plan.js';

/** The plan of a scenario t.yaml made of these lines after its name and description. */
const compile = (yaml: string, id: string, mountEngine?: MountEngine) => {
  const { scenario } = parseScenario(`name: t\ndescription: d\n${yaml}`, 't.yaml');
  return compileScenario(scenario, { id, file: 't.yaml', mountEngine });
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
        external: [{ auto: true }, { auto: true, flags: 's' }, { device: '7/0', key: 'loop' }],
        'dump-args': ['--external', 'mnt[]:m'],
        'restore-args': ['--external', 'mnt[k]:@ROOT@/a b*'],
      }),
      {
        dumpArgs: [
          ...['--external', 'mnt[]', '--external', 'mnt[]:s', '--external', 'dev[7/0]:loop'],
          ...['--external', 'mnt[]:m'],
        ],
        restoreArgs: ['--external', 'dev[7/0]:loop', '--external', 'mnt[k]:@ROOT@/a b*'],
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
    // init reports ready only after every child said it is done.
    assert.match(p.treeScript, /ml_wait done-kid\n {2}printf 'ready\\n' >&9/);
    // unshare replaces the task and resumes at the next step.
    assert.match(p.treeScript, /ml_reexec 4 \/usr\/local\/bin\/mountlab-helper unshare mnt --/);
  });

  it('produces a script bash accepts', () => {
    const p = compile(
      [
        'steps:',
        '  - write: {path: /a, content: "it\'s $(x) `y`"}',
        '  - spawn: {name: k, steps: [{mkdir: /b}]}',
        'expect: identical',
        '',
      ].join('\n'),
      's2',
    );
    execFileSync('bash', ['-n', '-c', p.treeScript]);
  });

  it('makes a loop image with mkfs and mounts it with -o loop, refusing to overwrite a file', () => {
    const p = compile(
      [
        'steps:',
        '  - mount: {fstype: ext4, image: {path: /i/d.img, size-mib: 4}, options: ro, target: /d}',
        'expect: identical',
        '',
      ].join('\n'),
      's5',
    );
    assert.deepEqual(p.stepLabels, ['mount -t ext4 -o loop /i/d.img (4M) /d']);
    assert.match(
      p.treeScript,
      new RegExp(
        /\[ ! -e \/i\/d\.img \] \|\| .*false; \} && truncate -s 4M -- \/i\/d\.img && /.source +
          /mkfs\.ext4 -q -F -- \/i\/d\.img && mount -t ext4 -o loop,ro -- \/i\/d\.img \/d/.source,
      ),
    );
    execFileSync('bash', ['-n', '-c', p.treeScript]);
  });

  it('closes a kept fd with the shell, in the task that holds it', () => {
    const p = compile('steps:\n  - open: {path: /a, fd: 12, flags: [path]}\n  - close: 12\nexpect: identical\n', 's6');
    assert.deepEqual(p.stepLabels, ['open /a as fd 12 (path)', 'close fd 12']);
    assert.match(p.treeScript, /\n {4}exec 12<&-\n/);
  });

  it('restores with --mntns-compat-mode only for the compat engine', () => {
    const yaml = 'steps: [{mkdir: /a}]\nengine: {mount-engine: both}\nexpect: identical\n';
    assert.deepEqual(compile(yaml, 's7', 'v2').criu.restoreArgs, []);
    assert.deepEqual(compile(yaml, 's7', 'compat').criu.restoreArgs, ['--mntns-compat-mode']);
  });

  it('compiles outside steps to a script that reports each step on fd 7', () => {
    const p = compile(
      'outside:\n  - mkdir: /host\n  - make-shared: /host\nsteps: [{mkdir: /a}]\nexpect: identical\n',
      's3',
    );
    assert.deepEqual(p.outsideLabels, ['mkdir /host', 'make-shared /host']);
    assert.match(p.outsideScript, /echo 1 >&7\nmkdir -p -- \/host\n.*\necho 2 >&7\nmount --make-shared -- \/host/);
    execFileSync('bash', ['-n', '-c', p.outsideScript]);
    assert.equal(compile('steps: [{mkdir: /a}]\nexpect: identical\n', 's4').outsideScript, '');
  });
});

describe('compile: the script header', () => {
  it('keeps a file name with a newline inside its comment line', () => {
    const loaded = parseScenario(
      'name: n\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n',
      'a\ntouch /tmp/pwned #.yaml',
    );
    const plan = compileScenario(loaded.scenario, { id: 's1', file: loaded.file, mountEngine: 'v2' });
    const first = plan.treeScript.split('\n').slice(0, 2);
    assert.equal(first[0], '# mountlab plan for scenario "n" ("a\\ntouch /tmp/pwned #.yaml"); generated, do not edit.');
    assert.match(first[1]!, /^# Run as:/);
  });
});
