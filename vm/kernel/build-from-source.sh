#!/usr/bin/env bash
# Builds a kernel for `mountlab run --kernel PATH/bzImage` from Debian's
# linux-source package plus vm/kernel/mountlab.config (everything the lab
# needs built in, so no --modules DIR is needed).
#
#   build-from-source.sh [--package linux-source-6.1] [--out DIR] [--work DIR]
#                        [--jobs N] [--fragment FILE]
#
#   --package   the linux-source-* package (default: what the `linux-source`
#               meta-package depends on, e.g. linux-source-6.1 on Debian 12);
#               installed with apt-get when missing and running as root
#   --out       where bzImage, vmlinux and config-<release> go
#               (default /var/tmp/mountlab-kernel)
#   --work      where the source is unpacked and built
#               (default /var/tmp/mountlab-kernel-build); an unpacked tree
#               and an earlier build there are reused
#   --jobs      make -j (default: nproc)
#   --fragment  the config fragment (default: mountlab.config beside this script)
#
# Steps: unpack /usr/src/linux-source-X.tar.xz (once), `make defconfig`,
# merge the fragment with scripts/kconfig/merge_config.sh, `make
# olddefconfig`, check that every option of the fragment survived (fails
# listing the ones that did not), `make bzImage` (and vmlinux, which it
# builds anyway), copy the results to --out and print the release.
# The build directory is separate from the source tree (make O=...).
#
# Host needs: build-essential bc bison flex libelf-dev libssl-dev xz-utils.
# Run it at low priority if the machine is shared:
#   nice -n 19 vm/kernel/build-from-source.sh --jobs 2
set -euo pipefail
shopt -s nullglob

PROG="build-from-source.sh"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  sed -n '6,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 1
}

package='' out=/var/tmp/mountlab-kernel work=/var/tmp/mountlab-kernel-build jobs='' fragment=$here/mountlab.config
while (($#)); do
  case $1 in
    --package | --out | --work | --jobs | --fragment)
      (($# >= 2)) || usage
      declare "${1#--}=$2"
      shift 2
      ;;
    --package=* | --out=* | --work=* | --jobs=* | --fragment=*)
      opt=${1%%=*}
      declare "${opt#--}=${1#*=}"
      shift
      ;;
    -h | --help) usage ;;
    *) echo "$PROG: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -z $jobs ]] && jobs=$(nproc)
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive number, got '$jobs'"
[[ -f $fragment ]] || die "no config fragment at $fragment"
fragment=$(cd "$(dirname "$fragment")" && pwd)/$(basename "$fragment")

t0=$EPOCHREALTIME
elapsed() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }
say() { printf '[mountlab-kernel] %s (%ss)\n' "$*" "$(elapsed)" >&2; }

# --- the source package ------------------------------------------------------
if [[ -z $package ]]; then
  package=$(apt-cache depends linux-source 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-source-/ { print $2; exit }' || true)
  [[ -n $package ]] ||
    die "cannot tell which linux-source-* package to use; pass --package (see: apt-cache search linux-source)"
fi
[[ $package =~ ^linux-source-[0-9][0-9.]*$ ]] || die "--package must be a linux-source-X.Y package, got '$package'"
tarball=/usr/src/$package.tar.xz
if [[ ! -f $tarball ]]; then
  ((EUID == 0)) || die "$tarball is missing: install it with: sudo apt-get install $package"
  say "installing $package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package" >&2 ||
    die "apt-get install $package failed (try apt-get update first)"
  [[ -f $tarball ]] || die "$package is installed but $tarball is missing"
fi

missing=()
for c in make gcc ld bc bison flex perl xz tar awk; do
  command -v "$c" >/dev/null || missing+=("$c")
done
[[ -f /usr/include/libelf.h || -f /usr/include/libelf/libelf.h ]] || missing+=("libelf headers")
[[ -f /usr/include/openssl/opensslv.h ]] || missing+=("openssl headers")
((${#missing[@]} == 0)) ||
  die "missing ${missing[*]} (Debian packages: build-essential bc bison flex libelf-dev libssl-dev xz-utils)"

# --- unpack (once) -----------------------------------------------------------
mkdir -p -- "$work" "$out"
work=$(cd -- "$work" && pwd -P)
out=$(cd -- "$out" && pwd -P)
src=$work/$package
build=$work/build-$package
stamp=$src/.mountlab-unpacked
want_stamp="$(stat -c '%s %Y' "$tarball") $tarball"
if [[ -f $stamp && $(<"$stamp") == "$want_stamp" ]]; then
  say "reusing the unpacked $src"
else
  # No stamp (or another tarball): a half-unpacked or stale tree. Start over.
  say "unpacking $tarball into $work"
  rm -rf --one-file-system -- "$src" "$build"
  tar -xf "$tarball" -C "$work"
  [[ -f $src/Makefile ]] || die "$tarball did not unpack to $src"
  printf '%s\n' "$want_stamp" >"$stamp"
fi
mkdir -p -- "$build"
mk() { make -C "$src" O="$build" "$@"; }

# --- configure ---------------------------------------------------------------
say "make defconfig + $(basename "$fragment") + olddefconfig"
log=$build/config.log
{
  mk defconfig
  "$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$fragment"
  mk olddefconfig
} >"$log" 2>&1 || {
  tail -n 30 "$log" >&2
  die "configuration failed (log: $log)"
}

# Every option of the fragment must have survived olddefconfig (an option
# whose dependencies are unmet is silently dropped).
lost=()
while IFS= read -r line; do
  if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
    name=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
    got=$(grep -m1 -E "^$name=" "$build/.config" | cut -d= -f2- || true)
    [[ $got == "$want" ]] || lost+=("$name=$want (got: ${got:-not set})")
  elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
    name=${BASH_REMATCH[1]}
    got=$(grep -m1 -E "^$name=" "$build/.config" | cut -d= -f2- || true)
    [[ -z $got ]] || lost+=("$name unset (got: $got)")
  fi
done <"$fragment"
if ((${#lost[@]})); then
  printf '  %s\n' "${lost[@]}" >&2
  die "${#lost[@]} option(s) of $fragment did not survive make olddefconfig (unmet dependencies?); see $log"
fi
say "configured: all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$fragment") options of the fragment kept"

# --- build -------------------------------------------------------------------
log=$build/build.log
say "make -j$jobs bzImage (log: $log)"
tb=$EPOCHREALTIME
if ! mk -j"$jobs" bzImage >"$log" 2>&1; then
  grep -E 'error|Error' "$log" | tail -n 20 >&2 || true
  tail -n 20 "$log" >&2
  die "make bzImage failed (log: $log)"
fi
build_s=$(awk -v a="$tb" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
# The release as built (`make kernelrelease` before the build would miss
# CONFIG_LOCALVERSION: auto.conf does not exist yet).
release=$(<"$build/include/config/kernel.release")
[[ -n $release ]] || die "the build left no include/config/kernel.release"

# --- publish -----------------------------------------------------------------
# bzImage for `--kernel`, its config beside it (also embedded: IKCONFIG),
# and vmlinux (ELF with the PVH entry note) for a faster microvm boot.
install -m 0644 "$build/arch/x86/boot/bzImage" "$out/bzImage.new"
rm -f -- "$out"/config-* # an earlier release's: only the image's own config stays beside it
install -m 0644 "$build/.config" "$out/config-$release"
install -m 0644 "$build/vmlinux" "$out/vmlinux.new"
mv -f -- "$out/vmlinux.new" "$out/vmlinux"
mv -f -- "$out/bzImage.new" "$out/bzImage"
printf '%s\n' "$release" >"$out/release"
say "done: $out/bzImage ($release), make bzImage took ${build_s}s"
printf '%s\n' "$release"
