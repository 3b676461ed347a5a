import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { formatCapture } from '../capture/capture-file.js';
import { BadInputError } from '../errors.js';
import type { Step } from '../scenario/scenario.generated.js';
import { importText } from './import-command.js';
import { parsePaste } from './parse-paste.js';
import { SEED_001, SEED_002 } from './fixtures.testutil.js';
import { planImport, TooManySteps, type ImportPlan, type PlanStep } from './plan-import.js';
import { MountModel } from '../plan/mount-model.js';
import { checkImport } from './verify.js';
import { thrown } from '../../test/thrown.js';

const plan = (text: string, o: Parameters<typeof planImport>[1] = {}) => planImport(parsePaste(text, 'f'), o);

/** Steps of the init task (spawned tasks' steps too), flattened. */
function flat(steps: PlanStep[]): Step[] {
  return steps.flatMap((s) =>
    'spawn' in s ? [{ spawn: { name: s.spawn.name, steps: [] } }, ...flat(s.spawn.steps)] : [s.step],
  );
}

function roundTrip(text: string, flags = {}): { plan: ImportPlan; yaml: string } {
  const r = importText(text, 'f', flags);
  const built = MountModel.runScenario(r.scenario).capture;
  const c = checkImport(r.plan, built);
  assert.ok(
    c.equivalent,
    `${[...c.differences.map((d) => d.sentence), ...c.leftovers].join('\n')}\n${formatCapture(built)}\n${r.yaml}`,
  );
  return { plan: r.plan, yaml: r.yaml };
}

describe('import: plan-import', () => {
  it("seed 001's reverse-stacked table: covered mounts kept as fds, groups from helpers in master order", () => {
    const text = readFileSync(SEED_001, 'latin1');
    const { plan: p } = roundTrip(text, { pick: 1 });
    const steps = flat(p.steps);
    const helpers = steps
      .filter((s) => s['make-shared'] || s['set-group']?.to.startsWith('/.import/'))
      .map((s) => JSON.stringify(s));
    assert.deepEqual(helpers, [
      '{"make-shared":"/.import/peers/1"}',
      '{"set-group":{"from":"/.import/peers/1","to":"/.import/peers/3"}}',
      '{"make-shared":"/.import/peers/3"}',
      '{"set-group":{"from":"/.import/peers/3","to":"/.import/peers/4"}}',
      '{"make-shared":"/.import/peers/4"}',
      '{"set-group":{"from":"/.import/peers/4","to":"/.import/slaves/4"}}',
    ]);
    // The three lower mounts of the stack are reached through fds, the top one by its path.
    const assign = steps
      .filter((s) => s['set-group'] && !s['set-group'].to.startsWith('/.import/'))
      .map((s) => s['set-group']!);
    assert.deepEqual(assign, [
      { from: '/.import/slaves/4', to: '/proc/self/fd/10/' },
      { from: '/.import/peers/4', to: '/proc/self/fd/11/' },
      { from: '/.import/peers/3', to: '/proc/self/fd/12/' },
      { from: '/.import/peers/1', to: '/pasted/tmp' },
    ]);
    assert.deepEqual(p.counts, {
      mounts: 4,
      namespaces: 1,
      superblocks: 1,
      peerGroups: 3,
      slaves: 3,
      external: 0,
      standIns: 0,
    });
    roundTrip(text, { pick: 2 });
  });

  it("seed 002's LXC container: the disk is a tmpfs stand-in, its four host masters are made outside", () => {
    const { plan: p, yaml } = roundTrip(readFileSync(SEED_002, 'latin1'));
    assert.deepEqual(p.counts, {
      mounts: 21,
      namespaces: 1,
      superblocks: 15,
      peerGroups: 0,
      slaves: 5,
      external: 5,
      standIns: 1,
    });
    assert.equal(p.substitutions.length, 1);
    assert.match(
      p.substitutions[0]!,
      new RegExp(
        /"ext4" "\/dev\/disk\/by-uuid\/6c5a78e0-95fa-49a8-aa91-a8093d295e58" \(device 253:1, line 16\) /.source +
          /is a disk of the pasting machine: a tmpfs here with the same source/.source,
      ),
    );
    assert.match(yaml, /# stand-in: "ext4" "\/dev\/disk\/by-uuid\/6c5a78e0/);
    assert.deepEqual(p.engine, {
      'dump-args': ['--ext-mount-map=auto', '--enable-external-masters'],
      'restore-args': ['--ext-mount-map=auto', '--enable-external-masters'],
    });
    const outside = flat(p.outside);
    assert.ok(outside.some((s) => s.mount?.fstype === 'debugfs'));
    assert.deepEqual(
      outside.filter((s) => s['make-shared']).map((s) => s['make-shared']),
      [
        '/.import/host/master-1',
        '/.import/host/master-8',
        '/.import/host/master-11',
        '/.import/host/master-23',
        '/.import/host/master-25',
      ],
    );
    // proc's /sys and sysfs's /devices/virtual/net exist in any guest; the scenario says it needs them.
    assert.ok(p.requires.paths!.includes('/proc/sys/net') && p.requires.paths!.includes('/sys/devices/virtual/net'));
    // /cgmanager's root (strictatime: no atime flag in the paste) gets strictatime, not the bind's relatime.
    assert.ok(
      flat(p.steps).some(
        (s) => s.remount?.path === '/pasted/sys/fs/cgroup/cgmanager' && s.remount.options === 'rw,strictatime',
      ),
    );
  });

  it('rebuilds a mount hidden under a later mount on its parent before the cover (a mount trap)', () => {
    const text = [
      '1 0 0:1 / / rw - tmpfs r rw',
      '2 1 0:2 / /a/b rw shared:5 - tmpfs hidden rw',
      '3 1 0:3 / /a rw - tmpfs cover rw',
      '4 3 0:1 / /a/b rw shared:5 - tmpfs r rw',
    ].join('\n');
    thrown(() => plan(text), BadInputError); // peers 2 and 4 are on two superblocks
    const ok = [
      '1 0 0:1 / / rw - tmpfs r rw',
      '2 1 0:1 /x /a/b rw shared:5 - tmpfs r rw',
      '3 1 0:3 / /a rw - tmpfs cover rw',
      '4 3 0:1 / /a/b rw shared:5 - tmpfs r rw',
    ].join('\n');
    const { plan: p } = roundTrip(ok);
    const binds = flat(p.steps)
      .filter((s) => s.bind?.target.startsWith('/pasted'))
      .map((s) => s.bind!.target);
    assert.deepEqual(binds, ['/pasted', '/pasted/a/b', '/pasted/a', '/pasted/a/b']);
    assert.ok(
      flat(p.steps).some((s) => s.open?.path === '/pasted/a/b'),
      'the hidden peer is kept as an fd',
    );
  });

  it('gives each further mount namespace a task unsharing after the helpers exist; peers across them kept', () => {
    const text = [
      '== pid 1 (init) ==',
      '10 0 0:5 / / rw - tmpfs r rw',
      '11 10 0:6 / /w rw shared:7 - tmpfs w rw',
      '== pid 50 (Worker One) ==',
      '20 0 0:8 / / rw - tmpfs r2 rw',
      '21 20 0:6 /sub /w rw shared:7 - tmpfs w rw',
      '== pid 51 (same ns) ==',
      '20 0 0:8 / / rw - tmpfs r2 rw',
    ].join('\n');
    const { plan: p } = roundTrip(text);
    assert.deepEqual(p.tasks, [
      { name: 'init', pasted: 'init' },
      { name: 'worker-one', pasted: 'Worker One' },
    ]);
    assert.ok(p.notes.some((n) => /share a mount namespace/.test(n)));
    const spawn = p.steps.findIndex((s) => 'spawn' in s);
    const lastHelper = Math.max(
      ...p.steps.map((s, i) => (!('spawn' in s) && String(s.step['make-shared']).startsWith('/.import/') ? i : -1)),
    );
    assert.ok(spawn > lastHelper, 'spawned after the helpers are shared');
  });

  it('uses loop-backed images for ext4 with --loop-images, and says the source is the loop device', () => {
    const p = plan('1 0 254:1 / / rw - ext4 /dev/vda1 rw\n2 1 254:1 /home /home rw - ext4 /dev/vda1 rw\n', {
      loopImages: true,
    });
    const mounts = flat(p.steps).filter((s) => s.mount);
    assert.deepEqual(
      mounts.map((s) => s.mount),
      [{ fstype: 'ext4', image: { path: '/.import/img-254-1', 'size-mib': 16 }, target: '/.import/sb/254-1' }],
    );
    assert.deepEqual(p.looseSources, ['254:1']);
    assert.match(p.substitutions[0]!, /a loop-backed ext4 image here/);
  });

  it('keeps one sysfs and one of each single-instance filesystem real; a second becomes a stand-in', () => {
    const p = plan(
      [
        '1 0 0:1 / / rw - tmpfs r rw',
        '2 1 0:2 / /s1 rw - sysfs sysfs rw',
        '3 1 0:3 / /s2 rw - sysfs sysfs rw',
        '4 1 0:4 / /c rw - cgroup2 cgroup2 rw',
        '',
      ].join('\n'),
    );
    const mounts = flat(p.steps)
      .filter((s) => s.mount)
      .map((s) => `${s.mount!.fstype} ${s.mount!.source}`);
    assert.deepEqual(mounts.sort(), ['sysfs sysfs', 'tmpfs cgroup2', 'tmpfs r', 'tmpfs sysfs']);
    assert.equal(p.counts.standIns, 2);
  });

  it('refuses, with the line, what Linux never prints or the lab cannot build', () => {
    const cases: [string, RegExp][] = [
      [
        '1 0 0:1 / / rw - tmpfs r rw\n2 1 0:1 / /a rw - tmpfs r rw\n3 1 0:1 /x /a rw - tmpfs r rw\n',
        new RegExp(
          /^f:3:1: mount 3 and mount 2 \(line 2\) are both on "\/a" with the same parent; /.source +
            /mountlab can rebuild mounts stacked/.source,
        ),
      ],
      [
        '1 0 0:1 / / rw - tmpfs r rw\n2 1 0:1 / /a rw shared:1 unbindable - tmpfs r rw\n',
        /^f:2:1: mount 2 is unbindable and also shared or a slave/,
      ],
      [
        '1 0 0:1 / / rw shared:1 - tmpfs r rw\n2 1 0:2 / /a rw shared:1 - tmpfs s rw\n',
        /^f:2:1: shared:1 has members on two superblocks/,
      ],
      [
        '1 0 0:1 / / rw shared:1 master:2 - tmpfs r rw\n2 1 0:1 / /a rw shared:2 master:1 - tmpfs r rw\n',
        /master links loop: shared:1 -> shared:2 -> shared:1/,
      ],
      [
        '1 0 0:1 / / rw shared:1 - tmpfs r rw\n2 1 0:1 / /a rw shared:1 master:4 - tmpfs r rw\n',
        /^f:2:1: the peers of shared:1 have different masters/,
      ],
      [
        '1 0 0:1 / / rw - tmpfs r rw\n1 1 0:1 / /a rw - tmpfs r rw\n',
        /^f:2:1: mount id 1 appears twice \(also on line 1\)/,
      ],
      [
        '1 2 0:1 / /a rw - tmpfs r rw\n2 1 0:1 / /a/b rw - tmpfs r rw\n',
        /^f:1:1: parent ids form a cycle \(lines 1, 2\); check the parent ids/,
      ],
      [
        '1 0 0:1 / / rw - tmpfs r rw\n2 1 0:1 / /caf\xe9 rw - tmpfs r rw\n',
        /^f:2:1: the mountpoint "\/pasted\/caf\\351" is not UTF-8/,
      ],
      ['1 0 0:1 / / rw - tmpfs r rw\n2 1 0:1 / /a\\012b rw - tmpfs r rw\n', /holds a newline/],
      [
        '1 0 0:1 / / rw master:3 - tmpfs r rw\n2 1 0:2 / /x rw master:3 - tmpfs r rw\n',
        /master:3 has slaves on two superblocks/,
      ],
    ];
    for (const [text, re] of cases) assert.match(thrown(() => plan(text), BadInputError).message, re, text);
    assert.match(
      thrown(() => plan('1 0 0:1 / / rw - tmpfs r rw\n', { base: '/proc/x' }), BadInputError).message,
      /^--base:1:1: "\/proc\/x": \/proc is the lab's own/,
    );
    const big = [
      '1 0 0:1 / / rw - tmpfs r rw',
      ...Array.from({ length: 200 }, (_, i) => `${i + 2} 1 0:1 / /m${i} rw,nosuid shared:${i + 1} - tmpfs r rw`),
    ].join('\n');
    assert.throws(
      () => plan(big),
      (e: unknown) =>
        e instanceof TooManySteps &&
        /^f:1:1: the scenario would need \d+ steps; a scenario has at most 500/.test(e.message),
    );
  });

  it('passes super options it can and says which it cannot; notes unknown per-mount options', () => {
    const p = plan('1 0 0:1 / / rw,lazytime - tmpfs r rw,size=10k,weird=a\\054b\n');
    assert.deepEqual(flat(p.steps).find((s) => s.mount)!.mount, {
      fstype: 'tmpfs',
      source: 'r',
      target: '/.import/sb/0-1',
      options: 'size=10k',
    });
    assert.ok(
      p.notes.some((n) => /super options weird=a,b cannot be passed/.test(n)),
      p.notes.join('\n'),
    );
    assert.ok(
      p.substitutions.some((s) => /per-mount options lazytime are not set/.test(s)),
      p.substitutions.join('\n'),
    );
  });
});
