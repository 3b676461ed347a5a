import { strict as assert } from 'node:assert';
import { PrerequisiteError } from '../../errors.js';
import {
  boxVolumeName,
  kvmAccessWarning,
  libvirtdUnreachable,
  libvirtName,
  missingToolError,
  progressLine,
  userIds,
  vagrantEnv,
  vagrantFailure,
  type VagrantRunSpec,
} from './vagrant-env.js';

const spec: VagrantRunSpec = {
  home: '/var/tmp/mountlab-vagrant/x/home',
  dotfile: '/var/tmp/mountlab-vagrant/x/dot/vagrant',
  cwd: '/src/mountlab',
  box: 'mountlab/trixie',
  sshPort: 40123,
  privateKeyFile: '/var/tmp/mountlab-vagrant/x/dot/id_ed25519',
  consoleFile: '/reports/r/cell/console.log',
  pool: 'mountlab-r-cell',
  namePrefix: 'mountlab-r-cell-',
  memoryMiB: 1024,
  driver: 'qemu',
  bootTimeoutS: 300,
};

describe('vagrant target: pure parts', () => {
  it('gives vagrant a home, a dotfile dir and the Vagrantfile of its own, and the guest settings', () => {
    const env = vagrantEnv(spec, {
      PATH: '/bin',
      HOME: '/root',
      MOUNTLAB_VAGRANT_KERNEL: '/elsewhere/bzImage',
      VAGRANT_VAGRANTFILE: 'Other',
    });
    assert.equal(env.PATH, '/bin');
    assert.equal(env.VAGRANT_HOME, spec.home);
    assert.equal(env.VAGRANT_DOTFILE_PATH, spec.dotfile);
    assert.equal(env.VAGRANT_CWD, '/src/mountlab');
    assert.equal(env.VAGRANT_DEFAULT_PROVIDER, 'libvirt');
    assert.equal(env.MOUNTLAB_VAGRANT_SSH_PORT, '40123');
    assert.equal(env.MOUNTLAB_VAGRANT_KEY, spec.privateKeyFile);
    assert.equal(env.MOUNTLAB_VAGRANT_CONSOLE, spec.consoleFile);
    assert.equal(env.MOUNTLAB_VAGRANT_POOL, 'mountlab-r-cell');
    assert.equal(env.MOUNTLAB_VAGRANT_DRIVER, 'qemu');
    // A user's own overrides do not leak into a run: the box's kernel is the one tested.
    assert.equal(env.MOUNTLAB_VAGRANT_KERNEL, undefined);
    assert.equal(env.VAGRANT_VAGRANTFILE, undefined);
  });

  it('names the box volume as vagrant-libvirt 0.11 does, so the upload can be skipped', () => {
    // Seen here: mountlab-VAGRANTSLASH-trixie_vagrant_box_image_0_1795298000_box.img
    assert.equal(
      boxVolumeName('mountlab/trixie', '0', 1795298000_999),
      'mountlab-VAGRANTSLASH-trixie_vagrant_box_image_0_1795298000_box.img',
    );
    assert.equal(
      boxVolumeName('mountlab/trixie', '1.2.0', 5),
      'mountlab-VAGRANTSLASH-trixie_vagrant_box_image_1.2.0_box.img',
    );
  });

  it('makes libvirt names of run and cell ids', () => {
    assert.equal(
      libvirtName('20261121-221830-bb1a', 'vagrant-debian-6.12-criu-4.1.1'),
      'mountlab-20261121-221830-bb1a-vagrant-debian-6-12-criu-4-1-1',
    );
    assert.ok(libvirtName('r', 'x'.repeat(200)).length <= 80);
  });

  it("shows vagrant's progress lines, not its settings dump or progress bars", () => {
    assert.equal(progressLine('\x1b[1m==> default: Starting domain.\x1b[0m'), 'Starting domain.');
    assert.equal(
      progressLine('==> default: Waiting for domain to get an IP address...'),
      'Waiting for domain to get an IP address...',
    );
    assert.equal(progressLine('==> default:  -- Name:              mountlab-default'), undefined);
    assert.equal(progressLine('==> default:     -> value=-no-reboot, '), undefined);
    assert.equal(progressLine('\x1b[KProgress: 45%'), undefined);
    assert.equal(progressLine('    default: SSH address: 127.0.0.1:2299'), undefined);
  });

  it("keeps vagrant's error text and drops the Ruby backtrace", () => {
    const out = [
      '==> default: Starting domain.',
      "/usr/lib/ruby/vendor_ruby/fog/libvirt/requests/compute/vm_action.rb:7:in `create': " +
        'Call to virDomainCreateWithFlags failed: internal error: Unknown CPU model max (Libvirt::Error)',
      "\tfrom /usr/lib/ruby/vendor_ruby/fog/libvirt/requests/compute/vm_action.rb:7:in `vm_action'",
      "\tfrom /usr/share/rubygems-integration/all/gems/vagrant-2.3.4/lib/vagrant/action/warden.rb:48:in `call'",
    ].join('\n');
    const f = vagrantFailure(out);
    assert.match(f, /Unknown CPU model max/);
    assert.doesNotMatch(f, /warden\.rb/);
  });

  it('says exactly what to install or start', () => {
    const m = missingToolError('vagrant', 'it is not installed');
    assert.ok(m instanceof PrerequisiteError);
    assert.match(m.message, /needs vagrant: it is not installed/);
    assert.match(m.hint!, /apt-get install vagrant vagrant-libvirt libvirt-daemon-system/);
    const noSystemd = libvirtdUnreachable(
      "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory",
      false,
    );
    assert.match(noSystemd.message, /libvirtd is not reachable on qemu:\/\/\/system: .*libvirt-sock/);
    assert.match(noSystemd.hint!, /no systemd here/);
    assert.match(noSystemd.hint!, /virtlogd -d && libvirtd -d/);
    assert.match(noSystemd.hint!, /does not start libvirtd itself/);
    assert.match(libvirtdUnreachable('', true).hint!, /systemctl start libvirtd virtlogd/);
  });

  it('warns when libvirt-qemu cannot open /dev/kvm (libvirt then re-probes qemu on every call)', () => {
    const passwd =
      'root:x:0:0::/root:/bin/sh\nlibvirt-qemu:x:64055:108:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin\n';
    const group = 'root:x:0:\nkvm:x:104:libvirt-qemu\nlibvirt-qemu:x:108:\n';
    const q = userIds('libvirt-qemu', passwd, group);
    assert.deepEqual(q, { uid: 64055, gids: [108, 104] });
    assert.match(
      kvmAccessWarning({ mode: 0o20600, uid: 0, gid: 0 }, q)!,
      /mode 600\) cannot be opened by libvirt-qemu/,
    );
    assert.equal(kvmAccessWarning({ mode: 0o20660, uid: 0, gid: 104 }, q), undefined);
    assert.equal(kvmAccessWarning({ mode: 0o20666, uid: 0, gid: 0 }, q), undefined);
    assert.equal(kvmAccessWarning(undefined, q), undefined);
    assert.equal(kvmAccessWarning({ mode: 0o20600, uid: 0, gid: 0 }, undefined), undefined);
  });
});
