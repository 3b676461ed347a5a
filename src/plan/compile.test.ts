import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { parseScenario } from '../scenario/load.js';
import { compileScenario, criuArgs } from './compile.js';

const load = (yaml: string) => parseScenario(`name: t\ndescription: d\n${yaml}`, 't.yaml');

describe('plan compiler', () => {
  it('turns engine settings into criu options, externals restored from their host source', () => {
    assert.deepEqual(criuArgs({ 'link-remap': true, 'ghost-limit': 1024, 'mntns-compat-mode': true, external: [{ path: '/data', source: '/host/data' }] }), {
      dumpArgs: ['--external', 'mnt[/data]:data', '--link-remap', '--ghost-limit=1024'],
      restoreArgs: ['--external', 'mnt[data]:@ROOT@/host/data', '--mntns-compat-mode'],
    });
  });

  it('numbers steps scenario-wide, child tasks included, and labels them by task', () => {
    const p = compileScenario(load('steps:\n  - mkdir: /a\n  - spawn: {name: kid, steps: [{unshare: [mnt]}, {signal: up}]}\n  - wait: up\nexpect: identical\n'), 's1');
    assert.deepEqual(p.stepLabels, ['mkdir /a', 'spawn kid', 'kid: unshare mnt', 'kid: signal up', 'wait up']);
    assert.deepEqual(p.tasks, ['init', 'kid']);
    // init reports ready only after every child said it is done.
    assert.match(p.treeScript, /ml_wait done-kid\n {2}printf 'ready\\n' >&9/);
    // unshare replaces the task and resumes at the next step.
    assert.match(p.treeScript, /ml_reexec 4 \/usr\/local\/bin\/mountlab-helper unshare mnt --/);
  });

  it('produces a script bash accepts', () => {
    const p = compileScenario(load("steps:\n  - write: {path: /a, content: \"it's $(x) `y`\"}\n  - spawn: {name: k, steps: [{mkdir: /b}]}\nexpect: identical\n"), 's2');
    execFileSync('bash', ['-n', '-c', p.treeScript]);
  });

  it('compiles outside steps to a script that reports each step on fd 7', () => {
    const p = compileScenario(load('outside:\n  - mkdir: /host\n  - make-shared: /host\nsteps: [{mkdir: /a}]\nexpect: identical\n'), 's3');
    assert.deepEqual(p.outsideLabels, ['mkdir /host', 'make-shared /host']);
    assert.match(p.outsideScript, /echo 1 >&7\nmkdir -p -- \/host\n.*\necho 2 >&7\nmount --make-shared -- \/host/);
    execFileSync('bash', ['-n', '-c', p.outsideScript]);
    assert.equal(compileScenario(load('steps: [{mkdir: /a}]\nexpect: identical\n'), 's4').outsideScript, '');
  });
});
