#!/usr/bin/env bash
# Builds the kernel half of a mountlab guest: a kernel the lab can boot with
# any rootfs from vm/build-image.sh.
#
#   build-kernel.sh --out DIR --suite SUITE --mirror URL [--package PKG]
#       a Debian kernel package: PKG (default: what linux-image-amd64 of
#       SUITE depends on), downloaded with apt from SUITE on URL, unpacked
#       without installing it
#   build-kernel.sh --out DIR --bzimage FILE [--modules DIR]
#       a user's own kernel (patch validation); DIR is what
#       `make modules_install INSTALL_MOD_PATH=DIR` made (or its
#       lib/modules/RELEASE); without it everything the guest needs must be
#       built in (vm/kernel/mountlab.config)
#
# DIR receives:
#   vmlinuz       the kernel (bzImage)
#   vmlinux       the same kernel uncompressed, when it can be extracted (ELF
#                 with a PVH entry point: boots without in-guest decompression)
#   initrd.img    a tiny initramfs: busybox-static + the modules needed to
#                 mount the root disk and bring up eth0 (vm/guest/initramfs-init)
#   modules.ext4  the kernel's modules (hardware drivers pruned), mounted
#                 read-only on /usr/lib/modules in the guest; absent when the
#                 kernel has no modules
#   config        the kernel's configuration, when known
#   manifest.json written last: its presence marks a complete kernel
#
# Root is needed only for apt-get's download sandbox; nothing is mounted.
set -euo pipefail
shopt -s nullglob

PROG=build-kernel.sh
LOG_TAG=mountlab-kernel
# Modules the initramfs loads (with their dependencies, in modprobe's
# order); any that the kernel builds in is skipped.
INITRD_MODULES="virtio_pci virtio_mmio virtio_blk virtio_net ext4"
# Hardware driver trees no VM of the lab can use: dropped (about 60 of
# trixie's 102 MB of modules, and half of the depmod time). File systems,
# block (loop, dm, zram), virtio and virtual network devices (veth, macvlan,
# tun, bridge...) all stay.
PRUNE_MODULES="sound drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet
  drivers/infiniband drivers/iio drivers/usb drivers/hid drivers/input drivers/bluetooth
  drivers/staging drivers/isdn drivers/thunderbolt drivers/hwmon drivers/w1 drivers/ufs
  drivers/video drivers/mmc drivers/nfc net/wireless net/mac80211 net/bluetooth"

usage() {
  echo "usage: $PROG --out DIR (--suite SUITE --mirror URL [--package PKG] | --bzimage FILE [--modules DIR])" >&2
  exit 2
}

out='' suite='' mirror='' package='' bzimage='' modules=''
while (($#)); do
  case $1 in
    --out | --suite | --mirror | --package | --bzimage | --modules)
      (($# >= 2)) || usage
      declare "${1#--}=$2"
      shift 2
      ;;
    -h | --help) usage ;;
    *) echo "$PROG: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -n $out ]] || usage
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=vm/lib.sh
source "$here/lib.sh"
if [[ -n $bzimage ]]; then
  [[ -z $suite && -z $package ]] || die "--bzimage excludes --suite and --package"
  [[ -f $bzimage ]] || die "no such kernel image: $bzimage"
  bzimage=$(realpath -- "$bzimage")
  [[ -z $modules || -d $modules ]] || die "no such modules directory: $modules"
  [[ -z $modules ]] || modules=$(realpath -- "$modules")
else
  [[ -n $suite && -n $mirror ]] || usage
  [[ $suite =~ ^[a-z][a-z0-9.-]*$ ]] || die "bad suite name '$suite'"
  [[ -z $package || $package =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || die "bad package name '$package'"
  [[ $mirror =~ ^https?://[^[:space:]]+$ ]] || die "--mirror must be an http(s) URL of a Debian mirror, got '$mirror'"
  ((EUID == 0)) || die "must run as root (apt-get download)"
fi
for c in apt-get dpkg-deb depmod modprobe mkfs.ext4 cpio xz zstd gzip setsid setpriv awk find sort od; do
  command -v "$c" >/dev/null ||
    die "missing '$c' (Debian packages: apt dpkg kmod e2fsprogs cpio xz-utils zstd util-linux)"
done
[[ -f $here/guest/initramfs-init ]] || die "missing $here/guest/initramfs-init"
setup_workdir

# --- 1. the kernel -------------------------------------------------------------
kx=$work/kernel                    # an unpacked kernel package's layout
mkdir -p "$kx/boot" "$kx/usr/lib/modules" "$work/dl"
# apt with its own lists, cache and sources: the host's apt state is neither
# used nor touched. Debian's archive keyring checks the suite's signature.
APT_OPTS=(-q -o Acquire::Languages=none -o APT::Sandbox::User=root
  -o Dir::Etc::sourcelist="$work/apt/sources.list" -o Dir::Etc::sourceparts=-
  -o Dir::State::lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache"
  -o Dir::State::status="$work/apt/status" -o Dir::Etc::preferencesparts="$work/apt/preferences.d"
  -o Dir::Etc::preferences="$work/apt/preferences")
if [[ -z $bzimage ]]; then
  mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/preferences.d"
  : >"$work/apt/status"
  : >"$work/apt/preferences"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -f $keyring ]] || die "missing $keyring (Debian package: debian-archive-keyring)"
  echo "deb [signed-by=$keyring] $mirror $suite main" >"$work/apt/sources.list"
  # A backports suite has the kernel but not busybox-static: add its base
  # suite, and prefer the backports suite for the kernel (-t).
  if [[ $suite == *-backports ]]; then
    echo "deb [signed-by=$keyring] $mirror ${suite%-backports} main" >>"$work/apt/sources.list"
  fi
  APT_OPTS+=(-t "$suite")
  say "apt-get update for $suite"
  run_step "$work/apt-update.log" apt-get "${APT_OPTS[@]}" update
  if [[ -z $package ]]; then
    package=$(apt-cache "${APT_OPTS[@]}" depends linux-image-amd64 2>/dev/null |
      awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }' || true)
    [[ -n $package ]] || die "$suite has no linux-image-amd64 dependency to follow"
  fi
  # Newer Debian kernels (7.x in sid) split the image package into
  # linux-binary-* (the kernel, as /usr/lib/modules/RELEASE/vmlinuz),
  # linux-modules-* (its modules) and linux-base-* (config, modules.order
  # and modules.builtin, which depmod needs).
  parts=$(apt-cache "${APT_OPTS[@]}" depends "$package" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-(binary|modules|base)-[0-9]/ { print $2 }' | sort -u | tr '\n' ' ' || true)
  say "downloading $package ${parts:+($parts) }and busybox-static from $suite"
  # shellcheck disable=SC2086 # parts is a list of package names
  run_step "$work/apt-download.log" sh -c 'cd "$1" && shift && exec "$@"' sh "$work/dl" \
    apt-get "${APT_OPTS[@]}" download "$package" $parts busybox-static
  kdeb=("$work"/dl/"$package"_*.deb)
  ((${#kdeb[@]} == 1)) || die "apt-get download did not give the kernel package $package"
  pkgver=$(dpkg-deb -f "${kdeb[0]}" Version)
  source_text="$package $pkgver ($suite)"
  say "unpacking $package $pkgver"
  for deb in "$work"/dl/linux-*.deb; do
    run_step "$work/kernel-unpack.log" dpkg-deb -x "$deb" "$kx"
  done
  kmoddirs=("$kx"/usr/lib/modules/* "$kx"/lib/modules/*)
  ((${#kmoddirs[@]} == 1)) || die "expected one modules directory in $package, found ${#kmoddirs[@]}"
  krel=${kmoddirs[0]##*/}
  if [[ ${kmoddirs[0]} == "$kx/lib/modules/$krel" ]]; then mv -- "${kmoddirs[0]}" "$kx/usr/lib/modules/$krel"; fi
  mdir=$kx/usr/lib/modules/$krel
  if [[ -f $kx/boot/vmlinuz-$krel ]]; then
    cp -- "$kx/boot/vmlinuz-$krel" "$work/vmlinuz"
  elif [[ -f $mdir/vmlinuz ]]; then
    mv -- "$mdir/vmlinuz" "$work/vmlinuz"
  else
    die "$package has neither /boot/vmlinuz-$krel nor /usr/lib/modules/$krel/vmlinuz"
  fi
  for c in "$kx/boot/config-$krel" "$mdir/config"; do
    if [[ -f $c ]]; then cp -- "$c" "$work/config"; break; fi
  done
else
  # The version string the x86 boot protocol points at (setup header
  # field kernel_version at 0x20E, relative to 0x200): "6.12.0-rc1 (user@host) #1 ...".
  ptr=$(od -An -tu2 -j 526 -N 2 -- "$bzimage" | tr -d ' ')
  krel=$(dd if="$bzimage" bs=1 skip=$((ptr + 512)) count=200 status=none | tr '\0' '\n' | head -n1 | cut -d' ' -f1)
  [[ $krel =~ ^[0-9]+\.[0-9]+[A-Za-z0-9._+~-]*$ ]] ||
    die "$bzimage does not look like an x86 bzImage (no kernel version in its setup header)"
  cp -- "$bzimage" "$work/vmlinuz"
  source_text="$bzimage"
  for c in "${bzimage%/*}/config" "${bzimage%/*}/.config" "${bzimage%/*}/config-$krel" "$bzimage.config"; do
    if [[ -f $c ]]; then cp -- "$c" "$work/config"; break; fi
  done
  if [[ -n $modules ]]; then
    for d in "$modules/lib/modules/$krel" "$modules/usr/lib/modules/$krel" "$modules"; do
      if [[ -f $d/modules.order || -f $d/modules.dep ]]; then moddir=$d; break; fi
    done
    [[ -n ${moddir:-} ]] || die "$modules holds no modules of $krel (looked for lib/modules/$krel/modules.order)"
    say "copying the modules of $krel from $moddir"
    cp -a -- "$moddir" "$kx/usr/lib/modules/$krel"
    rm -f -- "$kx/usr/lib/modules/$krel/build" "$kx/usr/lib/modules/$krel/source"
  fi
  # busybox for the initramfs: the host's, which must be static (a
  # dynamic one names its loader, ld-linux, near the start of the file).
  bb_host=$(command -v busybox || true)
  if [[ -z $bb_host ]] || LC_ALL=C grep -qa 'ld-linux' <(head -c 2048 "$bb_host"); then
    die "a static busybox is needed for the initramfs (Debian package: busybox-static)"
  fi
  mkdir -p "$work/busybox/bin" && cp -- "$bb_host" "$work/busybox/bin/busybox"
fi
say "kernel $krel"

# The uncompressed kernel (what scripts/extract-vmlinux does), in the
# background while depmod runs. Optional: without it the kernel still boots.
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
bg_pids+=("$vmlinux_pid")

have_modules=0
mdir=$kx/usr/lib/modules/$krel
if [[ -d $mdir ]]; then
  have_modules=1
  for d in $PRUNE_MODULES; do rm -rf -- "$mdir/kernel/$d"; done
  say "depmod $krel"
  run_step "$work/depmod.log" depmod -b "$kx/usr" -a "$krel"
fi

# --- 2. the initramfs --------------------------------------------------------
say "building the initramfs"
if [[ -z $bzimage ]]; then
  dpkg-deb -x "$(printf '%s\n' "$work"/dl/busybox-static_*.deb | head -n1)" "$work/busybox"
fi
ird=$work/initramfs
imods=lib/modules/$krel
mkdir -p "$ird"/{bin,dev,etc,proc,sys,run,newroot,"$imods"}
bb=
for f in "$work"/busybox/{usr/bin,bin,usr/sbin,sbin}/busybox; do [[ -f $f ]] && bb=$f && break; done
[[ -n $bb && $(head -c4 "$bb" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] ||
  die "no static busybox binary for the initramfs"
install -m 0755 "$bb" "$ird/bin/busybox"
for applet in sh mount mkdir modprobe sleep switch_root poweroff dmesg tail; do
  ln -s busybox "$ird/bin/$applet"
done
install -m 0755 "$here/guest/initramfs-init" "$ird/init"
# Resolved with modprobe on the unpacked tree: one "insmod .../name.ko.xz"
# line per module, dependencies and softdeps (ext4's crc32c) first, or
# "builtin name". The initramfs gets the modules decompressed (no xz work
# in the guest), a flat modules.dep with no dependencies, and the whole
# ordered list for one `modprobe -a`.
order=()
declare -A have=()
: >"$ird/$imods/modules.dep"
if ((have_modules)); then
  for m in $INITRD_MODULES; do
    deps=$(modprobe -d "$kx/usr" -S "$krel" --show-depends "$m" 2>/dev/null) || {
      say "note: module $m is neither built in nor a module of $krel; the initramfs goes without it"
      continue
    }
    while read -r kind path _; do
      [[ $kind == insmod ]] || continue
      name=${path##*/}
      name=${name%%.ko*}
      name=${name//-/_}
      [[ -z ${have[$name]:-} ]] || continue
      have[$name]=1
      case $path in
        *.ko.xz) xz -dc "$path" ;;
        *.ko.zst) zstd -dcq "$path" ;;
        *.ko.gz) gzip -dc "$path" ;;
        *.ko) cat "$path" ;;
        *) die "unexpected module file $path" ;;
      esac >"$ird/$imods/$name.ko"
      echo "$name.ko:" >>"$ird/$imods/modules.dep"
      order+=("$name")
    done <<<"$deps"
  done
fi
initrd_modules=${order[*]}
echo "$initrd_modules" >"$ird/etc/initrd-modules"
# gzip: every kernel reads it; raw, gzip and zstd boot equally fast under
# TCG (measured), gzip is 1.9 MB instead of 5.3.
(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$work/initrd.img"

# --- 3. the modules disk -----------------------------------------------------
# Its root is /usr/lib/modules of the guest: it holds the directory $krel.
if ((have_modules)); then
  rm -f -- "$mdir/build" "$mdir/source"
  make_ext4 "$kx/usr/lib/modules" "$work/modules.ext4" mountlab-modules 8
fi

have_vmlinux=0
if wait "$vmlinux_pid"; then have_vmlinux=1; else say "note: could not extract an uncompressed vmlinux (optional)"; fi

# --- 4. publish: rename into place, manifest last ----------------------------
rm -f -- "$out/vmlinux" "$out/modules.ext4" "$out/config"
for f in vmlinuz initrd.img; do mv -f -- "$work/$f" "$out/$f"; done
((have_vmlinux == 0)) || mv -f -- "$work/vmlinux" "$out/vmlinux"
((have_modules == 0)) || mv -f -- "$work/modules.ext4" "$out/modules.ext4"
[[ ! -f $work/config ]] || mv -f -- "$work/config" "$out/config"
{
  printf '{\n'
  printf '  "kernelRelease": %s,\n' "$(json "$krel")"
  printf '  "source": %s,\n' "$(json "$source_text")"
  printf '  "initrdModules": %s,\n' "$(json "$initrd_modules")"
  printf '  "builtAt": %s,\n' "$(json "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "files": { "kernel": "vmlinuz", "initrd": "initrd.img"%s%s%s }\n' \
    "$( ((have_vmlinux)) && printf ', "vmlinux": "vmlinux"')" \
    "$( ((have_modules)) && printf ', "modules": "modules.ext4"')" \
    "$([[ -f $out/config ]] && printf ', "config": "config"')"
  printf '}\n'
} >"$work/manifest.json"
mv -f -- "$work/manifest.json" "$out/manifest.json"

initrd_kib=$(($(stat -c %s "$out/initrd.img") / 1024))
modules_mib=
((have_modules == 0)) || modules_mib=$(($(stat -c %s "$out/modules.ext4") / 1048576))
say "done: kernel $krel from $source_text; initrd.img $initrd_kib KiB${modules_mib:+, modules.ext4 $modules_mib MiB}"
