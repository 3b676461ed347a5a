import { strict as assert } from 'node:assert';
import { BadInputError, type InputProblem } from '../errors.js';
import { assetPath } from '../paths.js';
import { discoverScenarioFiles, loadScenarioFile, parseScenario } from '../scenario/load.js';
import { checkModel } from './model-check.js';

const load = (body: string) => parseScenario(`name: t\ndescription: d\n${body}expect: identical\n`, 't.yaml');

/** The one problem the check finds, or undefined when it accepts. */
function refusal(body: string): InputProblem | undefined {
  try {
    checkModel(load(body));
    return undefined;
  } catch (e) {
    assert.ok(e instanceof BadInputError, String(e));
    assert.equal(e.problems.length, 1, e.message);
    return e.problems[0];
  }
}

function thrownProblems(f: () => void): InputProblem[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof BadInputError, String(e));
    return [...e.problems].sort((a, b) => a.line - b.line);
  }
  assert.fail('the check accepted it');
}

function refused(body: string, line: number, col: number, message: RegExp): InputProblem {
  const p = refusal(body);
  assert.ok(p, 'the check accepted it');
  assert.equal(p.file, 't.yaml');
  assert.deepEqual([p.line, p.col], [line, col], p.message);
  assert.match(p.message, message);
  assert.ok(p.suggestion, 'it says what to do');
  return p;
}

describe('plan: the model pre-check', () => {
  it('refuses a bind of a source no step created, at its line and column', () => {
    const p = refused(
      'steps:\n  - mkdir: /a\n  - bind: {source: /nonexistent, target: /a}\n',
      5,
      5,
      /^step 2 \(bind \/nonexistent -> \/a\) is certain to fail: the bind source \/nonexistent does not exist/,
    );
    assert.equal(p.path, '/steps/1');
    refused('steps:\n  - mkdir: /a\n  - rbind: {source: /a/b, target: /a}\n', 5, 5, /rbind source \/a\/b/);
    // Made, then removed again.
    refused('steps:\n  - mkdir: [/a, /b]\n  - rmdir: /b\n  - bind: {source: /b, target: /a}\n', 6, 5, /step 3/);
    // Inside a tmpfs, which starts empty.
    refused(
      'steps:\n  - mkdir: /t\n  - mount: {fstype: tmpfs, source: t, target: /t}\n' +
        '  - bind: {source: /t/x, target: /t}\n',
      6,
      5,
      /x in tmpfs/,
    );
  });

  it('refuses make-slave, umount and pivot-root of a directory that is not a mount', () => {
    refused('steps:\n  - mkdir: /a\n  - make-slave: /a\n', 5, 5, /step 2 \(make-slave \/a\).*not a mount.*EINVAL/);
    refused('steps:\n  - mkdir: /a\n  - umount: /a\n', 5, 5, /step 2 \(umount \/a\).*not a mount/);
    refused('steps:\n  - mkdir: /a\n  - umount: {path: /a, lazy: true}\n', 5, 5, /umount -l \/a/);
    refused(
      'steps:\n  - mkdir: /n/old\n  - pivot-root: {new-root: /n, put-old: /old}\n',
      5,
      5,
      /step 2 \(pivot-root \/n \(old root at \/old\)\).*not a mount/,
    );
    // Unmounted before: no longer a mount.
    refused(
      'steps:\n  - mkdir: /a\n  - mount: {fstype: tmpfs, source: a, target: /a}\n  - umount: /a\n  - umount: /a\n',
      7,
      5,
      /step 4/,
    );
  });

  it('refuses a move into its own subtree', () => {
    refused(
      [
        'steps:',
        '  - mkdir: /a',
        '  - mount: {fstype: tmpfs, source: a, target: /a}',
        '  - mkdir: /a/in',
        '  - move: {from: /a, to: /a/in}',
        '',
      ].join('\n'),
      7,
      5,
      /step 4 \(move \/a -> \/a\/in\).*lies on the mount being moved.*ELOOP/,
    );
  });

  it('refuses rmdir of a mountpoint, also when reached through another bind of the same directory', () => {
    refused(
      'steps:\n  - mkdir: /a\n  - mount: {fstype: tmpfs, source: a, target: /a}\n  - rmdir: /a\n',
      6,
      5,
      /step 3 \(rmdir \/a\).*is a mountpoint.*EBUSY/,
    );
    refused(
      [
        'steps:',
        '  - mkdir: [/a, /b]',
        '  - mount: {fstype: tmpfs, source: a, target: /a}',
        '  - mkdir: /a/x',
        '  - bind: {source: /a, target: /b}',
        '  - mount: {fstype: tmpfs, source: x, target: /b/x}',
        '  - rmdir: /a/x',
        '',
      ].join('\n'),
      9,
      5,
      /step 6 \(rmdir \/a\/x\)/,
    );
  });

  it('refuses a wait whose signal is never reached, and a cycle of waits, naming the spawned step', () => {
    const cycle = [
      'steps:',
      '  - spawn:',
      '      name: kid',
      '      steps:',
      '        - wait: b',
      '        - signal: a',
      '  - wait: a',
      '  - signal: b',
      '',
    ].join('\n');
    const problems = thrownProblems(() => checkModel(load(cycle)));
    assert.deepEqual(
      problems.map((p) => [p.line, p.col, p.path]),
      [
        [7, 11, '/steps/0/spawn/steps/0'],
        [9, 5, '/steps/1'],
      ],
    );
    assert.match(
      problems[1]!.message,
      /^step 4 \(wait a\) waits for 'a' forever \(a cycle of waits between tasks\): step 3 \(kid: signal a\) comes/,
    );
    assert.match(problems[0]!.message, /^step 2 \(kid: wait b\) waits for 'b' forever \(a cycle/);
    refused('steps:\n  - wait: me\n  - signal: me\n', 4, 5, /step 1 \(wait me\).*step 2 \(signal me\) comes after it/);
    // The only signaller is spawned after the wait.
    refused(
      'steps:\n  - wait: go\n  - spawn: {name: kid, steps: [{signal: go}]}\n',
      4,
      5,
      /step 1 \(wait go\).*task kid, which is never started/,
    );
  });

  it('says nothing where it cannot be sure', () => {
    const accepted = [
      // The guest image's own paths.
      'steps:\n  - mkdir: /a\n  - bind: {source: /etc/hostname, target: /a}\n',
      'steps:\n  - umount: /tmp\n',
      'steps:\n  - rmdir: /mnt\n',
      // A filesystem it does not know the contents of.
      'steps:\n  - mkdir: /s\n  - mount: {fstype: sysfs, target: /s}\n  - bind: {source: /s/kernel, target: /s}\n',
      // Options it cannot judge: the mount may be a bind.
      'steps:\n  - mkdir: [/a, /b]\n  - mount: {fstype: none, source: /a, target: /b, options: bind}\n  - umount: /b\n',
      // A mount on a shared parent propagates: the model stops there.
      [
        'steps:',
        '  - mkdir: [/a, /b]',
        '  - mount: {fstype: tmpfs, source: a, target: /a}',
        '  - make-shared: /a',
        '  - bind: {source: /a, target: /b}',
        '  - mkdir: /a/x',
        '  - mount: {fstype: tmpfs, source: x, target: /a/x}',
        '  - umount: /b/x',
        '',
      ].join('\n'),
      // Two tasks that race: which runs first is not the model's to say.
      'steps:\n  - spawn: {name: k, steps: [{mkdir: /x}]}\n  - mkdir: /a\n  - bind: {source: /x, target: /a}\n',
      // umount(8) also takes a mount's source.
      'steps:\n  - mkdir: [/a, /s]\n  - mount: {fstype: tmpfs, source: /s, target: /a}\n  - umount: /s\n',
      // After a step it cannot follow.
      'steps:\n  - symlink: {path: /l, target: /nowhere}\n  - mkdir: /a\n  - bind: {source: /gone, target: /a}\n',
    ];
    for (const body of accepted) assert.equal(refusal(body), undefined, body);
  });

  it('follows a signalled task: a bind after the wait sees what the other task made', () => {
    const body = [
      'steps:',
      '  - spawn: {name: k, steps: [{mkdir: /x}, {signal: up}]}',
      '  - wait: up',
      '  - mkdir: /a',
      '  - bind: {source: /x, target: /a}',
      '  - bind: {source: /y, target: /a}',
      '',
    ].join('\n');
    refused(body, 8, 5, /step 7 \(bind \/y -> \/a\)/);
  });

  it('refuses a bad outside step, and knows the outside steps made what the tree binds', () => {
    refused('outside:\n  - mkdir: /h\n  - umount: /h\nsteps:\n  - mkdir: /a\n', 5, 5, /^outside step 2 \(umount \/h\)/);
    assert.equal(
      refusal(
        [
          'outside:',
          '  - mkdir: /h',
          '  - mount: {fstype: tmpfs, source: h, target: /h}',
          '  - umount: /proc',
          'steps:',
          '  - umount: /h',
          '',
        ].join('\n'),
      ),
      undefined,
    );
  });

  it('accepts every shipped scenario and every valid fixture the suite uses', async () => {
    const files = await discoverScenarioFiles([
      assetPath('scenarios'),
      assetPath('test', 'hostile', 'valid'),
      assetPath('test', 'fixtures'),
    ]);
    assert.ok(files.length > 90, `${files.length} files`);
    for (const f of files) {
      const loaded = await loadScenarioFile(f).catch(() => undefined);
      if (loaded) checkModel(loaded);
    }
  });
});
