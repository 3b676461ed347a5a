import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { ensureImage } from '../../src/target/vm/image.js';
import { composeGuest, ensureKernel } from '../../src/target/vm/kernel-artifact.js';
import { VmTarget } from '../../src/target/vm/vm-target.js';
import { removeScratch, scratchDir } from '../scratch.js';

/**
 * The guest is a sandbox: it reaches nothing on the network, not even the
 * host side of qemu's user net, and the only door into it is ssh on the
 * host's loopback, with a key made for this boot and no password login.
 */
describe('@e2e guest isolation', function () {
  this.timeout(5 * 60_000);
  after(removeScratch);

  it('the guest cannot connect out, and its ssh listens on 127.0.0.1 only, key-only', async () => {
    // A host listener on every address: the guest must not reach it through 10.0.2.2.
    const accepted: string[] = [];
    const server: Server = createServer((s) => {
      accepted.push(String(s.remoteAddress));
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    const port = (server.address() as { port: number }).port;
    try {
      const rootfs = await ensureImage({ suite: 'trixie' }, () => {});
      const kernel = await ensureKernel({ kind: 'debian', name: 'debian-6.12', suite: 'trixie' }, () => {});
      const target = new VmTarget({
        image: composeGuest(rootfs, kernel),
        accel: 'auto',
        machine: 'microvm',
        memoryMiB: 1024,
        runDir: scratchDir('isolation'),
        log: () => {},
      });
      await using vm = await target.start(new AbortController().signal);
      const tryConnect = async (host: string, p: number) =>
        (
          await vm.exec(['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${p} && echo connected`], {
            timeoutMs: 20_000,
            label: `connect ${host}:${p}`,
          })
        ).stdout.trim();
      // The probe itself works: the guest's own sshd answers it.
      assert.equal(await tryConnect('127.0.0.1', 22), 'connected');
      assert.equal(await tryConnect('10.0.2.2', port), '', 'the host side of user-net');
      assert.equal(await tryConnect('1.1.1.1', 53), '', 'the outside world');
      assert.deepEqual(accepted, []);

      // On the host, qemu's listening sockets are all on loopback.
      const qemuPids = execFileSync('pgrep', ['-f', '--', `qemu-system-x86_64 -name mountlab-${process.pid}\\b`])
        .toString()
        .trim()
        .split('\n');
      const listening = execFileSync('ss', ['-Hltnp'])
        .toString()
        .split('\n')
        .filter((l) => qemuPids.some((pid) => l.includes(`pid=${pid},`)));
      assert.ok(listening.length >= 1, 'qemu forwards ssh');
      for (const l of listening) assert.match(l.split(/\s+/)[3]!, /^127\.0\.0\.1:\d+$/, l);

      // sshd inside: keys only, and the only key is this boot's.
      const sshd = (await vm.exec(['sshd', '-T'], { timeoutMs: 20_000, label: 'sshd -T' })).stdout;
      assert.match(sshd, /^passwordauthentication no$/m);
      assert.match(sshd, /^kbdinteractiveauthentication no$/m);
      const keys = (
        await vm.exec(['sh', '-c', 'cat /root/.ssh/authorized_keys 2>/dev/null | wc -l'], {
          timeoutMs: 20_000,
          label: 'authorized keys',
        })
      ).stdout.trim();
      assert.equal(keys, '1');
    } finally {
      server.close();
    }
  });
});
