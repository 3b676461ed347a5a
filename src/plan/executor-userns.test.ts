import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { buildHelper } from '../../test/helper-build.js';
import { parseScenario } from '../scenario/load.js';
import { compileProgram, type Program, ZDTM_USERNS } from './program.js';
import { runTree } from './run-tree.testutil.js';

/**
 * User namespaces with maps, run by the real helper on this host inside a
 * private mount and pid namespace (run-tree.testutil.ts): the unshare-user
 * step and the uns flavour's init. What the kernel did is read back from
 * /proc (the maps) and from the owners of files the tasks made.
 */

const program = (yaml: string, uns = false): Program =>
  compileProgram(
    parseScenario(`name: t\ndescription: d\n${yaml}`, 't.yaml').scenario,
    'u1',
    uns ? ZDTM_USERNS : undefined,
  );

/** /proc/PID/uid_map as the kernel prints it, as `inside outside count` lines. */
const mapLines = (b: Buffer) =>
  b
    .toString()
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '));

describe('@e2e vm/helper user namespaces with maps, on this host', function () {
  this.timeout(180_000);
  let helper = '';
  before(() => {
    assert.equal(spawnSync('unshare', ['--version']).status, 0, 'unshare(1) is needed to run the executor here');
    helper = buildHelper(scratchDir('helper'));
  });
  after(removeScratch);

  it('unshare-user: a child left behind writes the maps; the task is the new root and can mount', () => {
    const r = runTree(
      helper,
      program(
        [
          'steps:',
          '  - mkdir: /k',
          '  - spawn:',
          '      name: kid',
          '      steps:',
          '        - unshare-user:',
          '            namespaces: [mnt]',
          '            uid-map: [{inside: 0, outside: 200000, count: 1000}]',
          '            gid-map: [{inside: 0, outside: 300000, count: 1000}]',
          '            setgroups: deny',
          '        - mount: {fstype: tmpfs, source: kid-k, target: /k}',
          '        - write: {path: /k/mine, content: x}',
          '        - write: {path: /by-kid, content: x}',
          '        - signal: kid-done',
          '  - wait: kid-done',
          'expect: identical',
        ].join('\n'),
      ),
      ['/by-kid'],
    );
    assert.ok(r.capture, `the tree never got ready: ${r.status.join(' | ')}\n${r.err}`);
    const kid = r.capture.tasks.find((t) => t.key === 'kid');
    const init = r.capture.tasks.find((t) => t.key === 'init');
    assert.ok(kid && init);
    assert.notEqual(kid.mntNs, init.mntNs);
    const k = kid.mounts.filter((m) => m.mountPoint === '/k').pop();
    assert.equal(k?.source, 'kid-k', 'the kid mounted a tmpfs: it holds CAP_SYS_ADMIN in its namespace');
    // The tmpfs root is 1777: the kid made /by-kid as its root, which the maps put at 200000:300000.
    assert.equal(r.owners[0], '200000:300000');
  });

  it('uns: init is root of a user namespace with zdtm maps; inherited mounts are locked, its own are not', () => {
    const yaml = (extra: string[]) =>
      ['steps:', '  - mkdir: [/m]', '  - write: {path: /made-by-init, content: x}', ...extra, 'expect: identical'].join(
        '\n',
      );
    const files = ['/proc/1/uid_map', '/proc/1/gid_map', '/proc/1/setgroups', '/made-by-init'];
    const r = runTree(helper, program(yaml(['  - mount: {fstype: tmpfs, source: own, target: /m}']), true), files);
    assert.ok(r.capture, `the tree never got ready: ${r.status.join(' | ')}\n${r.err}`);
    assert.deepEqual(mapLines(r.files[0]!), ['0 100000 100000', '100000 200000 50000']);
    assert.deepEqual(mapLines(r.files[1]!), ['0 400000 50000', '50000 500000 100000']);
    assert.equal(r.files[2]!.toString().trim(), 'allow');
    assert.equal(r.owners[3], '100000:400000', 'a file init makes belongs to the namespace root');
    // The helper's lock probe: /usr was bound in before the tree, so it is locked; init mounted /proc and /m.
    const init = r.capture.tasks[0]!;
    const lockOf = (mp: string) => init.locks?.get(init.mounts.find((m) => m.mountPoint === mp)!.mountId);
    // The root too: pivot_root moved the old root's lock onto the new one.
    assert.deepEqual(['/', '/usr', '/proc', '/m'].map(lockOf), [true, true, false, false]);
    // It unmounted each in a scratch copy: the tree's own mounts are all still there, unchanged.
    const table = (c: typeof r.recapture) => c!.tasks.map((t) => t.mounts.map(({ line: _l, ...m }) => m));
    assert.deepEqual(table(r.recapture), table(r.capture));
    // Its own mount unmounts; /usr, bound in before the tree and so inherited, is locked (EINVAL).
    const mountThenUmount = ['  - mount: {fstype: tmpfs, source: own, target: /m}', '  - umount: /m'];
    const own = runTree(helper, program(yaml(mountThenUmount), true));
    assert.ok(own.status.includes('ready'), own.err);
    const locked = runTree(helper, program(yaml(['  - umount: /usr']), true));
    assert.ok(
      locked.status.some((s) => /^failed 3 1 EINVAL$/.test(s)),
      `${locked.status.join(' | ')}\n${locked.err}`,
    );
  });
});
