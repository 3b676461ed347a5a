#!/usr/bin/env bash
# Builds mountlab's guest VM image from Debian packages.
#
#   build-image.sh --suite SUITE --mirror URL --out DIR      (as root)
#
# DIR receives:
#   rootfs.ext4    raw ext4 (no journal) made with `mkfs.ext4 -d` from a
#                  `debootstrap --variant=minbase` rootfs of SUITE with criu,
#                  util-linux, iproute2, openssh-server, procps, kmod and the
#                  modules of SUITE's kernel; /sbin/mountlab-init is PID 1
#   vmlinuz        SUITE's kernel (bzImage)
#   vmlinux        the same kernel uncompressed (ELF with a PVH entry point:
#                  qemu -kernel boots it without the in-guest decompression)
#   initrd.img     a tiny initramfs: busybox-static + the modules needed to
#                  mount the root disk and bring up eth0 (vm/guest/initramfs-init)
#   manifest.json  written last: its presence marks a complete image
#
# Nothing here mounts anything on the host or uses loop devices (debootstrap
# runs in a private mount namespace for the /proc it mounts in its chroot).
# Everything temporary lives in DIR/tmp-build.<pid> and is removed on exit,
# failure or signal; a build killed with SIGKILL leaves that directory
# behind (with no mounts in it) and the next build in the same DIR removes it. The mirror URL only ever comes from
# --mirror; the image keeps no apt sources and no copy of the host's DNS.
set -euo pipefail
shopt -s nullglob

PROG=build-image.sh
# What the guest needs; kmod so the kernel can load fs modules on demand.
PACKAGES=criu,util-linux,iproute2,openssh-server,procps,kmod,e2fsprogs
# Modules the initramfs loads (with their dependencies, in modprobe's
# order); any that the suite's kernel builds in is skipped.
INITRD_MODULES="virtio_pci virtio_mmio virtio_blk virtio_net ext4"
# Hardware driver trees no VM of the lab can use: dropped from the rootfs
# before depmod (about 60 of trixie's 102 MB of modules, and half of the
# depmod time). File systems, block (loop, dm, zram), virtio and virtual
# network devices (veth, macvlan, tun, bridge...) all stay.
PRUNE_MODULES="sound drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet
  drivers/infiniband drivers/iio drivers/usb drivers/hid drivers/input drivers/bluetooth
  drivers/staging drivers/isdn drivers/thunderbolt drivers/hwmon drivers/w1 drivers/ufs
  drivers/video drivers/mmc drivers/nfc net/wireless net/mac80211 net/bluetooth"
# Free space in the ext4 image for scenario scratch files.
FREE_MIB=256

usage() {
  echo "usage: $PROG --suite SUITE --mirror URL --out DIR   (as root)" >&2
  exit 2
}
die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 1
}

suite='' mirror='' out=''
while (($#)); do
  case $1 in
    --suite | --mirror | --out)
      (($# >= 2)) || usage
      declare "${1#--}=$2"
      shift 2
      ;;
    --suite=* | --mirror=* | --out=*)
      opt=${1%%=*}
      declare "${opt#--}=${1#*=}"
      shift
      ;;
    -h | --help) usage ;;
    *) echo "$PROG: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -n $suite && -n $mirror && -n $out ]] || usage
[[ $suite =~ ^[a-z][a-z0-9.-]*$ ]] || die "bad suite name '$suite'"
[[ $mirror =~ ^https?://[^[:space:]]+$ ]] || die "--mirror must be an http(s) URL of a Debian mirror, got '$mirror'"
((EUID == 0)) || die "must run as root (debootstrap, chroot)"
for c in debootstrap chroot dpkg-deb mkfs.ext4 cpio xz zstd gzip setsid setpriv unshare awk find sort; do
  command -v "$c" >/dev/null || die "missing '$c' (Debian packages: debootstrap e2fsprogs cpio xz-utils zstd util-linux)"
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
guest=$here/guest
for f in init initramfs-init sshd_config; do
  [[ -f $guest/$f ]] || die "missing $guest/$f"
done

t0=$EPOCHREALTIME
elapsed() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[mountlab-image] %s (%ss)\n' "$*" "$(elapsed)" >&2; }

# --- work directory, clean-up ------------------------------------------------
mkdir -p -- "$out"
out=$(cd -- "$out" && pwd -P)
work=$out/tmp-build.$$
root=$work/rootfs
step_pid=''

# Lazily unmounts everything at or below $1, deepest first.
umount_below() {
  local dir=$1 mp
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print length($5), $5 }' /proc/self/mountinfo |
    sort -rn | cut -d' ' -f2- |
    while read -r mp; do
      mp=$(printf '%b' "$mp") # mountinfo escapes spaces as \040
      umount -l -- "$mp" 2>/dev/null || true
    done
}
remove_workdir() {
  umount_below "$1"
  rm -rf --one-file-system -- "$1"
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n $step_pid ]]; then
    kill -TERM -- "-$step_pid" 2>/dev/null || true
    sleep 0.3
    kill -KILL -- "-$step_pid" 2>/dev/null || true
  fi
  [[ -z ${vmlinux_pid:-} ]] || kill -KILL "$vmlinux_pid" 2>/dev/null || true
  [[ ! -e $work ]] || remove_workdir "$work"
  ((rc == 0)) || say "FAILED (exit $rc); nothing complete was left in $out"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Leftovers of builds that were SIGKILLed (their pid is gone).
for d in "$out"/tmp-build.*; do
  pid=${d##*.}
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then continue; fi
  say "removing the leftovers of an interrupted build: $d"
  remove_workdir "$d"
done
# A rebuild in place: the old manifest must not vouch for new files.
rm -f -- "$out/manifest.json"
mkdir "$work"

# Runs a long step in its own process group (so a signal to this script
# stops it at once, children included; and it dies with this script even on
# SIGKILL), output to a log, printing the log's last "I:" line now and then.
run_step() {
  local log=$1 n=0 rc=0 line
  shift
  setsid setpriv --pdeathsig KILL -- "$@" >"$log" 2>&1 </dev/null &
  step_pid=$!
  while kill -0 "$step_pid" 2>/dev/null; do
    sleep 0.25 &
    wait $! || true
    n=$((n + 1))
    if ((n % 40 == 0)); then
      line=$(grep -a '^I: ' "$log" | tail -n1 || true)
      [[ -z $line ]] || say "  ... ${line#I: }"
    fi
  done
  wait "$step_pid" || rc=$?
  step_pid=''
  if ((rc != 0)); then
    say "step failed (exit $rc): $*"
    tail -n 40 "$log" >&2
    exit 1
  fi
}
in_root() { chroot "$root" "$@"; }

# --- 1. the root filesystem --------------------------------------------------
say "debootstrap $suite (minbase + ${PACKAGES//,/, }) from $mirror"
# In a private mount namespace: the /proc and /sys that debootstrap mounts
# in its chroot are never visible on the host and vanish with it, even if
# this build is SIGKILLed (so removing a leftover work dir is always safe).
run_step "$work/debootstrap.log" unshare --mount --propagation private \
  debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$root" "$mirror"

# --- 2. the kernel -----------------------------------------------------------
# Not through dpkg: its postinst would build a full Debian initramfs we never
# use, and it pulls in initramfs-tools. Download the package and unpack only
# what we need (measured: ~10 s less than installing it).
say "resolving $suite's kernel package"
apt_opts=(-q -o Acquire::Languages=none -o APT::Sandbox::User=root)
run_step "$work/apt-update.log" chroot "$root" apt-get "${apt_opts[@]}" update
kpkg=$(in_root apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }' || true)
[[ -n $kpkg ]] || kpkg=linux-image-amd64
kpkgver=$(in_root apt-cache show --no-all-versions "$kpkg" | awk '$1 == "Version:" { print $2; exit }' || true)
say "downloading $kpkg $kpkgver and busybox-static"
mkdir -p "$root/tmp/mountlab-dl"
run_step "$work/apt-download.log" \
  chroot "$root" sh -c "cd /tmp/mountlab-dl && apt-get ${apt_opts[*]} download $kpkg busybox-static"
kdeb=("$root"/tmp/mountlab-dl/linux-image-*.deb)
bdeb=("$root"/tmp/mountlab-dl/busybox-static_*.deb)
((${#kdeb[@]} == 1 && ${#bdeb[@]} == 1)) || die "apt-get download did not give one kernel and one busybox-static package"

say "unpacking the kernel"
kx=$work/kernel
run_step "$work/kernel-unpack.log" dpkg-deb -x "${kdeb[0]}" "$kx"
dpkg-deb -x "${bdeb[0]}" "$work/busybox"
kmoddirs=("$kx"/usr/lib/modules/* "$kx"/lib/modules/*)
((${#kmoddirs[@]} == 1)) || die "expected one modules directory in $kpkg, found ${#kmoddirs[@]}"
krel=${kmoddirs[0]##*/}
[[ -f $kx/boot/vmlinuz-$krel ]] || die "$kpkg has no /boot/vmlinuz-$krel"
mkdir -p "$root/usr/lib/modules"
mv -- "${kmoddirs[0]}" "$root/usr/lib/modules/$krel"
cp -- "$kx/boot/config-$krel" "$root/boot/config-$krel"
cp -- "$kx/boot/vmlinuz-$krel" "$work/vmlinuz"

# The uncompressed kernel (what scripts/extract-vmlinux does), in the
# background while depmod runs. Optional: without it the image still boots.
extract_vmlinux() {
  local bz=$1 dst=$2 magic tool off
  for magic in '\x28\xb5\x2f\xfd:zstd -dcq' '\xfd\x37\x7a\x58\x5a\x00:xz -dcq' '\x1f\x8b\x08:gzip -dcq'; do
    tool=${magic#*:}
    for off in $(LC_ALL=C grep -aboP "${magic%%:*}" "$bz" | cut -d: -f1 | head -n 5 || true); do
      tail -c "+$((off + 1))" "$bz" | $tool >"$dst" 2>/dev/null || true
      if [[ -s $dst && $(head -c4 "$dst" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then return 0; fi
    done
  done
  rm -f "$dst"
  return 1
}
extract_vmlinux "$work/vmlinuz" "$work/vmlinux" &
vmlinux_pid=$!

for d in $PRUNE_MODULES; do rm -rf -- "$root/usr/lib/modules/$krel/kernel/$d"; done
say "depmod $krel"
run_step "$work/depmod.log" chroot "$root" depmod -a "$krel"

# --- 3. configure the guest --------------------------------------------------
say "configuring the guest (kernel $krel)"
install -m 0755 "$guest/init" "$root/sbin/mountlab-init"
# The in-guest helper for the syscalls util-linux has no command for
# (MOVE_MOUNT_SET_GROUP, open_tree, open at a chosen fd) and for fast
# captures. Static, so it runs whatever the guest's libc and kernel.
run_step "$work/helper.log" gcc -static -O2 -Wall -o "$root/usr/local/bin/mountlab-helper" "$here/helper/mountlab-helper.c"
install -m 0644 "$guest/sshd_config" "$root/etc/ssh/sshd_config"
rm -f "$root"/etc/ssh/ssh_host_*
in_root ssh-keygen -q -t ed25519 -N '' -C "mountlab-guest" -f /etc/ssh/ssh_host_ed25519_key
# Drop the options this suite's sshd does not know (e.g. PerSourcePenalties
# before OpenSSH 9.8), then require a clean `sshd -t` (which, before
# OpenSSH 9.8, wants the privilege separation directory to exist).
mkdir -p "$root/run/sshd"
for _ in 1 2 3 4 5 6 7 8; do
  if msg=$(in_root /usr/sbin/sshd -t -f /etc/ssh/sshd_config 2>&1); then break; fi
  opt=$(sed -nE 's/.*(Bad configuration option|Unsupported option):? *([A-Za-z0-9]+).*/\2/p' <<<"$msg" | head -n1)
  [[ -n $opt ]] || die "sshd -t rejects vm/guest/sshd_config: $msg"
  say "  this sshd does not know '$opt': dropped from sshd_config"
  sed -i -E "/^[[:space:]]*$opt([[:space:]]|$)/Id" "$root/etc/ssh/sshd_config"
done
in_root /usr/sbin/sshd -t -f /etc/ssh/sshd_config || die "sshd -t still fails"
rmdir "$root/run/sshd"
# No authorized key in the image, ever: the host passes one per boot.
find "$root/root" "$root/home" -path '*/.ssh/authorized_keys*' -delete 2>/dev/null || true
install -d -m 0700 "$root/root/.ssh"
echo mountlab >"$root/etc/hostname"
# Scenario trees see the rootfs's own /dev, not the guest's devtmpfs: give it
# the loop nodes that the `mount` step's `image` (mount -o loop) opens.
mknod -m 0660 "$root/dev/loop-control" c 10 237 2>/dev/null || [[ -c $root/dev/loop-control ]] || die "cannot mknod in $root/dev"
for i in 0 1 2 3 4 5 6 7; do
  [[ -b $root/dev/loop$i ]] || mknod -m 0660 "$root/dev/loop$i" b 7 "$i"
done
printf '127.0.0.1\tlocalhost\n127.0.1.1\tmountlab\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
printf '# The initramfs mounts the root; /sbin/mountlab-init the rest.\n/dev/vda / ext4 rw,relatime 0 0\n' >"$root/etc/fstab"
# The guest has no DNS and no apt: keep neither the host's resolver nor the mirror.
echo '# mountlab guest: no DNS' >"$root/etc/resolv.conf"
echo '# mountlab guest: no apt sources' >"$root/etc/apt/sources.list"
# Trim what a scenario never needs.
rm -rf "$root"/tmp/mountlab-dl "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
  "$root"/var/cache/apt/archives/*.deb "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/usr/share/locale/* "$root"/var/cache/debconf/*-old "$root"/var/log/bootstrap.log
find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
criu_version=$(in_root criu --version 2>/dev/null | sed -n 's/^Version: *//p' | head -n1 || true)
# shellcheck disable=SC2016 # ${Version} is dpkg-query's, not ours
[[ -n $criu_version ]] || criu_version=$(in_root dpkg-query -W -f '${Version}' criu | sed 's/-[^-]*$//' || true)
ul_version=$(in_root mount --version | sed -n 's/.*util-linux \([0-9][0-9.a-z-]*\).*/\1/p' | head -n1 || true)
host_key=$(awk '{ print $1, $2 }' "$root/etc/ssh/ssh_host_ed25519_key.pub")

# --- 4. the initramfs --------------------------------------------------------
say "building the initramfs"
ird=$work/initramfs
imods=lib/modules/$krel
mkdir -p "$ird"/{bin,dev,etc,proc,sys,run,newroot,"$imods"}
bb=
for f in "$work"/busybox/{usr/bin,bin,usr/sbin,sbin}/busybox; do [[ -f $f ]] && bb=$f && break; done
[[ -n $bb && $(head -c4 "$bb" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] || die "busybox-static has no busybox binary"
install -m 0755 "$bb" "$ird/bin/busybox"
for applet in sh mount mkdir modprobe sleep switch_root poweroff dmesg tail; do
  ln -s busybox "$ird/bin/$applet"
done
install -m 0755 "$guest/initramfs-init" "$ird/init"
# Resolve with the rootfs's own modprobe: one "insmod /lib/modules/<krel>/
# .../name.ko.xz" line per module, dependencies and softdeps (ext4's crc32c)
# first, or "builtin name". The initramfs gets the modules decompressed (no
# xz work in the guest), a flat modules.dep with no dependencies, and the
# whole ordered list for one `modprobe -a`.
order=()
declare -A have=()
for m in $INITRD_MODULES; do
  deps=$(in_root modprobe -S "$krel" --show-depends "$m") || die "modprobe cannot resolve module $m"
  while read -r kind path _; do
    [[ $kind == insmod ]] || continue
    name=${path##*/}
    name=${name%%.ko*}
    name=${name//-/_}
    [[ -z ${have[$name]:-} ]] || continue
    have[$name]=1
    src=$root$path
    case $src in
      *.ko.xz) xz -dc "$src" ;;
      *.ko.zst) zstd -dcq "$src" ;;
      *.ko.gz) gzip -dc "$src" ;;
      *.ko) cat "$src" ;;
      *) die "unexpected module file $path" ;;
    esac >"$ird/$imods/$name.ko"
    echo "$name.ko:" >>"$ird/$imods/modules.dep"
    order+=("$name")
  done <<<"$deps"
done
initrd_modules=${order[*]}
echo "$initrd_modules" >"$ird/etc/initrd-modules"
# gzip: every kernel reads it; raw, gzip and zstd boot equally fast under
# TCG (measured), gzip is 1.9 MB instead of 5.3.
(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$work/initrd.img"

# --- 5. the ext4 image -------------------------------------------------------
if [[ -n $(awk -v d="$root" '$5 == d || index($5, d "/") == 1' /proc/self/mountinfo) ]]; then
  die "something is still mounted below $root"
fi
used_mib=$(du -sxm "$root" | cut -f1)
size_mib=$((used_mib + used_mib / 8 + FREE_MIB))
say "making rootfs.ext4 (${used_mib} MiB of files, ${size_mib} MiB image)"
# No journal: the disk is a throwaway snapshot, and jbd2 commits cost guest
# CPU under TCG. Inode tables zeroed now, so the guest runs no lazyinit.
# 4 KiB blocks: below 512 MiB mkfs would pick 1 KiB ones ("small" type).
run_step "$work/mkfs.log" mkfs.ext4 -q -F -L mountlab-root -b 4096 -m 0 -O ^has_journal \
  -E lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0 -d "$root" "$work/rootfs.ext4" "${size_mib}M"

have_vmlinux=0
if wait "$vmlinux_pid"; then have_vmlinux=1; else say "note: could not extract an uncompressed vmlinux (optional)"; fi
vmlinux_pid=''

# --- 6. publish: rename into place, manifest last ----------------------------
rm -f -- "$out/vmlinux"
for f in rootfs.ext4 vmlinuz initrd.img; do mv -f -- "$work/$f" "$out/$f"; done
((have_vmlinux == 0)) || mv -f -- "$work/vmlinux" "$out/vmlinux"

json() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }
{
  printf '{\n'
  printf '  "suite": %s,\n' "$(json "$suite")"
  printf '  "kernelRelease": %s,\n' "$(json "$krel")"
  printf '  "kernelPackage": %s,\n' "$(json "$kpkg $kpkgver")"
  printf '  "criuVersion": %s,\n' "$(json "$criu_version")"
  printf '  "utilLinuxVersion": %s,\n' "$(json "$ul_version")"
  printf '  "hostKey": %s,\n' "$(json "$host_key")"
  printf '  "initrdModules": %s,\n' "$(json "$initrd_modules")"
  printf '  "builtAt": %s,\n' "$(json "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "files": { "kernel": "vmlinuz", "initrd": "initrd.img", "rootfs": "rootfs.ext4"%s }\n' \
    "$( ((have_vmlinux)) && printf ', "vmlinux": "vmlinux"')"
  printf '}\n'
} >"$work/manifest.json"
mv -f -- "$work/manifest.json" "$out/manifest.json"

say "done: kernel $krel, criu $criu_version, util-linux $ul_version; rootfs.ext4 ${size_mib} MiB, initrd.img $(($(stat -c %s "$out/initrd.img") / 1024)) KiB"
