import { PrerequisiteError } from '../../errors.js';

/**
 * The pure parts of the vagrant target: what the top-level Vagrantfile is
 * told through its environment, the name vagrant-libvirt gives the box's
 * volume, what vagrant's output lines mean, and the prerequisite messages.
 */

/** Everything one `vagrant up` of the lab guest needs. */
export interface VagrantRunSpec {
  /** Per-run VAGRANT_HOME: the box is added there, so nothing leaks into ~/.vagrant.d. */
  home: string;
  /** Per-run VAGRANT_DOTFILE_PATH (the machine's state). */
  dotfile: string;
  /** The directory holding the top-level Vagrantfile (the package root). */
  cwd: string;
  box: string;
  sshPort: number;
  privateKeyFile: string;
  consoleFile: string;
  pool: string;
  /** libvirt domain name prefix; the domain is `<prefix>default`. */
  namePrefix: string;
  memoryMiB: number;
  driver: 'qemu' | 'kvm';
  bootTimeoutS: number;
}

/** The environment for every vagrant command of one run (on top of the caller's). */
export function vagrantEnv(s: VagrantRunSpec, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  // A user's own settings must not redirect this run's vagrant somewhere else.
  for (const k of Object.keys(env)) if (k.startsWith('MOUNTLAB_VAGRANT_') || k === 'VAGRANT_VAGRANTFILE') delete env[k];
  return {
    ...env,
    VAGRANT_HOME: s.home,
    VAGRANT_DOTFILE_PATH: s.dotfile,
    VAGRANT_CWD: s.cwd,
    VAGRANT_DEFAULT_PROVIDER: 'libvirt',
    VAGRANT_CHECKPOINT_DISABLE: '1',
    VAGRANT_NO_COLOR: '1',
    VAGRANT_FORCE_COLOR: '0',
    MOUNTLAB_VAGRANT_BOX: s.box,
    MOUNTLAB_VAGRANT_SSH_PORT: String(s.sshPort),
    MOUNTLAB_VAGRANT_KEY: s.privateKeyFile,
    MOUNTLAB_VAGRANT_CONSOLE: s.consoleFile,
    MOUNTLAB_VAGRANT_POOL: s.pool,
    MOUNTLAB_VAGRANT_NAME: s.namePrefix,
    MOUNTLAB_VAGRANT_MEMORY: String(s.memoryMiB),
    MOUNTLAB_VAGRANT_DRIVER: s.driver,
    MOUNTLAB_VAGRANT_BOOT_TIMEOUT: String(s.bootTimeoutS),
  };
}

/**
 * The storage volume vagrant-libvirt 0.11 uploads a v1 box into
 * (HandleBoxImage.get_volume_name): `<name, / as -VAGRANTSLASH->_vagrant_box_image_<version>_box.img`,
 * where a box without a version (ours: added from a file) has version
 * `0_<mtime of box.img in seconds>`. Putting the image there first (a hard
 * link) spares copying it through libvirt's stream API (100 s for 137 MB
 * here while libvirtd was re-probing qemu on every call, see
 * kvmAccessWarning; a few seconds otherwise); if the name were ever
 * different, vagrant-libvirt would just upload it.
 */
export function boxVolumeName(box: string, version: string, boxImgMtimeMs: number): string {
  const v = version === '' || version === '0' ? `0_${Math.floor(boxImgMtimeMs / 1000)}` : version;
  return `${box.replace(/\//g, '-VAGRANTSLASH-')}_vagrant_box_image_${v}_box.img`;
}

/** A libvirt name for this run's pool and domain prefix: letters, digits, dashes. */
export function libvirtName(runId: string, cellId: string): string {
  return `mountlab-${runId}-${cellId}`.replace(/[^A-Za-z0-9-]+/g, '-').slice(0, 80);
}

/**
 * A progress line worth showing from vagrant's output ("==> default: Starting
 * domain."), without the machine prefix; undefined for the rest (the domain
 * settings dump, progress bars, blank lines).
 */
export function progressLine(line: string): string | undefined {
  const clean = line
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
    .replace(/\r/g, '')
    .trim();
  const m = /^==> [\w-]+: (.*)$/.exec(clean);
  if (!m) return undefined;
  const text = m[1]!.trim();
  if (!text || text.startsWith('-- ') || text.startsWith('->')) return undefined;
  return text;
}

/** The lines of vagrant's output that say why it failed (its error text, not the Ruby backtrace). */
export function vagrantFailure(output: string): string {
  const lines = output
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
    .split('\n')
    .map((l) => l.replace(/\r/g, ''))
    .filter(
      (l) => l.trim() && !/^\s+from \//.test(l) && !/Progress: \d+%/.test(l) && !/^\s*==> [\w-]+:\s+(--|->)/.test(l),
    );
  return lines.slice(-12).join('\n').trim();
}

/** The install line for what is missing, on Debian. */
export const INSTALL_HINT =
  'apt-get install vagrant vagrant-libvirt libvirt-daemon-system   ' +
  '(as root; Debian 12: vagrant 2.3.4, vagrant-libvirt 0.11.2, libvirt 9.0)';

export function missingToolError(tool: string, why: string): PrerequisiteError {
  return new PrerequisiteError(`the vagrant target needs ${tool}: ${why}`, { hint: INSTALL_HINT });
}

/** libvirtd does not answer on qemu:///system: what to start, by hand when there is no systemd. */
export function libvirtdUnreachable(detail: string, hasSystemd: boolean): PrerequisiteError {
  return new PrerequisiteError(`libvirtd is not reachable on qemu:///system: ${detail.trim() || 'no answer'}`, {
    hint: [
      'the vagrant target runs its guest through libvirt; mountlab does not start libvirtd itself.',
      hasSystemd
        ? 'start it (as root): systemctl start libvirtd virtlogd'
        : 'there is no systemd here: start the daemons by hand (as root), in the background:',
      ...(hasSystemd ? [] : ['    virtlogd -d && libvirtd -d', '(and stop them afterwards: they run system-wide)']),
      `if libvirt is not installed: ${INSTALL_HINT}`,
    ].join('\n  '),
  });
}

/**
 * libvirt runs qemu as libvirt-qemu, and decides whether KVM is usable by
 * whether that user can open /dev/kvm. If it cannot (mode 0600 root: a
 * machine without udev's rule) but qemu itself found KVM when libvirt
 * probed it, libvirt throws its capability cache away and re-probes qemu on
 * every call: measured here, 32 s for one `virsh define` and about 50 s for
 * each of two steps of `vagrant up`. Returns a warning for that case.
 */
export function kvmAccessWarning(
  kvm: { mode: number; uid: number; gid: number } | undefined,
  qemuUser: { uid: number; gids: number[] } | undefined,
): string | undefined {
  if (!kvm || !qemuUser) return undefined;
  const rw = 0o6;
  const can =
    (kvm.mode & rw) === rw ||
    (qemuUser.gids.includes(kvm.gid) && ((kvm.mode >> 3) & rw) === rw) ||
    (qemuUser.uid === kvm.uid && ((kvm.mode >> 6) & rw) === rw);
  if (can) return undefined;
  return (
    `/dev/kvm (mode ${(kvm.mode & 0o777).toString(8)}) cannot be opened by libvirt-qemu: ` +
    'libvirt may re-probe qemu on every call, ' +
    'which makes each vagrant step take 30-50 s longer. On a normal host udev makes it 0660 root:kvm ' +
    '(chgrp kvm /dev/kvm && chmod 0660 /dev/kvm does the same, system-wide).'
  );
}

/** A user's uid and group ids from /etc/passwd and /etc/group text. */
export function userIds(name: string, passwd: string, group: string): { uid: number; gids: number[] } | undefined {
  const p = passwd.split('\n').find((l) => l.startsWith(`${name}:`));
  if (!p) return undefined;
  const f = p.split(':');
  const gids = [Number(f[3])];
  for (const g of group.split('\n')) {
    const gf = g.split(':');
    if (gf.length >= 4 && gf[3]!.split(',').includes(name)) gids.push(Number(gf[2]));
  }
  return { uid: Number(f[2]), gids };
}
