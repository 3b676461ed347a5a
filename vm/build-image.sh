#!/usr/bin/env bash
# Builds mountlab's guest root filesystem from Debian packages: the
# userland half of a guest (criu and util-linux come from SUITE); the kernel
# is a separate artifact (vm/build-kernel.sh), so any kernel can boot any
# rootfs and the lab can run a kernel x criu matrix.
#
#   build-image.sh --suite SUITE --mirror URL --out DIR      (as root)
#
# DIR receives:
#   rootfs.ext4    raw ext4 (no journal) made with `mkfs.ext4 -d` from a
#                  `debootstrap --variant=minbase` rootfs of SUITE with criu,
#                  util-linux, iproute2, openssh-server, procps, kmod and
#                  e2fsprogs; /sbin/mountlab-init is PID 1; /usr/lib/modules
#                  is empty (the kernel's modules disk is mounted there)
#   manifest.json  written last: its presence marks a complete image
#
# Nothing here mounts anything on the host or uses loop devices (debootstrap
# runs in a private mount namespace for the /proc it mounts in its chroot).
# Everything temporary lives in DIR/tmp-build.<pid> and is removed on exit,
# failure or signal; a build killed with SIGKILL leaves that directory
# behind (with no mounts in it) and the next build in the same DIR removes
# it. The mirror URL only ever comes from --mirror; the image keeps no apt
# sources and no copy of the host's DNS.
set -euo pipefail
shopt -s nullglob

PROG=build-image.sh
LOG_TAG=mountlab-image
# What the guest needs; kmod so the kernel can load fs modules on demand.
PACKAGES=criu,util-linux,iproute2,openssh-server,procps,kmod,e2fsprogs
# Free space in the ext4 image for scenario scratch files.
FREE_MIB=256

usage() {
  echo "usage: $PROG --suite SUITE --mirror URL --out DIR   (as root)" >&2
  exit 2
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
for c in debootstrap chroot mkfs.ext4 gcc setsid setpriv unshare awk find sort; do
  command -v "$c" >/dev/null || die "missing '$c' (Debian packages: debootstrap e2fsprogs gcc libc6-dev util-linux)"
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
guest=$here/guest
for f in init sshd_config; do
  [[ -f $guest/$f ]] || die "missing $guest/$f"
done

# shellcheck source=vm/lib.sh
source "$here/lib.sh"
setup_workdir
root=$work/rootfs

in_root() { chroot "$root" "$@"; }

# --- 1. the root filesystem --------------------------------------------------
say "debootstrap $suite (minbase + ${PACKAGES//,/, }) from $mirror"
# In a private mount namespace: the /proc and /sys that debootstrap mounts
# in its chroot are never visible on the host and vanish with it, even if
# this build is SIGKILLed (so removing a leftover work dir is always safe).
run_step "$work/debootstrap.log" unshare --mount --propagation private \
  debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$root" "$mirror"

# --- 2. configure the guest --------------------------------------------------
say "configuring the guest"
# The kernel's modules disk (vm/build-kernel.sh) is mounted here at boot.
mkdir -p "$root/usr/lib/modules"
install -m 0755 "$guest/init" "$root/sbin/mountlab-init"
# The in-guest helper for the syscalls util-linux has no command for
# (MOVE_MOUNT_SET_GROUP, open_tree, open at a chosen fd), for fast captures
# and for running a scenario's program (run-tree); every .c file of
# vm/helper. Static, so it runs whatever the guest's libc and kernel.
run_step "$work/helper.log" gcc -static -O2 -Wall \
  -o "$root/usr/local/bin/mountlab-helper" "$here"/helper/*.c
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
mknod -m 0660 "$root/dev/loop-control" c 10 237 2>/dev/null || [[ -c $root/dev/loop-control ]] ||
  die "cannot mknod in $root/dev"
for i in 0 1 2 3 4 5 6 7; do
  [[ -b $root/dev/loop$i ]] || mknod -m 0660 "$root/dev/loop$i" b 7 "$i"
done
printf '%s\t%s\n' \
  127.0.0.1 localhost \
  127.0.1.1 mountlab \
  ::1 'localhost ip6-localhost ip6-loopback' >"$root/etc/hosts"
printf '%s\n' \
  '# The initramfs mounts the root; /sbin/mountlab-init the rest.' \
  '/dev/vda / ext4 rw,relatime 0 0' >"$root/etc/fstab"
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

# --- 3. the ext4 image -------------------------------------------------------
if [[ -n $(awk -v d="$root" '$5 == d || index($5, d "/") == 1' /proc/self/mountinfo) ]]; then
  die "something is still mounted below $root"
fi
make_ext4 "$root" "$work/rootfs.ext4" mountlab-root "$FREE_MIB"

# --- 4. publish: rename into place, manifest last ----------------------------
mv -f -- "$work/rootfs.ext4" "$out/rootfs.ext4"
{
  printf '{\n'
  printf '  "suite": %s,\n' "$(json "$suite")"
  printf '  "criuVersion": %s,\n' "$(json "$criu_version")"
  printf '  "utilLinuxVersion": %s,\n' "$(json "$ul_version")"
  printf '  "hostKey": %s,\n' "$(json "$host_key")"
  printf '  "builtAt": %s,\n' "$(json "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "files": { "rootfs": "rootfs.ext4" }\n'
  printf '}\n'
} >"$work/manifest.json"
mv -f -- "$work/manifest.json" "$out/manifest.json"

say "done: criu $criu_version, util-linux $ul_version; rootfs.ext4 $(($(stat -c %s "$out/rootfs.ext4") / 1048576)) MiB"
