# shellcheck shell=bash
# Shared by vm/build-image.sh and vm/build-kernel.sh (sourced, never run).
# The caller sets PROG, LOG_TAG, out and work before calling setup_workdir.

die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 1
}

t0=$EPOCHREALTIME
elapsed() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
# Progress on stderr; the host shows lines with this tag to the user.
say() { printf '[%s] %s (%ss)\n' "$LOG_TAG" "$*" "$(elapsed)" >&2; }

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

step_pid=''
bg_pids=()
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM HUP
  if [[ -n $step_pid ]]; then
    kill -TERM -- "-$step_pid" 2>/dev/null || true
    sleep 0.3
    kill -KILL -- "-$step_pid" 2>/dev/null || true
  fi
  for p in "${bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  [[ ! -e $work ]] || remove_workdir "$work"
  ((rc == 0)) || say "FAILED (exit $rc); nothing complete was left in $out"
  exit "$rc"
}

# Makes $out and $work (= $out/tmp-build.<pid>), with clean-up on exit,
# failure or signal; removes the leftovers of builds that were SIGKILLed.
setup_workdir() {
  mkdir -p -- "$out"
  out=$(cd -- "$out" && pwd -P)
  work=$out/tmp-build.$$
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  local d pid
  for d in "$out"/tmp-build.*; do
    [[ -e $d ]] || continue
    pid=${d##*.}
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then continue; fi
    say "removing the leftovers of an interrupted build: $d"
    remove_workdir "$d"
  done
  # A rebuild in place: the old manifest must not vouch for new files.
  rm -f -- "$out/manifest.json"
  mkdir "$work"
}

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

# A JSON string.
json() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }

# An ext4 image of a directory tree, without mounting anything.
# No journal: disks are throwaway snapshots or read-only, and jbd2 commits
# cost guest CPU under TCG. Inode tables zeroed now, so the guest runs no
# lazyinit. 4 KiB blocks: below 512 MiB mkfs would pick 1 KiB ones.
make_ext4() {
  local src=$1 dst=$2 label=$3 free_mib=$4 used_mib size_mib
  used_mib=$(du -sxm "$src" | cut -f1)
  size_mib=$((used_mib + used_mib / 8 + free_mib))
  say "making ${dst##*/} (${used_mib} MiB of files, ${size_mib} MiB image)"
  run_step "$work/mkfs-$label.log" mkfs.ext4 -q -F -L "$label" -b 4096 -m 0 -O ^has_journal \
    -E lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0 -d "$src" "$dst" "${size_mib}M"
}
