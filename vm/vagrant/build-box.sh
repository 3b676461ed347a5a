#!/usr/bin/env bash
# Makes mountlab's own vagrant-libvirt box from a cached rootfs image and a
# cached kernel artifact (vm/README.md), without downloading anything, and
# (unless --no-add) adds it to vagrant as mountlab/<suite>.
#
#   vm/vagrant/build-box.sh [--rootfs IMAGE_DIR] [--kernel KERNEL_DIR]
#                           [--out DIR] [--name NAME] [--no-add] [--force]
#
# Defaults: the newest complete trixie image in ~/.cache/mountlab/images and
# the newest debian-6.12 kernel in ~/.cache/mountlab/kernels (what
# `./mountlab image build` leaves there); --out ~/.cache/mountlab/vagrant;
# --name mountlab/<suite of the rootfs>.
#
# The box (vagrant-libvirt box format v1, uncompressed tar):
#   metadata.json    {"provider":"libvirt","format":"qcow2","virtual_size":GB}
#   box.img          rootfs.ext4 converted to qcow2 (qemu-img convert)
#   Vagrantfile      the guest's fixed settings: direct kernel boot of the
#                    files below, q35, TCG unless told otherwise
#   vmlinux|vmlinuz, initrd.img, modules.ext4 (if the kernel has modules)
#   mountlab-box.json  ids, kernel release, criu version, the guest's host key
#
# The box file is named after the rootfs and kernel ids, so it is built once
# per pair; `vagrant box add` is skipped when the same box (same
# mountlab-box.json) is already added. Prints the box file's path on stdout.
set -euo pipefail
PROG=build-box.sh
LOG_TAG=mountlab-vagrant
t0=$EPOCHREALTIME
elapsed() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[%s] %s (%ss)\n' "$LOG_TAG" "$*" "$(elapsed)" >&2; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }

cache=${MOUNTLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mountlab}
rootfs_dir='' kernel_dir='' out="$cache/vagrant" name='' add=1 force=0
while [[ $# -gt 0 ]]; do
  case $1 in
  --rootfs) rootfs_dir=$2; shift 2 ;;
  --kernel) kernel_dir=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --name) name=$2; shift 2 ;;
  --no-add) add=0; shift ;;
  --force) force=1; shift ;;
  -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
  *) die "unknown argument: $1 (see --help)" ;;
  esac
done

# The newest complete artifact (manifest.json present) whose dir matches a glob.
newest() {
  local best='' d
  for d in $1; do
    [[ -f $d/manifest.json ]] || continue
    [[ -z $best || $d/manifest.json -nt $best/manifest.json ]] && best=$d
  done
  printf '%s' "$best"
}
[[ -n $rootfs_dir ]] || rootfs_dir=$(newest "$cache/images/trixie-????????????")
[[ -n $kernel_dir ]] || kernel_dir=$(newest "$cache/kernels/debian-6.12-????????????")
[[ -n $rootfs_dir && -f $rootfs_dir/manifest.json ]] ||
  die "no rootfs image (give --rootfs DIR, or run ./mountlab image build first)"
[[ -n $kernel_dir && -f $kernel_dir/manifest.json ]] ||
  die "no kernel artifact (give --kernel DIR, or run ./mountlab image build first)"
command -v qemu-img >/dev/null || die "qemu-img is missing: apt-get install qemu-utils"

# manifest.json fields, read with node (mountlab's own runtime).
command -v node >/dev/null || die "node is missing (mountlab needs Node.js >= 20)"
field() { # FILE EXPR   (a JS expression on the parsed manifest m)
  node -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const v = new Function("m", "return " + process.argv[2])(m);
    process.stdout.write(v == null ? "" : String(v));
  ' "$1" "$2"
}
rootfs_id=$(basename "$rootfs_dir")
kernel_id=$(basename "$kernel_dir")
suite=$(field "$rootfs_dir/manifest.json" m.suite)
criu=$(field "$rootfs_dir/manifest.json" m.criuVersion)
host_key=$(field "$rootfs_dir/manifest.json" m.hostKey)
rootfs_file=$rootfs_dir/$(field "$rootfs_dir/manifest.json" m.files.rootfs)
release=$(field "$kernel_dir/manifest.json" m.kernelRelease)
kfile=$(field "$kernel_dir/manifest.json" 'm.files.vmlinux||m.files.kernel')
ifile=$(field "$kernel_dir/manifest.json" m.files.initrd)
mfile=$(field "$kernel_dir/manifest.json" 'm.files.modules||""')
[[ -f $rootfs_file ]] || die "$rootfs_file is missing"
[[ -n $name ]] || name=mountlab/$suite

box=$out/$rootfs_id+$kernel_id.box
mkdir -p "$out"
if [[ $force = 1 || ! -f $box ]]; then
  stage=$out/tmp-box.$$
  trap 'rm -rf -- "$stage" "$box.tmp.$$"' EXIT
  trap 'exit 130' INT TERM HUP
  rm -rf -- "$stage"
  mkdir -p "$stage"
  say "converting $rootfs_file to qcow2"
  qemu-img convert -f raw -O qcow2 "$rootfs_file" "$stage/box.img"
  # vagrant-libvirt wants whole GB; the volume must not be smaller than the image.
  bytes=$(stat -c %s "$rootfs_file")
  gb=$(( (bytes + 1073741823) / 1073741824 ))
  printf '{\n  "provider": "libvirt",\n  "format": "qcow2",\n  "virtual_size": %d\n}\n' "$gb" >"$stage/metadata.json"
  cp "$kernel_dir/$kfile" "$stage/$kfile"
  cp "$kernel_dir/$ifile" "$stage/initrd.img"
  [[ -z $mfile ]] || cp "$kernel_dir/$mfile" "$stage/modules.ext4"
  cat >"$stage/mountlab-box.json" <<EOF
{
  "name": "$name",
  "rootfs": "$rootfs_id",
  "kernel": "$kernel_id",
  "suite": "$suite",
  "kernelRelease": "$release",
  "criuVersion": "$criu",
  "hostKey": "$host_key",
  "kernelFile": "$kfile",
  "modules": $([[ -n $mfile ]] && echo true || echo false)
}
EOF
  cat >"$stage/Vagrantfile" <<'EOF'
# mountlab's box (vm/vagrant/build-box.sh): the lab guest's fixed settings.
# Everything per run (the ssh key, the forwarded port, the console log) is in
# the project's top-level Vagrantfile, which reads $mountlab_box from here.
require 'json'
$mountlab_box = JSON.parse(File.read(File.join(__dir__, 'mountlab-box.json'))).merge('dir' => __dir__)
Vagrant.configure('2') do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.kernel = File.join(__dir__, $mountlab_box['kernelFile'])
    libvirt.initrd = File.join(__dir__, 'initrd.img')
  end
end
EOF
  say "writing $box"
  tar -C "$stage" -cf "$box.tmp.$$" metadata.json box.img Vagrantfile mountlab-box.json "$kfile" initrd.img \
    $([[ -n $mfile ]] && echo modules.ext4)
  mv "$box.tmp.$$" "$box"
  rm -rf -- "$stage"
  trap - EXIT
  say "box ready: $(du -h "$box" | cut -f1)"
fi

if [[ $add = 1 ]]; then
  command -v vagrant >/dev/null || die "vagrant is missing: apt-get install vagrant vagrant-libvirt"
  vhome=${VAGRANT_HOME:-$HOME/.vagrant.d}
  added=$vhome/boxes/${name//\//-VAGRANTSLASH-}/0/libvirt/mountlab-box.json
  if [[ -f $added ]] && grep -q "\"rootfs\": \"$rootfs_id\"" "$added" &&
    grep -q "\"kernel\": \"$kernel_id\"" "$added"; then
    say "$name is already added to vagrant ($vhome) with this rootfs and kernel"
  else
    say "vagrant box add --name $name"
    vagrant box add --force --name "$name" --provider libvirt "$box" >&2
  fi
fi
printf '%s\n' "$box"
