import { strict as assert } from 'node:assert';
import { Guest } from '../../src/run/guest.js';
import { ensureImage } from '../../src/target/vm/image.js';
import { composeGuest, ensureKernel } from '../../src/target/vm/kernel-artifact.js';
import { VmTarget } from '../../src/target/vm/vm-target.js';
import { removeScratch, scratchDir } from '../scratch.js';
import { mountlabQemus } from './helpers.js';

/**
 * The ssh connection dropped in the middle of a step: the step must fail
 * at once with the lab's error (not wait out its time limit), the guest
 * must stop being trusted, and disposing it must still leave no qemu.
 */
describe('@e2e ssh dropped mid-step', function () {
  this.timeout(5 * 60_000);
  after(removeScratch);

  it('fails the step in bounded time, retires the guest, and leaves nothing', async () => {
    const rootfs = await ensureImage({ suite: 'trixie' }, () => {});
    const kernel = await ensureKernel({ kind: 'debian', name: 'debian-6.12', suite: 'trixie' }, () => {});
    const target = new VmTarget({
      image: composeGuest(rootfs, kernel),
      accel: 'auto',
      machine: 'microvm',
      memoryMiB: 1024,
      runDir: scratchDir('ssh-drop'),
      log: () => {},
    });
    {
      await using vm = await target.start(new AbortController().signal);
      const guest = new Guest(vm);
      assert.equal(guest.usable, true);
      // A detached killer ends every sshd session process (ours included) a second from now.
      await vm.exec(
        ['sh', '-c', 'setsid sh -c \'sleep 1; pkill -KILL -f "sshd-session|sshd: root"\' >/dev/null 2>&1 </dev/null &'],
        { timeoutMs: 20_000, label: 'arm the killer' },
      );
      const t0 = Date.now();
      await assert.rejects(
        vm.exec(['sleep', '120'], { timeoutMs: 150_000, label: 'a long step' }),
        /ssh|closed|connection/i,
      );
      const took = Date.now() - t0;
      assert.ok(took < 30_000, `the step failed after ${took} ms, not at once`);
      assert.equal(vm.alive, false, 'the target sees its connection is gone');
      assert.equal(guest.usable, false, 'a guest whose connection dropped is not trusted');
    }
    assert.deepEqual(mountlabQemus(process.pid), []);
  });
});
