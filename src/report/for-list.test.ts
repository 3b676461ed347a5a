import { strict as assert } from 'node:assert';
import type { ScenarioResult } from '../results/result.js';
import { mountinfoText, renderForList } from './for-list.js';

const MESSAGE = "criu dump failed (exit 1): Error (criu/mount.c:753): mnt: 43:./bug doesn't have a proper root mount";
const result: ScenarioResult = {
  scenario: 'small',
  mountEngine: 'v2',
  file: 'small.yaml',
  cell: 'vm-debian-6.12-criu-4.1.1',
  outcome: 'xfail',
  reason: `known bug (https://example.org/x): ${MESSAGE}`,
  expected: 'xfail',
  phases: [],
  differences: [],
  filtered: [],
  leaks: [],
  error: {
    phase: 'dump',
    message: MESSAGE,
    excerpt: "(02.4) Error (criu/mount.c:753): mnt: 43:./bug doesn't have a proper root mount",
  },
  artifacts: {},
  durationMs: 1,
};
const SCENARIO = [
  'name: small',
  'description: x',
  'steps:',
  '  - mkdir: [/src, /bug]',
  '  - mount: { fstype: tmpfs, source: src, target: /src }',
  '  - mkdir: /src/sub',
  '  - bind: { source: /src/sub, target: /bug }',
  '  - umount: /src',
  'expect: identical',
  '',
].join('\n');
const CAPTURE = [
  '@task init pid=156 mntns=11 cwd=/ root=/',
  '45 36 0:28 / / rw,relatime - overlay mountlab-root rw',
  '43 45 0:33 /sub /bug rw,relatime - tmpfs src rw,inode64',
  '@task kid pid=157 mntns=11 cwd=/ root=/',
  '45 36 0:28 / / rw,relatime - overlay mountlab-root rw',
  '@outside pid=153 mntns=1',
  '1 0 0:2 / / rw - ext4 /dev/vda rw',
].join('\n');

describe('report --for-list', () => {
  it('one mountinfo block per mount namespace, no lab sections', () => {
    assert.deepEqual(mountinfoText(CAPTURE), [
      '# task init (pid 156), mount namespace 11: /proc/156/mountinfo',
      '45 36 0:28 / / rw,relatime - overlay mountlab-root rw',
      '43 45 0:33 /sub /bug rw,relatime - tmpfs src rw,inode64',
    ]);
  });

  it('says kernel and criu, what happened, the commands, the scenario, the log, the mountinfo, in order', () => {
    const text = renderForList({
      result,
      facts: {
        target: 'vm',
        kernel: '6.12.117+deb13-amd64',
        criu: '4.1.1',
        criuCheck: 'ok',
        utilLinux: '2.41.5',
        readyMs: 1,
        accel: 'tcg',
      },
      scenarioText: SCENARIO,
      before: CAPTURE,
    });
    const order = [
      "Subject: criu dump: Error (criu/mount.c:753): mnt: 43:./bug doesn't have a proper root mount",
      'Kernel: Linux 6.12.117+deb13-amd64 (qemu, TCG)',
      "CRIU:   4.1.1 (Debian's package in the guest image)",
      'What happens',
      "(signature: xfail: criu dump: Error (criu/mount.c:753): mnt: N:./bug doesn't have a proper root mount)",
      'To reproduce by hand',
      'mount --bind -- /src/sub /bug',
      "The scenario (small.yaml, mountlab's YAML)",
      '  - bind: { source: /src/sub, target: /bug }',
      'CRIU log excerpt (dump)',
      'mountinfo before the dump',
      '43 45 0:33 /sub /bug rw,relatime - tmpfs src rw,inode64',
      'mountinfo after the restore',
      '(none: criu dump failed)',
    ];
    const lines = text.split('\n');
    let last = -1;
    for (const l of order) {
      const i = lines.indexOf(l, last + 1);
      assert.ok(i > last, `${l} after line ${last}:\n${text}`);
      last = i;
    }
  });
});
