import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { assetPath } from '../paths.js';
import { parseScenario } from '../scenario/load.js';
import { criuArgs } from './compile.js';
import { NotByHand, renderHandScript } from './hand-script.js';

const load = (file: string) => parseScenario(readFileSync(assetPath(file)), file).scenario;
const bashSyntax = (script: string) => execFileSync('bash', ['-n'], { input: script });

describe('hand script', () => {
  it("renders init's steps as util-linux lines inside the tree's init, then criu with the lab's options", () => {
    const s = parseScenario(
      [
        'name: small',
        'description: the root-bind failure alone',
        'steps:',
        '  - mkdir: [/src, /bug]',
        '  - mount: { fstype: tmpfs, source: src, target: /src }',
        '  - mkdir: /src/sub',
        '  - bind: { source: /src/sub, target: /bug }',
        '  - umount: /src',
        'engine:',
        '  dump-args: ["--ext-mount-map=auto"]',
        '  restore-args: ["--external=mnt[data]:@ROOT@/srv/data"]',
        'expect: identical',
      ].join('\n'),
      'small.yaml',
    ).scenario;
    const h = renderHandScript(s, criuArgs(s.engine));
    const lines = h.script.split('\n');
    const at = (l: string) => lines.indexOf(l);
    for (const l of [
      'mkdir -p -- /src /bug',
      'mount -t tmpfs -- src /src',
      'mount --bind -- /src/sub /bug',
      'umount -- /src',
    ])
      assert.ok(at(l) > at('umount -l /.repro-old') && at(l) < at('exec sleep infinity 0<&- 1>&- 2>&-'), l);
    assert.ok(lines.some((l) => l.startsWith('unshare --mount --pid --fork') && l.includes('setsid')));
    assert.match(h.script, /criu dump -t "\$TREE" -D "\$W\/img" -o dump.log -v4 --ext-mount-map=auto; then\n/);
    // @ROOT@ is the scenario root the script made, and stays one word.
    assert.match(
      h.script,
      /--root "\$W\/root" --pidfile "\$W\/restored.pid" '--external=mnt\[data\]:'"\$W\/root"\/srv\/data; then/,
    );
    assert.deepEqual(h.helperSteps, []);
    bashSyntax(h.script);
  });

  it('runs outside steps chrooted in a bind of the root and names the steps that need the helper', () => {
    const s = load('scenarios/imported/seed-002-lxc.yaml');
    const h = renderHandScript(s, criuArgs(s.engine));
    assert.match(h.script, /chroot "\$W\/host" \/bin\/bash -eu <<'OUTSIDE'\ncd \/\nmkdir -p -- \/.import\/sb\/253-1/);
    assert.ok(h.helperSteps.some((l) => l.startsWith('set-group')));
    bashSyntax(h.script);
  });

  it('holds with a sleep started before the steps when they remount noexec (no exec after it)', () => {
    const s = parseScenario(
      'name: t\ndescription: d\nsteps:\n  - remount: { path: /, options: "nosuid,noexec" }\nexpect: identical\n',
      't.yaml',
    ).scenario;
    const lines = renderHandScript(s, criuArgs(s.engine)).script.split('\n');
    const at = (l: string) => lines.indexOf(l);
    assert.ok(at('sleep infinity 0<&- 1>&- 2>&- 9>&- &') >= 0, lines.join('\n'));
    assert.ok(at('sleep infinity 0<&- 1>&- 2>&- 9>&- &') < at('mount -o remount,bind,nosuid,noexec -- /'));
    assert.ok(at('wait') > at('mount -o remount,bind,nosuid,noexec -- /'));
    assert.equal(at('exec sleep infinity 0<&- 1>&- 2>&-'), -1);
    assert.ok(lines.some((l) => l.includes('[ -s "$W/ready" ]')));
    bashSyntax(lines.join('\n'));
  });

  it('refuses what needs the task machinery, saying which step', () => {
    const s = load('src/reduce/fixtures/noisy-root-bind.yaml');
    assert.throws(
      () => renderHandScript(s, criuArgs(s.engine)),
      (e: unknown) => e instanceof NotByHand && /step 19 "spawn child"/.test(e.message),
    );
  });
});
