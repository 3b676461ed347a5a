import { strict as assert } from 'node:assert';
import { readFdProbeOutput, readPropagationProbeOutput } from './probe-answers.js';

describe('probe answers: the helper text read into data', () => {
  it('propagation: each probe with its status and the copies of its marker, umount-failed kept on its probe', () => {
    const r = readPropagationProbeOutput(
      [
        '@probe 1 mounted',
        '@in 10 71 30 0:99 / /w/m rw - tmpfs m rw',
        '@in 11 72 40 0:99 / /v/m rw - tmpfs m rw',
        '@probe 2 mount-failed Permission denied',
        '@in 12 73 50 stray copy after a failed probe is kept on it',
        '@probe 1 umount-failed',
        'noise',
        '',
      ].join('\n'),
    );
    assert.deepEqual([...r.keys()], [1, 2]);
    assert.deepEqual(r.get(1), {
      status: 'umount-failed',
      copies: [
        { pid: 10, id: 71, parent: 30 },
        { pid: 11, id: 72, parent: 40 },
      ],
    });
    assert.equal(r.get(2)?.status, 'mount-failed: Permission denied');
  });

  it('fd: answers by pid and fd in order, verdicts by unescaped path, and the lines it cannot read', () => {
    const r = readFdProbeOutput(
      ['probe 200 20 ok yes:/w/a\\040b no:/w/c', 'probe 200 20 error pidfd_open ENOSYS', 'probe what', ''].join('\n'),
    );
    assert.deepEqual([...r.byFd.keys()], ['200 20']);
    const [ok, err] = r.byFd.get('200 20')!;
    assert.deepEqual(
      [...ok!.verdicts],
      [
        ['/w/a b', 'yes'],
        ['/w/c', 'no'],
      ],
    );
    assert.deepEqual(
      { ok: err!.ok, step: err!.step, errno: err!.errno },
      { ok: false, step: 'pidfd_open', errno: 'ENOSYS' },
    );
    assert.deepEqual(r.unread, ['probe what']);
  });
});
