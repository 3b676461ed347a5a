import { strict as assert } from 'node:assert';
import { assetPath } from '../paths.js';
import { discoverScenarioFiles, loadScenarioFile, parseScenario } from '../scenario/load.js';
import type { Step } from '../scenario/scenario.generated.js';
import { renderTreeScript } from './tree-script.js';
import { MOUNT_ATTR, MS } from './mount-options.js';
import { compileProgram, programStepLabels, stepLabel, stepOps, type Op } from './program.js';
import { compileStep } from './steps.js';

const load = (yaml: string) => parseScenario(`name: t\ndescription: d\n${yaml}`, 't.yaml').scenario;
const noSpawn = () => {
  throw new Error('no spawn here');
};
const ops = (step: Step): Op[] => stepOps(step, noSpawn);

/** One step of every kind, with what the helper does for it. */
const CASES: [Step, Op[]][] = [
  [
    { mkdir: ['/w', '/a b'] },
    [
      { op: 'mkdir', path: '/w' },
      { op: 'mkdir', path: '/a b' },
    ],
  ],
  [{ write: { path: '/w/f', content: "it's\n" } }, [{ op: 'write', path: '/w/f', content: "it's\n" }]],
  [{ symlink: { target: '../x', path: '/w/l' } }, [{ op: 'symlink', target: '../x', path: '/w/l' }]],
  [{ link: { from: '/w/a', to: '/w/b' } }, [{ op: 'link', from: '/w/a', to: '/w/b' }]],
  [{ rename: { from: '/w/a', to: '/w/c' } }, [{ op: 'rename', from: '/w/a', to: '/w/c' }]],
  [{ mkfifo: '/w/p' }, [{ op: 'mkfifo', path: '/w/p' }]],
  [
    { unlink: ['/w/a', '/w/b'] },
    [
      { op: 'unlink', path: '/w/a' },
      { op: 'unlink', path: '/w/b' },
    ],
  ],
  [{ rmdir: '/w/d' }, [{ op: 'rmdir', path: '/w/d' }]],
  [{ chdir: '/w' }, [{ op: 'chdir', path: '/w' }]],
  [{ move: { from: '/a', to: '/b' } }, [{ op: 'move', from: '/a', to: '/b' }]],
  [
    { mount: { fstype: 'tmpfs', target: '/w' } },
    [{ op: 'mount', source: 'tmpfs', target: '/w', fstype: 'tmpfs', flags: 0, data: '' }],
  ],
  [
    { mount: { fstype: 'tmpfs', source: 'my src', target: '/w', options: 'ro,nosuid,size=1m,mode=700,shared' } },
    [
      {
        op: 'mount',
        source: 'my src',
        target: '/w',
        fstype: 'tmpfs',
        flags: MS.RDONLY | MS.NOSUID,
        data: 'size=1m,mode=700',
      },
      { op: 'propagation', path: '/w', type: 'shared', recursive: false },
    ],
  ],
  [
    { mount: { fstype: 'none', source: '/a', target: '/b', options: 'bind,ro' } },
    [{ op: 'bind', source: '/a', target: '/b', recursive: false, attrSet: MOUNT_ATTR.RDONLY, attrClr: 0 }],
  ],
  [
    { mount: { fstype: 'ext4', source: '/dev/vdb', target: '/d' } },
    [
      {
        op: 'exec',
        argv: ['mount', '-t', 'ext4', '--', '/dev/vdb', '/d'],
        why: 'ext4 is not a pseudo filesystem: mount(8) may resolve its source, set up a loop device or run a helper',
      },
    ],
  ],
  [
    { mount: { fstype: 'tmpfs', source: 's', target: '/d', options: 'user,size=1m' } },
    [
      {
        op: 'exec',
        argv: ['mount', '-t', 'tmpfs', '-o', 'user,size=1m', '--', 's', '/d'],
        why: "'user' acts in mount(8) itself",
      },
    ],
  ],
  [
    { mount: { fstype: 'ext4', image: { path: '/i/d.img', 'size-mib': 4 }, options: 'ro', target: '/d' } },
    [
      { op: 'create-image', path: '/i/d.img', bytes: 4 * 1024 * 1024 },
      { op: 'exec', argv: ['mkfs.ext4', '-q', '-F', '--', '/i/d.img'], why: 'making a filesystem is mkfs work' },
      { op: 'loop-mount', image: '/i/d.img', target: '/d', fstype: 'ext4', flags: MS.RDONLY, data: '' },
    ],
  ],
  [
    { mount: { fstype: 'ext2', image: { path: '/i/e.img' }, options: 'offset=0', target: '/e' } },
    [
      { op: 'create-image', path: '/i/e.img', bytes: 8 * 1024 * 1024 },
      { op: 'exec', argv: ['mkfs.ext2', '-q', '-F', '--', '/i/e.img'], why: 'making a filesystem is mkfs work' },
      {
        op: 'exec',
        argv: ['mount', '-t', 'ext2', '-o', 'loop,offset=0', '--', '/i/e.img', '/e'],
        why: "'offset' acts in mount(8) itself",
      },
    ],
  ],
  [
    { bind: { source: '/w', target: '/a' } },
    [{ op: 'bind', source: '/w', target: '/a', recursive: false, attrSet: 0, attrClr: 0 }],
  ],
  [
    { rbind: { source: '/w', target: '/a' } },
    [{ op: 'bind', source: '/w', target: '/a', recursive: true, attrSet: 0, attrClr: 0 }],
  ],
  [{ umount: '/a' }, [{ op: 'umount', path: '/a', lazy: false }]],
  [{ umount: { path: '/a', lazy: true } }, [{ op: 'umount', path: '/a', lazy: true }]],
  [
    { remount: { path: '/a', options: 'ro,nosuid' } },
    [{ op: 'remount', path: '/a', super: false, options: ['ro', 'nosuid'] }],
  ],
  [
    { remount: { path: '/a', options: 'ro', super: true } },
    [{ op: 'remount', path: '/a', super: true, options: ['ro'] }],
  ],
  [
    { remount: { path: '/a', options: 'ro=vfs' } },
    [
      {
        op: 'exec',
        argv: ['mount', '-o', 'remount,bind,ro=vfs', '--', '/a'],
        why: "'ro=vfs' is a flag with a value (e.g. ro=vfs)",
      },
    ],
  ],
  [{ 'make-shared': '/w' }, [{ op: 'propagation', path: '/w', type: 'shared', recursive: false }]],
  [
    { 'make-slave': { path: '/w', recursive: true } },
    [{ op: 'propagation', path: '/w', type: 'slave', recursive: true }],
  ],
  [{ 'make-private': '/w' }, [{ op: 'propagation', path: '/w', type: 'private', recursive: false }]],
  [{ 'make-unbindable': { path: '/w' } }, [{ op: 'propagation', path: '/w', type: 'unbindable', recursive: false }]],
  [{ 'set-group': { from: '/a', to: '/b' } }, [{ op: 'set-group', from: '/a', to: '/b' }]],
  [
    { 'open-tree': { source: '/a', target: '/b', recursive: true } },
    [{ op: 'open-tree', source: '/a', target: '/b', recursive: true }],
  ],
  [{ signal: 'up' }, [{ op: 'signal', name: 'up' }]],
  [{ wait: 'up' }, [{ op: 'wait', name: 'up' }]],
  [{ unshare: ['mnt', 'uts'] }, [{ op: 'unshare', namespaces: ['mnt', 'uts'] }]],
  [{ open: { path: '/a', fd: 12 } }, [{ op: 'open', path: '/a', fd: 12, flags: ['rdonly'], mode: 0o644, offset: 0 }]],
  [
    { open: { path: '/f', fd: 20, flags: ['rdwr', 'creat'], mode: '0600', offset: 3 } },
    [{ op: 'open', path: '/f', fd: 20, flags: ['rdwr', 'creat'], mode: 0o600, offset: 3 }],
  ],
  [{ close: 12 }, [{ op: 'close', fd: 12 }]],
  [{ chroot: '/n' }, [{ op: 'chroot', path: '/n' }]],
  [
    { 'pivot-root': { 'new-root': '/n/', 'put-old': '/old' } },
    [{ op: 'pivot-root', newRoot: '/n/', putOld: '/n/old' }],
  ],
];

describe('program: a scenario as operations for the guest helper', () => {
  for (const [step, want] of CASES) {
    it(`${JSON.stringify(step)}`, () => {
      assert.deepEqual(ops(step), want);
      // The label is the one steps.ts gives, so messages read as before.
      assert.equal(stepLabel(step), compileStep(step).label);
    });
  }

  it('labels a spawn as steps.ts does and gives its task an index', () => {
    const step: Step = { spawn: { name: 'kid', steps: [{ mkdir: '/k' }] } };
    assert.equal(stepLabel(step), compileStep(step).label);
    assert.deepEqual(
      stepOps(step, (name, steps) => {
        assert.equal(name, 'kid');
        assert.equal(steps.length, 1);
        return 3;
      }),
      [{ op: 'spawn', task: 3, name: 'kid' }],
    );
  });

  it("numbers steps scenario-wide, a child task's after its spawn, as compile.ts does", () => {
    const s = load(
      [
        'steps:',
        '  - mkdir: /a',
        '  - spawn: {name: kid, steps: [{unshare: [mnt]}, {spawn: {name: gk, steps: [{signal: g}]}}, {signal: up}]}',
        '  - wait: up',
        'expect: identical',
        '',
      ].join('\n'),
    );
    const p = compileProgram(s, 's1');
    assert.deepEqual(
      p.tasks.map((t) => t.name),
      ['init', 'kid', 'gk'],
    );
    assert.deepEqual(
      p.tasks.map((t) => t.steps.map((x) => x.n)),
      [[1, 2, 7], [3, 4, 6], [5]],
    );
    assert.deepEqual(programStepLabels(p), [
      'mkdir /a',
      'spawn kid',
      'kid: unshare mnt',
      'kid: spawn gk',
      'gk: signal g',
      'kid: signal up',
      'wait up',
    ]);
    assert.deepEqual(p.tasks[0]!.steps[1]!.ops, [{ op: 'spawn', task: 1, name: 'kid' }]);
    assert.deepEqual(p.tasks[1]!.steps[1]!.ops, [{ op: 'spawn', task: 2, name: 'gk' }]);
    assert.equal(p.syncDir, '/.mountlab-sync-s1');
  });

  it('numbers outside steps from 1, apart from the tree', () => {
    const p = compileProgram(
      load('outside:\n  - mkdir: /host\n  - make-shared: /host\nsteps: [{mkdir: /a}]\nexpect: identical\n'),
      's3',
    );
    assert.deepEqual(
      p.outside.map((s) => [s.n, s.label]),
      [
        [1, 'mkdir /host'],
        [2, 'make-shared /host'],
      ],
    );
    assert.deepEqual(p.outside[1]!.ops, [{ op: 'propagation', path: '/host', type: 'shared', recursive: false }]);
    assert.deepEqual(
      p.tasks[0]!.steps.map((s) => s.n),
      [1],
    );
  });

  it('refuses a NUL in a path, but writes one as file content', () => {
    assert.throws(() => ops({ mkdir: '/a\0b' }), /NUL byte/);
    assert.deepEqual(ops({ write: { path: '/f', content: 'a\0b' } }), [{ op: 'write', path: '/f', content: 'a\0b' }]);
    assert.throws(() => compileProgram(load('steps: [{mkdir: /a}]\nexpect: identical\n'), 'Bad Id'), /bad plan id/);
  });

  it('gives every scenario of the corpus the steps, labels and tasks its bash rendering gives it', async () => {
    const files = await discoverScenarioFiles([
      assetPath('scenarios'),
      assetPath('test', 'fixtures', 'scenarios-hostile-valid'),
    ]);
    assert.ok(files.length > 50, `only ${files.length} scenarios found`);
    for (const f of files) {
      const loaded = await loadScenarioFile(f);
      const old = renderTreeScript(loaded.scenario, { id: 'c1', file: loaded.file });
      const p = compileProgram(loaded.scenario, 'c1');
      const where = String(f);
      assert.deepEqual(programStepLabels(p), old.labels, where);
      assert.deepEqual(
        p.tasks.map((t) => t.name),
        old.tasks,
        where,
      );
      assert.equal(p.syncDir, old.syncDir, where);
      assert.deepEqual(
        p.outside.map((s) => s.label),
        old.outsideLabels,
        where,
      );
    }
  });
});
