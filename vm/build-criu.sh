#!/usr/bin/env bash
# Builds a user's CRIU for the guest, and packs it as the guest's criu disk.
#
#   build-criu.sh --source DIR --files LIST --root BUILDROOT --gitid ID --log FILE --out OUT   (as root)
#       compiles `make criu` from the files of DIR named in LIST (NUL
#       separated, relative: what the host hashed for the cache key), in a
#       copy, chrooted into BUILDROOT/root (vm/build-criu-root.sh: the
#       guest's suite), with the compiler's output in FILE
#   build-criu.sh --binary FILE --out OUT
#       packs a prebuilt criu (the host has checked it against the rootfs)
#
# OUT receives:
#   criu.ext4      a small ext4 disk holding `criu`; the initramfs mounts it
#                  read-only and binds its criu over the rootfs's
#                  /usr/sbin/criu (mountlab.criu=DEVICE)
#   manifest.json  version (`criu --version`, as run in the build root),
#                  builtAt, files; written last
#
# Exit 3 means the tree did not compile (the log says why); any other
# failure is the lab's.
set -euo pipefail
shopt -s nullglob

PROG=build-criu.sh
LOG_TAG=mountlab-criu

usage() {
  echo "usage: $PROG --out OUT (--source DIR --files LIST --root BUILDROOT --gitid ID --log FILE | --binary FILE)" >&2
  exit 2
}
source_dir='' files='' broot='' gitid='' log='' binary='' out=''
while (($#)); do
  case $1 in
    --source | --files | --root | --gitid | --log | --binary | --out)
      (($# >= 2)) || usage
      v=${1#--}
      [[ $v == source ]] && v=source_dir
      [[ $v == root ]] && v=broot
      declare "$v=$2"
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
if [[ -n $binary ]]; then
  [[ -z $source_dir ]] || usage
  [[ -f $binary ]] || die "no such file: $binary"
else
  [[ -n $source_dir && -n $files && -n $broot && -n $log ]] || usage
  [[ -d $source_dir ]] || die "no such directory: $source_dir"
  [[ -f $broot/manifest.json && -d $broot/root ]] || die "no complete build root in $broot"
  # criu's Makefile puts GITID into `criu --version`; keep it a plain word.
  [[ $gitid =~ ^[A-Za-z0-9._+-]*$ ]] || die "bad --gitid '$gitid'"
  ((EUID == 0)) || die "must run as root (chroot into the build root)"
fi
for c in mkfs.ext4 tar setsid setpriv unshare chroot; do
  command -v "$c" >/dev/null || die "missing '$c' (Debian packages: e2fsprogs tar util-linux coreutils)"
done
setup_workdir
mkdir -p "$work/disk"

if [[ -n $binary ]]; then
  install -m 0755 -- "$binary" "$work/disk/criu"
  version=$("$work/disk/criu" --version 2>/dev/null | sed -n 's/^Version: *//p' | head -n1 || true)
else
  say "copying $(tr -cd '\0' <"$files" | wc -c) files of $source_dir"
  mkdir -p "$work/src"
  tar -C "$source_dir" --null -T "$files" -cf - | tar -C "$work/src" -xf -
  jobs=$(nproc)
  : >"$log"
  bsuite=$(sed -n 's/.*"suite": *"\([^"]*\)".*/\1/p' "$broot/manifest.json")
  say "make criu -j$jobs in the $bsuite build root (log: $log)"
  # Private mounts: the build root is shared by every build and stays as
  # built; the tree is compiled in its own copy, bound on /build.
  build() {
    set -e
    mount --bind "$work/src" "$broot/root/build"
    mount -t tmpfs -o mode=1777 tmpfs "$broot/root/tmp"
    mount -t proc proc "$broot/root/proc"
    mount --rbind /dev "$broot/root/dev"
    exec chroot "$broot/root" make -C /build -j"$jobs" GITID="$gitid" criu
  }
  export -f build
  export work broot jobs gitid
  setsid setpriv --pdeathsig KILL -- unshare --mount --propagation private bash -c build >"$log" 2>&1 </dev/null &
  step_pid=$!
  n=0
  while kill -0 "$step_pid" 2>/dev/null; do
    sleep 0.25 &
    wait $! || true
    n=$((n + 1))
    # Progress: the steps so far (protobuf code generation first, then C
    # files, then links; about 290 for criu 4.2), and the latest.
    if ((n % 40 == 0)); then
      done_n=$(grep -cE '^ *(PBCC|CC|HOSTCC|LINK) ' "$log" || true)
      last=$(grep -E '^ *(PBCC|CC|HOSTCC|LINK) ' "$log" | tail -n1 | awk '{ print $2 }' || true)
      say "  ... $done_n steps done${last:+, last $last}"
    fi
  done
  rc=0
  wait "$step_pid" || rc=$?
  step_pid=''
  if ((rc != 0)); then
    say "make criu failed (exit $rc); log: $log"
    exit 3
  fi
  [[ -x $work/src/criu/criu ]] || die "make criu succeeded but made no criu/criu"
  install -m 0755 -- "$work/src/criu/criu" "$work/disk/criu"
  # Run where it was linked: proves it starts with the suite's libraries.
  version=$(unshare --mount --propagation private bash -c \
    'mount --bind "$1" "$2/root/build" && chroot "$2/root" /build/criu --version' _ "$work/disk" "$broot" |
    sed -n 's/^Version: *//p' | head -n1)
  [[ -n $version ]] || die "the built criu does not run in its build root (criu --version printed no Version)"
  rm -rf -- "$work/src"
fi

make_ext4 "$work/disk" "$work/criu.ext4" mountlab-criu 1
mv -f -- "$work/criu.ext4" "$out/criu.ext4"
{
  printf '{\n'
  printf '  "version": %s,\n' "$(json "$version")"
  printf '  "binaryBytes": %s,\n' "$(stat -c %s "$work/disk/criu")"
  printf '  "builtAt": %s,\n' "$(json "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "files": { "disk": "criu.ext4" }\n'
  printf '}\n'
} >"$work/manifest.json"
mv -f -- "$work/manifest.json" "$out/manifest.json"
disk_kib=$(($(stat -c %s "$out/criu.ext4") / 1024))
say "done: criu ${version:-(its version is read in the guest)}; criu.ext4 $disk_kib KiB"
