import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { parseScenario } from '../scenario/load.js';
import { renderTreeScript } from './tree-script.js';

/** The bash rendering of a scenario t.yaml made of these lines after its name and description. */
const compile = (yaml: string, id: string) => {
  const { scenario } = parseScenario(`name: t\ndescription: d\n${yaml}`, 't.yaml');
  const r = renderTreeScript(scenario, { id, file: 't.yaml' });
  return { treeScript: r.tree, outsideScript: r.outside };
};

describe('tree script: the bash rendering', () => {
  it('waits for every child before ready, and re-executes behind unshare at the next step', () => {
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
    assert.match(p.treeScript, /\n {4}exec 12<&-\n/);
  });

  it('compiles outside steps to a script that reports each step on fd 7', () => {
    const p = compile(
      'outside:\n  - mkdir: /host\n  - make-shared: /host\nsteps: [{mkdir: /a}]\nexpect: identical\n',
      's3',
    );
    assert.match(p.outsideScript, /echo 1 >&7\nmkdir -p -- \/host\n.*\necho 2 >&7\nmount --make-shared -- \/host/);
    execFileSync('bash', ['-n', '-c', p.outsideScript]);
    assert.equal(compile('steps: [{mkdir: /a}]\nexpect: identical\n', 's4').outsideScript, '');
  });
});

describe('tree script: the header', () => {
  it('keeps a file name with a newline inside its comment line', () => {
    const loaded = parseScenario(
      'name: n\ndescription: d\nsteps: [{mkdir: /w}]\nexpect: identical\n',
      'a\ntouch /tmp/pwned #.yaml',
    );
    const first = renderTreeScript(loaded.scenario, { id: 's1', file: loaded.file }).tree.split('\n').slice(0, 2);
    assert.equal(first[0], '# mountlab plan for scenario "n" ("a\\ntouch /tmp/pwned #.yaml"); generated, do not edit.');
    assert.match(first[1]!, /^# Run as:/);
  });
});
