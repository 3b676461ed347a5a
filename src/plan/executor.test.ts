import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import type { Capture, TaskCapture } from '../capture/capture-file.js';
import type { MountEntry } from '../capture/mountinfo.js';
import { assetPath } from '../paths.js';
import { discoverScenarioFiles, loadScenarioFile, parseScenario } from '../scenario/load.js';
import { buildHelper } from '../../test/helper-build.js';
import { optionKind } from './mount-options.js';
import { compileProgram, type Program } from './program.js';
import { serialiseProgram } from './wire.js';
import { runTree, type TreeRun } from './run-tree.testutil.js';
import { hostileProgram } from './wire.testutil.js';

/**
 * The guest helper's reader and executor of programs (vm/helper/plan-*.c),
 * built with the host's gcc. Reading needs gcc only; running a tree needs
 * root and unshare(1), and runs inside a private mount and pid namespace
 * over a tmpfs root, so nothing of it reaches this host's own mounts.
 */

const program = (yaml: string, id = 'e1'): Program =>
  compileProgram(parseScenario(`name: t\ndescription: d\n${yaml}`, 't.yaml').scenario, id);

function run(helper: string, args: string[], input?: string) {
  return spawnSync(helper, args, { input, encoding: 'latin1', timeout: 30_000 });
}

describe('vm/helper reads programs (plan-echo, classify-options)', function () {
  this.timeout(120_000);
  let helper = '';
  before(() => {
    helper = buildHelper(scratchDir('helper'));
  });
  after(removeScratch);

  it('reads a hostile program and writes it back byte for byte', () => {
    const wire = serialiseProgram(hostileProgram());
    const r = run(helper, ['plan-echo', '-'], wire);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, wire);
  });

  it('reads every program of the corpus back unchanged', async () => {
    const files = await discoverScenarioFiles([assetPath('scenarios')]);
    for (const f of files) {
      const wire = serialiseProgram(compileProgram((await loadScenarioFile(f)).scenario, 'c1'));
      const r = run(helper, ['plan-echo', '-'], wire);
      assert.equal(r.status, 0, `${String(f)}: ${r.stderr}`);
      assert.equal(r.stdout, wire, String(f));
    }
  });

  it('refuses a malformed plan as a whole, saying where', () => {
    const good = serialiseProgram(program('steps: [{mkdir: /a}, {open: {path: /a, fd: 12}}]\nexpect: identical\n'));
    const cases: [string, RegExp][] = [
      [good.replace('mountlab-plan 1', 'mountlab-plan 2'), /line 1: plan version 2; this helper reads version 1/],
      [good.replace('end\n', ''), /no end record: the plan is cut short/],
      [good.replace('op mkdir', 'op mkdirs'), /line \d+: unknown op 'mkdirs'/],
      [good.replace('op mkdir /a', 'op mkdir /a /b'), /op mkdir takes 1 argument\(s\), not 2/],
      [good.replace('op mkdir /a', 'op mkdir \\400'), /not a record of escaped arguments/],
      [good.replace('op mkdir /a', 'op mkdir a b'), /takes 1 argument/],
      [good.replace('op mkdir /a', 'op mkdir  /a'), /not a record of escaped arguments/],
      [good.replace(' 12 0644', ' 012 0644'), /argument 2 is not a number of its kind/],
      [good.replace('task init', 'task first'), /lacks its scenario, sync-dir or init task/],
      [good + 'step 9 x\n', /a record after end/],
      [good.slice(0, -1), /does not end with a newline/],
      [good.replace('op mkdir /a', 'op spawn 5 k'), /spawn of task 5, which the plan lacks/],
    ];
    for (const [text, message] of cases) {
      const r = run(helper, ['plan-echo', '-'], text);
      assert.equal(r.status, 1, text);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
  });

  it("classifies every option name as mount-options.ts does (the remount's tables)", () => {
    const names = [
      ...'ro rw exec noexec suid nosuid dev nodev sync async dirsync remount bind rbind silent loud mand nomand'.split(
        ' ',
      ),
      ...'atime noatime iversion noiversion diratime nodiratime relatime norelatime strictatime nostrictatime'.split(
        ' ',
      ),
      ...'lazytime nolazytime unbindable runbindable private rprivate slave rslave shared rshared'.split(' '),
      ...'symfollow nosymfollow move sub nosub defaults auto noauto user nouser users nousers owner noowner'.split(' '),
      ...'group nogroup _netdev comment x-systemd.automount X-foo x-mount.mkdir X-mount.idmap loop offset'.split(' '),
      ...'sizelimit encryption nofail uhelper helper verity.roothash verity.fecroots size mode use r'.split(' '),
    ];
    const r = run(helper, ['classify-options', ...names]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, names.map((n) => `${n} ${optionKind(n)}\n`).join(''));
  });
});

function task(c: Capture | undefined, key: string): TaskCapture {
  const t = c?.tasks.find((x) => x.key === key);
  assert.ok(t, `no task ${key} in the capture`);
  return t;
}

function mountAt(t: TaskCapture, path: string): MountEntry {
  const m = t.mounts.filter((x) => x.mountPoint === path).pop();
  assert.ok(m, `${t.key} has no mount at ${path}: ${t.mounts.map((x) => x.mountPoint).join(' ')}`);
  return m;
}

describe('@e2e vm/helper run-tree on this host, in private namespaces', function () {
  this.timeout(180_000);
  let helper = '';
  before(() => {
    const which = spawnSync('unshare', ['--version'], { encoding: 'utf8' });
    assert.equal(which.status, 0, 'unshare(1) is needed to run the executor here');
    helper = buildHelper(scratchDir('helper'));
    topology = runTree(helper, program(TOPOLOGY), [FILE, '/etc/fstab']);
    assert.ok(topology.capture, `the tree never got ready: ${topology.status.join(' | ')}\n${topology.err}`);
  });
  after(removeScratch);

  const FILE = "/a/it's $(x) `y`";
  const TOPOLOGY = [
    'steps:',
    '  - mkdir: [/a, /b, /r, /s, /s2, /sb, /sb-b, /f, /etc, /c]',
    '  - mount: {fstype: tmpfs, source: src-a, target: /a, options: "nosuid,size=1m"}',
    '  - make-shared: /a',
    '  - bind: {source: /a, target: /b}',
    '  - make-slave: /b',
    '  - remount: {path: /b, options: ro}',
    '  - mkdir: /a/sub',
    '  - mount: {fstype: tmpfs, source: src-sub, target: /a/sub}',
    '  - rbind: {source: /a, target: /r}',
    '  - mount: {fstype: tmpfs, source: src-s, target: /s}',
    '  - make-shared: /s',
    '  - bind: {source: /s, target: /s2}',
    '  - mkdir: /s/m',
    '  - mount: {fstype: none, source: /a, target: /s/m, options: "bind,ro"}',
    '  - mount: {fstype: tmpfs, source: src-sb, target: /sb, options: nodev}',
    '  - bind: {source: /sb, target: /sb-b}',
    '  - remount: {path: /sb, options: ro, super: true}',
    '  - write: {path: /etc/fstab, content: "fstab-src /f tmpfs noexec 0 0\\n"}',
    '  - mount: {fstype: tmpfs, source: src-f, target: /f}',
    '  - remount: {path: /f, options: nodev}',
    `  - write: {path: ${JSON.stringify(FILE)}, content: "hostile\\ncontent $HOME \\\\ \\"q\\"\\n"}`,
    '  - spawn:',
    '      name: kid',
    '      steps:',
    '        - unshare: [mnt]',
    '        - mount: {fstype: tmpfs, source: kid-c, target: /c}',
    '        - open: {path: /a, fd: 12, flags: [directory]}',
    '        - signal: up',
    '  - wait: up',
    `  - open: {path: ${JSON.stringify(FILE)}, fd: 15}`,
    'expect: identical',
    '',
  ].join('\n');

  // Built once, in the one before hook (after the helper), for the tests that read it.
  let topology: TreeRun;

  it('reports each step, then ready, and leaves every task holding as `sleep`', () => {
    const steps = Array.from({ length: 28 }, (_v, i) => `step ${i + 1}`);
    assert.match(topology.status[0]!, /^init \d+$/);
    assert.deepEqual([...topology.status.slice(1)].sort(), [...steps, 'ready'].sort());
    assert.equal(topology.status[topology.status.length - 1], 'ready');
    assert.deepEqual(topology.comms, ['sleep', 'sleep']);
    assert.equal(topology.err, '');
  });

  it('binds, and makes a shared mount with a slave of it', () => {
    const init = task(topology.capture, 'init');
    const a = mountAt(init, '/a');
    const b = mountAt(init, '/b');
    assert.ok(a.shared, 'the shared mount has a peer group');
    assert.equal(b.master, a.shared);
    assert.equal(b.shared, undefined);
    assert.equal(`${b.major}:${b.minor}`, `${a.major}:${a.minor}`);
    assert.equal(b.root, '/');
    // Mounted on the master after the slave was made: propagated to it.
    assert.equal(mountAt(init, '/b/sub').source, 'src-sub');
  });

  it('rbinds a mount with its submounts', () => {
    const init = task(topology.capture, 'init');
    assert.equal(mountAt(init, '/r').source, 'src-a');
    assert.equal(mountAt(init, '/r/sub').source, 'src-sub');
  });

  it('remounts a bind with mount_setattr: only the named flag changes (util-linux >= 2.39)', () => {
    const b = mountAt(task(topology.capture, 'init'), '/b');
    assert.deepEqual(b.mountOptions.slice(0, 2), ['ro', 'nosuid'], b.mountOptions.join(','));
    assert.ok(b.superOptions.includes('rw'), 'the superblock stays rw');
  });

  it('sets the flags of `-o bind,ro` on the clone before it is attached, so the propagated copy is ro too', () => {
    const init = task(topology.capture, 'init');
    assert.equal(mountAt(init, '/s/m').mountOptions[0], 'ro');
    assert.equal(mountAt(init, '/s2/m').mountOptions[0], 'ro');
  });

  it('remounts a superblock ro: every mount of it says so, the other bind keeps its own flags', () => {
    const init = task(topology.capture, 'init');
    const sb = mountAt(init, '/sb');
    const other = mountAt(init, '/sb-b');
    assert.equal(sb.superOptions[0], 'ro');
    assert.equal(other.superOptions[0], 'ro');
    assert.equal(other.mountOptions[0], 'rw');
    // The prepended mountinfo options named nodev, so the classic reset did not clear it.
    assert.ok(sb.mountOptions.includes('nodev'), sb.mountOptions.join(','));
  });

  it("prepends the options of the target's /etc/fstab entry to a remount, as mount(8) does", () => {
    const f = mountAt(task(topology.capture, 'init'), '/f');
    assert.ok(f.mountOptions.includes('noexec') && f.mountOptions.includes('nodev'), f.mountOptions.join(','));
    assert.equal(topology.files[1]!.toString(), 'fstab-src /f tmpfs noexec 0 0\n');
  });

  it('runs a spawned task in a mount namespace of its own, with its fd at the number asked for', () => {
    const init = task(topology.capture, 'init');
    const kid = task(topology.capture, 'kid');
    assert.notEqual(kid.mntNs, init.mntNs);
    assert.equal(mountAt(kid, '/c').source, 'kid-c');
    assert.ok(!init.mounts.some((m) => m.mountPoint === '/c'), 'the kid mounted /c in its own namespace only');
    assert.deepEqual(
      kid.fds.map((f) => [f.fd, f.path]),
      [[12, '/a']],
    );
  });

  it('writes hostile names and contents as data, and holds no fd of the lab', () => {
    assert.equal(topology.files[0]!.toString(), 'hostile\ncontent $HOME \\ "q"\n');
    const init = task(topology.capture, 'init');
    assert.deepEqual(
      init.fds.map((f) => [f.fd, f.path]),
      [[15, FILE]],
    );
  });

  it('stacks a filesystem on the root of a mount of its own superblock, as mount(8) 2.41 does (sysfs on sysfs)', () => {
    // mount(2) refuses this with EBUSY; fsmount + move_mount, what libmount uses, allows it.
    const r = runTree(
      helper,
      program(
        [
          'steps:',
          '  - mkdir: /y',
          '  - mount: {fstype: sysfs, source: sys-a, target: /y}',
          '  - mount: {fstype: sysfs, source: sys-b, target: /y, options: "ro,nosuid"}',
          'expect: identical',
          '',
        ].join('\n'),
      ),
    );
    assert.equal(r.err, '');
    const y = task(r.capture, 'init').mounts.filter((m) => m.mountPoint === '/y');
    assert.deepEqual(
      y.map((m) => [m.fsType, m.mountOptions[0], m.mountOptions.includes('nosuid')]),
      [
        ['sysfs', 'rw', false],
        ['sysfs', 'ro', true],
      ],
    );
    assert.equal(`${y[0]!.major}:${y[0]!.minor}`, `${y[1]!.major}:${y[1]!.minor}`, 'one superblock, mounted twice');
  });

  it('reports a failing step as `failed N 1 ERRNO`, with the step on stderr, and goes no further', () => {
    const r = runTree(
      helper,
      program(
        'steps:\n  - mkdir: /a\n  - bind: {source: /nonexistent, target: /a}\n  - mkdir: /b\nexpect: identical\n',
      ),
    );
    assert.deepEqual(r.status.slice(1), ['step 1', 'step 2', 'failed 2 1 ENOENT']);
    assert.match(
      r.err,
      /^mountlab-helper: step 2 \(bind \/nonexistent -> \/a\): bind \/nonexistent on \/a: No such file or directory$/m,
    );
  });

  it("reports a spawned task's failure with its own step number", () => {
    const r = runTree(
      helper,
      program(
        'steps:\n  - spawn: {name: kid, steps: [{rmdir: /gone}, {signal: up}]}\n  - wait: up\nexpect: identical\n',
      ),
    );
    assert.ok(r.status.includes('failed 2 1 ENOENT'), r.status.join(' | '));
    assert.match(r.err, /step 2 \(rmdir \/gone\): rmdir \/gone: No such file or directory/);
  });

  it('socket: binds, listens and connects unix sockets, kept as the fds asked for; the capture says so', () => {
    const r = runTree(
      helper,
      program(
        [
          'steps:',
          '  - mkdir: /s',
          '  - mount: {fstype: tmpfs, source: socks, target: /s}',
          '  - socket: {fd: 10, bind: /s/listen.sock, listen: true}',
          '  - socket: {fd: 11, connect: /s/listen.sock}',
          '  - socket: {fd: 12, type: dgram, bind: /s/log.sock}',
          '  - socket: {fd: 13, type: dgram, connect: /s/log.sock}',
          'expect: identical',
          '',
        ].join('\n'),
      ),
    );
    assert.equal(r.err, '');
    const fds = task(r.capture, 'init').fds.map((f) => [f.fd, f.type, f.socket]);
    assert.deepEqual(fds, [
      [10, 'socket', { kind: 'unix/stream', listening: true, name: '/s/listen.sock' }],
      [11, 'socket', { kind: 'unix/stream', listening: false, peer: '/s/listen.sock' }],
      [12, 'socket', { kind: 'unix/dgram', listening: false, name: '/s/log.sock' }],
      [13, 'socket', { kind: 'unix/dgram', listening: false, peer: '/s/log.sock' }],
    ]);
    assert.deepEqual(r.comms, ['sleep']);
  });

  it('mknod: makes a char device node and a fifo; an open of the node shows its rdev', () => {
    const r = runTree(
      helper,
      program(
        [
          'steps:',
          '  - mkdir: /d',
          '  - mount: {fstype: tmpfs, source: devs, target: /d}',
          '  - mknod: {path: /d/null, type: char, major: 1, minor: 3, mode: "0666"}',
          '  - mknod: {path: /d/pipe, type: fifo}',
          '  - open: {path: /d/null, fd: 10, flags: [rdwr]}',
          '  - open: {path: /d/pipe, fd: 11, flags: [rdwr]}',
          'expect: identical',
          '',
        ].join('\n'),
      ),
    );
    assert.equal(r.err, '');
    const fds = task(r.capture, 'init').fds.map((f) => [f.fd, f.type, f.rdev, f.path]);
    assert.deepEqual(fds, [
      [10, 'chr', '1:3', '/d/null'],
      [11, 'fifo', undefined, '/d/pipe'],
    ]);
  });

  it('mmap: keeps a shared mapping and a private one of a file unlinked after, holding as the helper', () => {
    const r = runTree(
      helper,
      program(
        [
          'steps:',
          '  - mkdir: /m',
          '  - mount: {fstype: tmpfs, source: maps, target: /m}',
          '  - truncate: {path: /m/data, size: 8192}',
          '  - write: {path: /m/ghost, content: "ghost\\n"}',
          '  - mmap: {path: /m/data, offset: 4096, length: 4096, shared: true, write: true}',
          '  - mmap: {path: /m/ghost, length: 4096}',
          '  - unlink: /m/ghost',
          '  - spawn: {name: kid, steps: [{signal: up}]}',
          '  - wait: up',
          'expect: identical',
          '',
        ].join('\n'),
      ),
    );
    assert.equal(r.err, '');
    const init = task(r.capture, 'init');
    const maps = (init.maps ?? []).map((m) => [
      m.path,
      m.deleted,
      m.perms,
      m.offset,
      m.mntId === mountAt(init, '/m').mountId,
    ]);
    assert.deepEqual(maps.sort(), [
      ['/m/data', false, 'rw-s', 4096, true],
      ['/m/ghost', true, 'r--p', 0, true],
    ]);
    // init keeps its mappings by not exec'ing; the kid, forked after them, became sleep and dropped them.
    assert.deepEqual(r.comms, ['mountlab-helper', 'sleep']);
    // (sleep maps data files of its own, such as locale files; none of the scenario's.)
    assert.deepEqual(
      (task(r.capture, 'kid').maps ?? []).filter((m) => m.path.startsWith('/m/')),
      [],
    );
    assert.deepEqual(init.fds, [], 'the holding helper closed every fd of the lab');
  });

  it('pivot-root into a bare tmpfs: the task finds no sleep there, holds as the helper, and is named', () => {
    const r = runTree(
      helper,
      program(
        [
          'steps:',
          '  - mkdir: [/bare, /data]',
          '  - spawn:',
          '      name: contained',
          '      steps:',
          '        - unshare: [mnt]',
          '        - make-private: {path: /, recursive: true}',
          '        - mount: {fstype: tmpfs, source: bare-root, target: /bare}',
          '        - mkdir: [/bare/old, /bare/data]',
          '        - bind: {source: /data, target: /bare/data}',
          '        - pivot-root: {new-root: /bare, put-old: /old}',
          '        - umount: {path: /old, lazy: true}',
          '        - signal: pivoted',
          '  - wait: pivoted',
          'expect: identical',
          '',
        ].join('\n'),
      ),
    );
    assert.equal(r.err, '');
    assert.deepEqual(r.comms, ['sleep', 'mountlab-helper']);
    const contained = task(r.capture, 'contained');
    assert.deepEqual(
      contained.mounts.map((m) => [m.mountPoint, m.fsType]),
      [
        ['/', 'tmpfs'],
        ['/data', contained.mounts[1]!.fsType],
      ],
    );
  });

  it('truncate: sets a size with a hole, then writes at an offset past it (a sparse file)', () => {
    const r = runTree(
      helper,
      program(
        [
          'steps:',
          '  - mkdir: /t',
          '  - mount: {fstype: tmpfs, source: sparse, target: /t}',
          '  - truncate: {path: /t/sparse, size: 65536, offset: 100000, content: "end"}',
          '  - open: {path: /t/sparse, fd: 10, flags: [rdwr]}',
          '  - truncate: {fd: 10, size: 100003}',
          'expect: identical',
          '',
        ].join('\n'),
      ),
      ['/t/sparse'],
    );
    assert.equal(r.err, '');
    const f = r.files[0]!;
    assert.equal(f.length, 100003);
    assert.equal(f.subarray(100000).toString(), 'end');
    assert.ok(
      f.subarray(0, 100000).every((b) => b === 0),
      'the hole reads as zeros',
    );
    assert.equal(task(r.capture, 'init').fds[0]!.size, 100003);
  });

  it('access: a path that exists passes; a missing one fails unless missing-ok', () => {
    const ok = runTree(
      helper,
      program('steps:\n  - access: /usr\n  - access: {path: /nope, missing-ok: true}\nexpect: identical\n'),
    );
    assert.equal(ok.err, '');
    assert.equal(ok.status[ok.status.length - 1], 'ready');
    const bad = runTree(helper, program('steps:\n  - access: /nope\nexpect: identical\n'));
    assert.deepEqual(bad.status.slice(1), ['step 1', 'failed 1 1 ENOENT']);
    assert.match(bad.err, /step 1 \(access \/nope\): stat \/nope: No such file or directory/);
  });

  it('runs the outside steps chrooted into the root, in the namespace the tree is then made from', () => {
    const r = runTree(
      helper,
      program(
        [
          'outside:',
          '  - mkdir: /host',
          '  - mount: {fstype: tmpfs, source: host-src, target: /host}',
          '  - make-shared: /host',
          'steps:',
          '  - mkdir: /t',
          '  - bind: {source: /host, target: /t}',
          '  - make-slave: /t',
          'expect: identical',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(r.outsideStatus, ['step 1', 'step 2', 'step 3', 'ready']);
    const init = task(r.capture, 'init');
    const host = mountAt(init, '/host');
    assert.equal(host.source, 'host-src');
    // The tree's copy of the outside mount is a peer of it; the bind made from it, its slave.
    assert.ok(host.shared, 'the outside mount came in shared');
    assert.equal(mountAt(init, '/t').master, host.shared);
  });
});
