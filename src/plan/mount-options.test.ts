import { strict as assert } from 'node:assert';
import {
  MOUNT_ATTR,
  MS,
  attrsOf,
  isNativeFsType,
  mergeOptions,
  nativeReason,
  optionKind,
  parseOptions,
  resolveMountOptions,
} from './mount-options.js';

const flagsOf = (options: string) => resolveMountOptions(options).flags;

describe('mount options as libmount 2.41 reads them', () => {
  it('maps per-mount and superblock options to mount(2) flags, the rest to the data string in order', () => {
    assert.equal(flagsOf('ro,nosuid,nodev,noexec'), MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
    assert.equal(flagsOf('nosymfollow,nodiratime'), MS.NOSYMFOLLOW | MS.NODIRATIME);
    assert.equal(flagsOf('sync,dirsync,mand,lazytime'), MS.SYNCHRONOUS | MS.DIRSYNC | MS.MANDLOCK | MS.LAZYTIME);
    const r = resolveMountOptions('nosuid,size=1m,mode=700,inode64');
    assert.equal(r.flags, MS.NOSUID);
    assert.equal(r.data, 'size=1m,mode=700,inode64');
    // sub/nosub are no libc's MS_ flag: the filesystem's own, as in the guest's libmount.
    assert.equal(resolveMountOptions('nosub').data, 'nosub');
    assert.equal(resolveMountOptions('empty=').data, 'empty=');
  });

  it('lets the last of an option and its inverse win (mnt_optlist_merge_opts)', () => {
    assert.equal(flagsOf('ro,rw'), 0);
    assert.equal(flagsOf('rw,ro'), MS.RDONLY);
    assert.equal(flagsOf('nosuid,suid,nodev'), MS.NODEV);
    assert.equal(flagsOf('sync,async'), 0);
    assert.equal(flagsOf('async,sync'), MS.SYNCHRONOUS);
    // Equal options collapse; the same name with other values stays, in order (the kernel takes the last).
    assert.equal(resolveMountOptions('mode=755,size=1m,mode=755').data, 'size=1m,mode=755');
    assert.equal(resolveMountOptions('size=1m,size=2m').data, 'size=1m,size=2m');
    assert.deepEqual(
      mergeOptions(parseOptions('ro,noexec,rw,exec,noexec')!).map((o) => o.name),
      ['rw', 'noexec'],
    );
  });

  it('makes atime one choice: the last positive one, relatime when only inverses are given', () => {
    // The kernel's mount(2) would take noatime over relatime; libmount's mount_setattr takes the last.
    assert.equal(flagsOf('noatime,relatime'), MS.RELATIME);
    assert.equal(flagsOf('relatime,noatime'), MS.NOATIME);
    assert.equal(flagsOf('strictatime,norelatime'), MS.STRICTATIME);
    // atime cancels noatime when merging: nothing is left but the kernel's default, relatime.
    assert.equal(flagsOf('noatime,atime'), 0);
    assert.equal(flagsOf('nostrictatime'), 0);
  });

  it('drops what libmount passes to no syscall, and says so', () => {
    const r = resolveMountOptions('defaults,nofail,x-systemd.automount,noauto,_netdev,silent,iversion,comment=hi');
    assert.equal(r.flags, 0);
    assert.equal(r.data, '');
    assert.deepEqual(r.ignored, [
      'defaults',
      'nofail',
      'x-systemd.automount',
      'noauto',
      '_netdev',
      'silent',
      'iversion',
      'comment=hi',
    ]);
  });

  it('turns bind/rbind in the options into a bind with mount_setattr masks for the clone', () => {
    const ro = resolveMountOptions('bind,ro');
    assert.equal(ro.bind, 'bind');
    assert.deepEqual([ro.attrSet, ro.attrClr], [MOUNT_ATTR.RDONLY, 0]);
    const r = resolveMountOptions('rbind,nosuid,rw');
    assert.equal(r.bind, 'rbind');
    assert.deepEqual([r.attrSet, r.attrClr], [MOUNT_ATTR.NOSUID, MOUNT_ATTR.RDONLY]);
    assert.equal(resolveMountOptions('bind,rbind').bind, 'rbind');
    // An atime option clears the whole atime field and sets its choice (relatime is 0).
    assert.deepEqual(attrsOf(parseOptions('relatime')!), { set: 0, clr: MOUNT_ATTR.ATIME_MASK });
    assert.deepEqual(attrsOf(parseOptions('noatime,nodiratime')!), {
      set: MOUNT_ATTR.NOATIME | MOUNT_ATTR.NODIRATIME,
      clr: MOUNT_ATTR.ATIME_MASK,
    });
  });

  it('applies propagation options after the mount, in order', () => {
    assert.deepEqual(resolveMountOptions('shared,rslave').propagation, [
      { type: 'shared', recursive: false },
      { type: 'slave', recursive: true },
    ]);
  });

  it('leaves to mount(8) what acts in userspace or needs its quoting', () => {
    const cases: [string, RegExp][] = [
      ['user', /acts in mount\(8\)/],
      ['users,nosuid', /acts in mount\(8\)/],
      ['owner', /acts in mount\(8\)/],
      ['loop', /acts in mount\(8\)/],
      ['offset=512', /acts in mount\(8\)/],
      ['helper=udisks2', /acts in mount\(8\)/],
      ['X-mount.mkdir', /acts in mount\(8\)/],
      ['x-mount.subdir=a', /acts in mount\(8\)/],
      ['verity.roothash=ab', /acts in mount\(8\)/],
      ['ro=vfs', /flag with a value/],
      ['nosuid=recursive', /flag with a value/],
      ['lowerdir="/a,/b"', /quotes/],
      ['a\\,b', /backslashes/],
      ['=x', /empty name/],
      ['remount,ro', /'remount' in a mount's options/],
      ['move', /'move' in a mount's options/],
      [`lowerdir=${'x'.repeat(256)}`, /longer than fsconfig takes/],
      [Array.from({ length: 500 }, (_v, i) => `o${i}=1234`).join(','), /longer than a page/],
    ];
    for (const [options, why] of cases) assert.match(nativeReason(options) ?? 'native', why, options);
    assert.throws(() => resolveMountOptions('user'), /need mount\(8\)/);
    for (const options of ['', 'ro', 'size=1m,,mode=1777,', 'bind,ro', 'shared'])
      assert.equal(nativeReason(options), undefined, options);
  });

  it("classifies names as libmount's maps do", () => {
    assert.equal(optionKind('ro'), 'vfs');
    assert.equal(optionKind('lazytime'), 'superblock');
    assert.equal(optionKind('rprivate'), 'propagation');
    assert.equal(optionKind('rbind'), 'operation');
    assert.equal(optionKind('user'), 'userspace-action'); // user[=]
    assert.equal(optionKind('comment'), 'ignored'); // comment=
    assert.equal(optionKind('use'), 'filesystem'); // a prefix of user is not user
    assert.equal(optionKind('X-foo'), 'ignored');
    assert.equal(optionKind('size'), 'filesystem');
  });

  it('mounts pseudo filesystems natively and leaves block and fuse filesystems to mount(8)', () => {
    for (const t of ['tmpfs', 'proc', 'sysfs', 'devpts', 'mqueue', 'cgroup2', 'overlay', 'ramfs', 'debugfs'])
      assert.ok(isNativeFsType(t), t);
    for (const t of ['ext4', 'xfs', 'fuse', 'fuse.sshfs', 'nfs', 'none', 'auto']) assert.ok(!isNativeFsType(t), t);
  });
});
