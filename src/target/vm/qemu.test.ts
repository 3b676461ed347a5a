import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import { QemuProcess, hostTscKhz, qemuArgs, type QemuSpec } from './qemu.js';

const spec: QemuSpec = {
  image: {
    id: 'trixie-x+debian-6.12-y',
    kernel: '/k/vmlinuz',
    initrd: '/k/initrd.img',
    modules: '/k/modules.ext4',
    rootfs: '/c/rootfs.ext4',
    manifest: { suite: 'trixie', kernelRelease: '6.12', criuVersion: '4.1.1', hostKey: 'k' },
  },
  accel: 'tcg',
  machine: 'microvm',
  memoryMiB: 1024,
  sshPort: 40022,
  append: ['mountlab.authkey=QUJD'],
  runDir: '/r',
  name: 'mountlab-1',
};

describe('qemu command line', () => {
  const args = qemuArgs(spec);
  const argAfter = (flag: string) => args[args.indexOf(flag) + 1];

  it('forwards ssh on loopback only, with a restricted user net', () => {
    assert.match(argAfter('-netdev')!, /^user,id=net0,restrict=on,hostfwd=tcp:127\.0\.0\.1:40022-:22$/);
  });

  it('never writes the cached disk, and a panic ends the VM', () => {
    assert.match(argAfter('-drive')!, /snapshot=on/);
    assert.ok(args.includes('-no-reboot'));
    assert.match(argAfter('-append')!, /(^| )panic=-1( |$)/);
  });

  it("attaches the kernel's modules read-only as the second disk and says where", () => {
    const drives = args.flatMap((a, i) => (a === '-drive' ? [args[i + 1]!] : []));
    assert.deepEqual(drives, [
      'file=/c/rootfs.ext4,format=raw,if=none,id=disk0,snapshot=on',
      'file=/k/modules.ext4,format=raw,if=none,id=disk1,readonly=on',
    ]);
    assert.match(argAfter('-append')!, /root=\/dev\/vda rw mountlab\.modules=\/dev\/vdb /);
  });

  it("attaches a user's criu disk read-only after the modules, and names its device", () => {
    const a = qemuArgs({ ...spec, image: { ...spec.image, criuDisk: '/b/criu.ext4' } });
    assert.ok(a.includes('file=/b/criu.ext4,format=raw,if=none,id=disk2,readonly=on'));
    assert.match(a[a.indexOf('-append') + 1]!, / mountlab\.criu=\/dev\/vdc /);
    const { modules: _, ...noModules } = spec.image;
    const b = qemuArgs({ ...spec, image: { ...noModules, criuDisk: '/b/criu.ext4' } });
    assert.match(b[b.indexOf('-append') + 1]!, / mountlab\.criu=\/dev\/vdb /);
    assert.doesNotMatch(args.join(' '), /mountlab\.criu/);
  });

  it('hands in the per-run key on the kernel command line', () => {
    assert.match(argAfter('-append')!, /mountlab\.authkey=QUJD/);
  });

  it('uses TCG with a capped translation cache, or KVM with the host CPU', () => {
    assert.equal(argAfter('-accel'), 'tcg,tb-size=64');
    assert.equal(qemuArgs({ ...spec, accel: 'kvm' })[qemuArgs({ ...spec, accel: 'kvm' }).indexOf('-accel') + 1], 'kvm');
  });

  it('gives a microvm guest the TSC rate, which it cannot calibrate itself', () => {
    const a = qemuArgs({ ...spec, tscKhz: 2596132 });
    assert.match(a[a.indexOf('-append') + 1]!, /tsc=reliable tsc_early_khz=2596132/);
    const q = qemuArgs({ ...spec, machine: 'q35', tscKhz: 2596132 });
    assert.doesNotMatch(q[q.indexOf('-append') + 1]!, /tsc_early_khz/);
  });

  it('reads the host TSC rate from cpuinfo', () => {
    assert.equal(hostTscKhz('processor : 0\ncpu MHz\t\t: 2596.132\n'), 2596132);
    assert.equal(hostTscKhz('nothing'), undefined);
  });

  it('boots the uncompressed PVH kernel on microvm when the image has one', () => {
    const img = { ...spec.image, vmlinux: '/k/vmlinux' };
    const m = qemuArgs({ ...spec, image: img });
    assert.equal(m[m.indexOf('-kernel') + 1], '/k/vmlinux');
    const q = qemuArgs({ ...spec, image: img, machine: 'q35' });
    assert.equal(q[q.indexOf('-kernel') + 1], '/k/vmlinuz');
  });

  it('uses virtio-mmio devices on microvm and PCI ones on q35', () => {
    assert.ok(args.includes('virtio-blk-device,drive=disk0'));
    const q = qemuArgs({ ...spec, machine: 'q35' });
    assert.ok(q.includes('virtio-blk-pci,drive=disk0'));
  });

  describe('process', () => {
    after(removeScratch);

    it('is disposed once however many owners dispose it, and leaves no temp dir', async () => {
      const runDir = scratchDir('qemu');
      // A kernel that does not exist: qemu starts and exits at once, no boot.
      const q = await QemuProcess.start({
        ...spec,
        image: { ...spec.image, kernel: join(runDir, 'missing'), vmlinux: join(runDir, 'missing') },
        runDir,
      });
      await q.exit;
      assert.match(q.describeExit(), /exited with code [1-9]/);
      const first = q[Symbol.asyncDispose]();
      assert.equal(q[Symbol.asyncDispose](), first, 'a second owner waits for the same shutdown');
      await first;
      assert.equal(q[Symbol.asyncDispose](), first);
      assert.equal(existsSync(join(runDir, 'qemu-tmp')), false);
    });
  });
});
