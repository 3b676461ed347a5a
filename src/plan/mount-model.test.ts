import { strict as assert } from 'node:assert';
import { formatMountinfoLine } from '../capture/mountinfo.js';
import { parseScenario } from '../scenario/load.js';
import { MountModel, SimError, type Task } from './mount-model.js';
import { thrown } from '../../test/thrown.js';

const run = (steps: string, outside?: string) =>
  MountModel.runScenario(
    parseScenario(
      `name: t\ndescription: d\n${outside ? `outside:\n${outside}` : ''}steps:\n${steps}expect: identical\n`,
      't.yaml',
    ).scenario,
  );

/**
 * The tree's table without ids: "mountpoint root optional-fields fstype source" per line, ids replaced by letters in
 * order of appearance.
 */
function table(steps: string, outside?: string): string[] {
  const { capture } = run(steps, outside);
  const letters = new Map<number, string>();
  const l = (n: number): string => {
    if (!letters.has(n)) letters.set(n, String.fromCharCode(65 + letters.size));
    return letters.get(n)!;
  };
  return capture.tasks[0]!.mounts.filter((m) => m.mountPoint.startsWith('/w')).map((m) => {
    const shared = m.shared ? ` shared:${l(m.shared)}` : '';
    const master = m.master ? ` master:${l(m.master)}` : '';
    return `${m.mountPoint} ${m.root}${shared}${master}${m.unbindable ? ' unbindable' : ''}`;
  });
}

describe('import: the kernel model', () => {
  // The same sequence was run on the host kernel (6.18) in a private mount
  // namespace; these are its results, ids renamed.
  it('reaches a covered mount through /proc/self/fd/N/, and a plain slave helper gives a master alone', () => {
    const steps = [
      '  - mkdir: [/w/src, /w/g1, /w/s1, /w/t]',
      '  - mount: { fstype: tmpfs, source: srcfs, target: /w/src }',
      '  - mkdir: /w/src/sub',
      '  - bind: { source: /w/src, target: /w/g1 }',
      '  - bind: { source: /w/src, target: /w/s1 }',
      '  - make-shared: /w/g1',
      '  - set-group: { from: /w/g1, to: /w/s1 }',
      '  - make-slave: /w/s1',
      '  - bind: { source: /w/src, target: /w/t }',
      '  - open: { path: /w/t, fd: 5, flags: [path, directory] }',
      '  - bind: { source: /w/src/sub, target: /w/t }',
      '  - set-group: { from: /w/s1, to: /proc/self/fd/5/ }',
      '  - set-group: { from: /w/g1, to: /w/t }',
      '  - close: 5',
      '  - umount: /w/s1',
      '  - umount: /w/g1',
      '',
    ].join('\n');
    assert.deepEqual(table(steps), ['/w/src /', '/w/t / master:A', '/w/t /sub shared:A']);
  });

  it('binds of a shared mount are peers, of a slave slaves; make-slave picks a peer; unbindable clears sharing', () => {
    const steps = [
      '  - mkdir: [/w/a, /w/b, /w/c, /w/d]',
      '  - mount: { fstype: tmpfs, source: x, target: /w/a }',
      '  - make-shared: /w/a',
      '  - bind: { source: /w/a, target: /w/b }',
      '  - make-slave: /w/b',
      '  - bind: { source: /w/b, target: /w/c }',
      '  - bind: { source: /w/a, target: /w/d }',
      '  - make-unbindable: /w/d',
      '',
    ].join('\n');
    assert.deepEqual(table(steps), ['/w/a / shared:A', '/w/b / master:A', '/w/c / master:A', '/w/d / unbindable']);
  });

  it('keeps an unbindable mount unbindable when it is made a slave (change_mnt_propagation), so a bind fails', () => {
    // Seen in a fuzz campaign: make-unbindable, make-slave, bind -> EINVAL on 6.12.
    const steps = [
      '  - mkdir: [/w/a, /w/b]',
      '  - mount: { fstype: tmpfs, source: x, target: /w/a }',
      '  - make-unbindable: /w/a',
      '  - make-slave: /w/a',
      '',
    ].join('\n');
    assert.deepEqual(table(steps), ['/w/a / unbindable']);
    assert.throws(() => table(`${steps}  - bind: { source: /w/a, target: /w/b }\n`), /unbindable/);
  });

  it('copies a namespace on unshare with peers across it, and runs tasks in the worst order their waits allow', () => {
    const steps = [
      '  - mkdir: [/w/a]',
      '  - mount: { fstype: tmpfs, source: x, target: /w/a }',
      '  - make-shared: /w/a',
      '  - spawn: { name: c, steps: [{ unshare: [mnt] }, { signal: go }] }',
      '  - wait: go',
      '',
    ].join('\n');
    const { capture } = run(steps);
    assert.equal(capture.tasks.length, 2);
    const [a, b] = capture.tasks.map((t) => t.mounts.find((m) => m.mountPoint === '/w/a')!);
    assert.notEqual(capture.tasks[0]!.mntNs, capture.tasks[1]!.mntNs);
    assert.equal(a!.shared, b!.shared);
    // Without the wait, init finishes first: the child's copy is taken after init's later steps.
    const racy = run(
      steps.replace(
        '  - wait: go\n',
        '  - mkdir: /w/late\n  - mount: { fstype: tmpfs, source: late, target: /w/late }\n',
      ),
    );
    assert.ok(racy.capture.tasks[1]!.mounts.some((m) => m.mountPoint === '/w/late'));
  });

  it('refuses what plans must never do: propagating (u)mounts, set-group rules, mkdir in proc, fds left open', () => {
    const base = [
      '  - mkdir: [/w/a, /w/b]',
      '  - mount: { fstype: tmpfs, source: x, target: /w/a }',
      '  - mkdir: /w/a/s',
      '  - make-shared: /w/a',
      '  - bind: { source: /w/a, target: /w/b }',
    ];
    const cases: [string[], RegExp][] = [
      [
        [...base, '  - mount: { fstype: tmpfs, source: y, target: /w/a/s }'],
        /shared with 1 other mount\(s\): this would propagate/,
      ],
      [
        [
          '  - mkdir: [/w/a, /w/b]',
          '  - mount: { fstype: tmpfs, source: x, target: /w/a }',
          '  - mount: { fstype: tmpfs, source: y, target: /w/b }',
          '  - make-shared: /w/a',
          '  - set-group: { from: /w/a, to: /w/b }',
        ],
        /different superblocks/,
      ],
      [
        [
          '  - mkdir: [/w/a, /w/b, /w/c]',
          '  - mount: { fstype: tmpfs, source: x, target: /w/a }',
          '  - mkdir: /w/a/s',
          '  - bind: { source: /w/a/s, target: /w/c }',
          '  - bind: { source: /w/a, target: /w/b }',
          '  - make-shared: /w/c',
          '  - set-group: { from: /w/c, to: /w/b }',
        ],
        /the source's root \/s does not contain \/ \(EINVAL\)/,
      ],
      [[...base, '  - set-group: { from: /w/a, to: /w/b }'], /the target is not private/],
      [
        [
          '  - mkdir: [/w/a, /w/b]',
          '  - mount: { fstype: tmpfs, source: x, target: /w/a }',
          '  - bind: { source: /w/a, target: /w/b }',
          '  - set-group: { from: /w/a, to: /w/b }',
        ],
        /the source is private/,
      ],
      [
        ['  - mkdir: /w/p', '  - mount: { fstype: proc, source: proc, target: /w/p }', '  - mkdir: /w/p/sys'],
        /cannot mkdir in proc, whose contents the model does not know/,
      ],
      [['  - mkdir: /w/a', '  - open: { path: /w/a, fd: 5 }'], /ends holding fds 5/],
      [
        [
          '  - mkdir: /w/a',
          '  - mount: { fstype: tmpfs, target: /w/a }',
          '  - mkdir: /w/a/x',
          '  - mount: { fstype: tmpfs, target: /w/a/x }',
          '  - umount: /w/a',
        ],
        /EBUSY/,
      ],
      [
        ['  - spawn: { name: c, steps: [{ wait: a }, { signal: b }] }', '  - wait: b', '  - signal: a'],
        /deadlock: init waits for b, c waits for a/,
      ],
      [['  - mkdir: /w/a', '  - set-group: { from: /w/a, to: /w/a }'], /not a mountpoint/],
    ];
    for (const [steps, re] of cases)
      assert.match(thrown(() => run(`${steps.join('\n')}\n`), SimError).message, re, steps.join('\n'));
  });

  it('doubts an O_DIRECTORY open of a file (ENOTDIR), in the checking mode the generator uses', () => {
    const steps = [
      '  - mkdir: /f',
      '  - mount: { fstype: tmpfs, source: f, target: /f }',
      '  - write: { path: /f/x, content: x }',
      '  - open: { path: /f/x, fd: 5, flags: [directory] }',
      '',
    ].join('\n');
    const s = parseScenario(`name: t\ndescription: d\nsteps:\n${steps}expect: identical\n`, 't.yaml').scenario;
    const k = new MountModel({ check: true });
    const init: Task = { name: 'init', ns: k.copyNs(k.host), steps: [], pc: 0, fds: new Map() };
    k.provide(init.ns, '/proc', 'proc');
    const [last, ...before] = [...s.steps].reverse();
    for (const step of before.reverse())
      assert.equal(
        k.run(init, step, () => {}),
        'ok',
      );
    assert.match(thrown(() => k.run(init, last!, () => {}), SimError).message, /O_DIRECTORY on a file \(ENOTDIR\)/);
  });

  it('prints paths as the kernel does: bytes, mountpoints from the namespace root, strictatime as no flag', () => {
    const steps = [
      '  - mkdir: ["/w/caf\u00e9"]',
      '  - mount: { fstype: tmpfs, source: "my src", target: "/w/caf\u00e9" }',
      '  - remount: { path: "/w/caf\u00e9", options: "ro,nosuid,strictatime" }',
      '',
    ].join('\n');
    const m = run(steps).capture.tasks[0]!.mounts.find((x) => x.mountPoint.startsWith('/w/'))!;
    assert.match(formatMountinfoLine(m), /^\d+ \d+ 0:\d+ \/ \/w\/caf\xc3\xa9 ro,nosuid - tmpfs my\\040src rw,inode64$/);
  });
});
