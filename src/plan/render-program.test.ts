import { strict as assert } from 'node:assert';
import { parseScenario } from '../scenario/load.js';
import { compileProgram, type Program } from './program.js';
import { renderProgram } from './render-program.js';

const SCENARIO = `name: render
description: d
outside:
  - mkdir: /host
  - make-shared: /host
steps:
  - mkdir: [/a, /b]
  - mount: {fstype: tmpfs, source: data, target: /a, options: "ro,nosuid,noatime,size=1m,shared"}
  - mount: {fstype: none, source: /a, target: /b, options: "bind,nosuid,rw"}
  - remount: {path: /b, options: "ro,nodev"}
  - mount: {fstype: ext4, image: {path: /i.img, size-mib: 4}, target: /d}
  - spawn:
      name: kid
      steps: [{unshare: [mnt, uts]}, {open: {path: /a, fd: 12, flags: [rdonly, directory]}}, {signal: up}]
  - wait: up
  - write: {path: "/a b/f", content: "x\\n"}
  - pivot-root: {new-root: /n, put-old: /old}
expect: identical
`;

describe('render-program: the program in words', () => {
  it('prints each task and step with what it does, in words (pinned)', () => {
    const text = renderProgram(compileProgram(parseScenario(SCENARIO, 'r.yaml').scenario, 'r1'));
    assert.equal(
      text,
      [
        'program for scenario render; sync points in /.mountlab-sync-r1',
        '',
        "outside: in the guest's own namespaces, chrooted into the scenario root, before the tree",
        '  step 1: mkdir /host',
        '    mkdir -p /host',
        '  step 2: make-shared /host',
        '    make /host shared',
        '',
        'task init: the init of new mount and pid namespaces',
        '  first: pivot_root into the root, mount /proc, detach the old root, fd 8 on /.mountlab-sync-r1, setsid',
        '  step 1: mkdir /a /b',
        '    mkdir -p /a',
        '    mkdir -p /b',
        '  step 2: mount -t tmpfs data /a',
        '    mount a new tmpfs from data on /a: ro,nosuid,noatime, data size=1m',
        '    make /a shared',
        '  step 3: mount -t none /a /b',
        '    bind /a on /b; on the clone before it is attached: set nosuid, clear ro',
        '  step 4: remount /b ro,nodev',
        "    remount /b (this mount's flags) with ro,nodev, after those mount(8) reads from fstab or mountinfo",
        '  step 5: mount -t ext4 -o loop /i.img (4M) /d',
        '    create /i.img, 4 MiB (it must not exist)',
        '    run mkfs.ext4 -q -F -- /i.img (making a filesystem is mkfs work)',
        '    mount ext4 image /i.img through a loop device on /d: rw',
        '  step 6: spawn kid',
        '    fork task kid',
        '  step 10: wait up',
        '    wait for sync point up',
        '  step 11: write /a b/f',
        '    write 2 byte(s) to "/a b/f" (created or truncated)',
        '  step 12: pivot-root /n (old root at /old)',
        '    pivot_root to /n, the old root at /n/old; chdir /',
        "  then: wait for done-kid, report ready, hold (exec sleep 1000000, the lab's fds closed)",
        '',
        'task kid: forked by step 6',
        '  step 7: unshare mnt,uts',
        '    unshare mnt,uts',
        '  step 8: open /a as fd 12 (rdonly,directory)',
        '    open /a rdonly,directory as fd 12',
        '  step 9: signal up',
        '    signal sync point up',
        "  then: signal done-kid, hold (exec sleep 1000000, the lab's fds closed)",
        '',
      ].join('\n'),
    );
  });

  it('keeps one step per line whatever the names hold', () => {
    const p: Program = {
      scenario: 'x',
      syncDir: '/.mountlab-sync-x',
      tasks: [{ name: 'init', steps: [{ n: 1, label: 'mkdir /a\nb', ops: [{ op: 'mkdir', path: '/a\nb c' }] }] }],
      outside: [],
    };
    const lines = renderProgram(p).split('\n');
    assert.ok(lines.includes('  step 1: mkdir /a\\nb'), lines.join('\n'));
    assert.ok(lines.includes('    mkdir -p "/a\\nb c"'), lines.join('\n'));
  });
});
