import { strict as assert } from 'node:assert';
import {
  CAP_ADD,
  CAP_DROP,
  READY_LINE,
  ROOT_SWAP,
  SECURITY_OPTS,
  SYSTEMPATHS_UNCONFINED,
  TMPFS,
  containerLabels,
  leftovers,
} from './container-target.js';
import { IMAGE_LAYER } from './running-container.js';

describe('container target: docker flags', () => {
  it(
    'are the ones that work on this project machines ' +
      '(verified-facts: --privileged fails without CAP_SYS_RESOURCE)',
    () => {
      assert.deepEqual(CAP_ADD, ['ALL']);
      assert.deepEqual(CAP_DROP, ['SYS_RESOURCE']);
      assert.deepEqual(SECURITY_OPTS, ['seccomp=unconfined', 'apparmor=unconfined']);
      // systempaths=unconfined is what the docker CLI sends as empty masked/read-only path lists.
      assert.deepEqual(SYSTEMPATHS_UNCONFINED, { MaskedPaths: [], ReadonlyPaths: [] });
    },
  );

  it('mounts /run and /tmp as exec tmpfs, as the VM does (labctl runs from /run)', () => {
    assert.match(TMPFS['/run']!, /(^|,)exec(,|$)/);
    assert.match(TMPFS['/tmp']!, /(^|,)exec(,|$)/);
    assert.doesNotMatch(TMPFS['/run']!, /noexec/);
  });

  it(
    'swaps the overlay root for a tmpfs copy before saying it is ready ' + '(CRIU cannot dump through nested overlays)',
    () => {
      const lines = ROOT_SWAP.split('\n');
      const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
      assert.equal(lines[0], 'set -eu');
      assert.ok(at(/^mount -t tmpfs/) >= 0);
      assert.ok(at(/--one-file-system/) > at(/^mount -t tmpfs/));
      assert.ok(at(/mount --move/) > at(/--one-file-system/));
      assert.ok(at(/^pivot_root \. /) > at(/mount --move/));
      assert.ok(lines.some((l) => l.includes(`pivot_root . "${IMAGE_LAYER.slice(1)}"`)));
      assert.equal(at(new RegExp(`^echo ${READY_LINE}$`)), lines.length - 2);
      assert.equal(lines[lines.length - 1], 'exec sleep infinity');
    },
  );

  it('labels every container with the run id, the owner pid and host', () => {
    const l = containerLabels('20260101-000000-ab12', 'trixie-abc', 'tok', 42, 'h1');
    assert.equal(l['mountlab.run'], '20260101-000000-ab12');
    assert.equal(l['mountlab.pid'], '42');
    assert.equal(l['mountlab.host'], 'h1');
    assert.equal(l['mountlab.target'], 'tok');
  });

  it('finds leftovers only of dead mountlab processes on this host', () => {
    const mk = (id: string, pid: string, host = 'h1', run: string | null = 'r') => ({
      Id: id,
      Labels: { ...(run ? { 'mountlab.run': run } : {}), 'mountlab.pid': pid, 'mountlab.host': host },
    });
    const list = [
      mk('dead', '100'),
      mk('alive', '200'),
      mk('other-host', '100', 'h2'),
      mk('no-run', '100', 'h1', null),
      mk('bad-pid', 'x'),
      { Id: 'no-labels' },
    ];
    assert.deepEqual(
      leftovers(list, 'h1', (pid) => pid === 200),
      ['dead'],
    );
  });
});
