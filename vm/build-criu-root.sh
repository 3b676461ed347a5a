#!/usr/bin/env bash
# Builds the root a user's CRIU source tree is compiled in (vm/build-criu.sh):
# the same Debian suite as the guest's rootfs, so the criu it makes links
# against exactly the libraries the guest has (criu's own runtime
# dependencies come with the suite's criu package in the rootfs).
#
#   build-criu-root.sh --suite SUITE --mirror URL --out DIR      (as root)
#
# DIR receives:
#   root/          a `debootstrap --variant=minbase` tree of SUITE with a C
#                  toolchain and criu's build dependencies (Debian's criu
#                  Build-Depends, less docs and python packaging)
#   manifest.json  written last: its presence marks a complete build root
#
# The build root is only ever read by builds (they compile in a bind mount
# of their own copy of the tree, in a private mount namespace). The mirror
# only ever comes from --mirror and is not kept in the root.
set -euo pipefail
shopt -s nullglob

PROG=build-criu-root.sh
LOG_TAG=mountlab-criu
# What `make criu` needs; the optional features criu's Makefile detects
# (nftables, gnutls, libbsd) are here so the build matches Debian's criu.
PACKAGES=gcc,make,libc6-dev,pkgconf,protobuf-c-compiler,protobuf-compiler,libprotobuf-c-dev,libprotobuf-dev
PACKAGES+=,libnl-3-dev,libnet1-dev,libcap-dev,libbsd-dev,libgnutls28-dev,libnftables-dev,uuid-dev,python3

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
    -h | --help) usage ;;
    *) echo "$PROG: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -n $suite && -n $mirror && -n $out ]] || usage
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vm/lib.sh
source "$here/lib.sh"
[[ $suite =~ ^[a-z][a-z0-9.-]*$ ]] || die "bad suite name '$suite'"
[[ $mirror =~ ^https?://[^[:space:]]+$ ]] || die "--mirror must be an http(s) URL of a Debian mirror, got '$mirror'"
((EUID == 0)) || die "must run as root (debootstrap)"
for c in debootstrap setsid setpriv unshare; do
  command -v "$c" >/dev/null || die "missing '$c' (Debian packages: debootstrap util-linux)"
done
setup_workdir

say "debootstrap $suite (minbase + ${PACKAGES//,/, }) from $mirror"
# A private mount namespace, as in build-image.sh: debootstrap's /proc in
# the chroot never shows on the host.
run_step "$work/debootstrap.log" unshare --mount --propagation private \
  debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$work/root" "$mirror"
# Mount points the builds use; and no trace of the mirror.
mkdir -p "$work/root/build"
echo '# mountlab criu build root: no apt sources' >"$work/root/etc/apt/sources.list"
rm -rf "$work"/root/var/lib/apt/lists/* "$work"/root/var/cache/apt/archives/*.deb "$work"/root/var/log/bootstrap.log
gcc_version=$(chroot "$work/root" gcc -dumpfullversion)

mv -- "$work/root" "$out/root"
{
  printf '{\n'
  printf '  "suite": %s,\n' "$(json "$suite")"
  printf '  "packages": %s,\n' "$(json "$PACKAGES")"
  printf '  "gccVersion": %s,\n' "$(json "$gcc_version")"
  printf '  "builtAt": %s\n' "$(json "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '}\n'
} >"$work/manifest.json"
mv -f -- "$work/manifest.json" "$out/manifest.json"
say "done: $suite build root with gcc $gcc_version, $(du -sxm "$out/root" | cut -f1) MiB"
