/**
 * A scenario as commands a CRIU or kernel developer runs by hand, without
 * mountlab: util-linux (mount, unshare, setsid), criu, bash. What the
 * guest's helper does (labctl setup, run-tree) done in the shell: a
 * throw-away overlay of / as the scenario root, the outside steps chrooted
 * in a bind of it, the tree as the init of new mount and pid namespaces, its
 * own session leader, pivoted into the root with the old root detached (the
 * recipe CRIU restores), holding no fd when dumped; then criu dump and
 * restore with the lab's options. Each step is the util-linux line of
 * steps.ts, as renderTreeScript (tree-script.ts) writes it.
 *
 * Only scenarios whose tree is init's plain steps render this way (a
 * reduced one usually is): spawned tasks and steps that re-execute the task
 * (unshare, open, chroot) need the task machinery of the tree script, and
 * are refused with a reason.
 */
import type { Scenario } from '../scenario/scenario.generated.js';
import { shJoin, shq } from './shell.js';
import { HELPER, compileStep } from './steps.js';

export interface HandScript {
  script: string;
  /** Steps that call the lab's helper: util-linux has no command for them (set-group, open-tree, ...). */
  helperSteps: string[];
}

export class NotByHand extends Error {}

export function renderHandScript(s: Scenario, criu: { dumpArgs: string[]; restoreArgs: string[] }): HandScript {
  const helperSteps: string[] = [];
  const line = (step: Scenario['steps'][number], where: string): string => {
    const c = compileStep(step);
    if (c.kind !== 'shell')
      throw new NotByHand(`${where} "${c.label}" needs the lab's task machinery (a spawned task or a re-exec)`);
    if (c.shell.includes(HELPER)) helperSteps.push(c.label);
    return c.shell;
  };
  const outside = (s.outside ?? []).map((st, i) => line(st, `outside step ${i + 1}`));
  const tree = s.steps.map((st, i) => line(st, `step ${i + 1}`));
  if (s.steps.some((st) => st.signal !== undefined || st.wait !== undefined))
    throw new NotByHand('signal and wait need the task machinery');
  // After a noexec remount the tree can exec no sleep to hold in: one started before the steps holds
  // instead, its shell waits for it, and says it is ready through fd 9 (the lab holds as its helper).
  const noexec = s.steps.some((st) => st.remount?.options.split(',').includes('noexec'));
  // @ROOT@ is the scenario root the script makes, inside the same word.
  const quotedRestore = criu.restoreArgs.map((a) => a.split('@ROOT@').map(shq).join('"$W/root"')).join(' ');
  const out = [
    '#!/bin/bash',
    `# ${s.name}, rebuilt by hand: as root, on a throw-away machine (a VM).`,
    '# Needs util-linux, criu and bash; prints what criu says.',
    'set -eu',
    'W=$(mktemp -d /tmp/repro.XXXXXX)',
    'mkdir -p "$W/root" "$W/upper" "$W/work" "$W/img"',
    'TREE=',
    // Not under -e: one umount of what is not mounted must not leave the rest (measured: $W was left).
    'cleanup() {',
    '  set +e',
    '  [ -n "$TREE" ] && kill -9 "$TREE"',
    '  [ -s "$W/restored.pid" ] && kill -9 "$(cat "$W/restored.pid")"',
    '  wait',
    '  umount -l "$W/host"; umount -l "$W/root"; rm -rf "$W"',
    '} 2>/dev/null',
    'trap cleanup EXIT',
    '# The scenario root: a throw-away overlay of /, private, so nothing built propagates back.',
    'mount -t overlay repro-root -o "lowerdir=/,upperdir=$W/upper,workdir=$W/work,xino=on" "$W/root"',
    'mount --make-private "$W/root"',
    'ROOT=$W/root',
  ];
  if (outside.length) {
    out.push(
      "# The outside steps: in this mount namespace, in a second bind of the root (never under criu restore's",
      '# --root), with /proc, /sys and /dev for them only.',
      'mkdir -p "$W/host"',
      'mount --bind "$W/root" "$W/host"',
      'mount -t proc proc "$W/host/proc"',
      'mount --rbind /sys "$W/host/sys"',
      'mount --rbind /dev "$W/host/dev"',
      'chroot "$W/host" /bin/bash -eu <<\'OUTSIDE\'',
      'cd /',
      ...outside,
      'OUTSIDE',
      'umount -l "$W/host/proc" "$W/host/sys" "$W/host/dev"',
      'ROOT=$W/host',
    );
  }
  out.push(
    "# The tree's init: new mount and pid namespaces, its own session, pivoted into the root, old root",
    '# detached, /proc its own; then the steps; then it holds, with no fd open.',
    "STEPS=$(cat <<'STEPS'",
    'cd "$1"',
    'mkdir -p .repro-old',
    // Debian sid's util-linux no longer ships pivot_root(8): perl's syscall (x86_64's number) stands in.
    'if command -v pivot_root >/dev/null; then pivot_root . .repro-old; else',
    '  perl -e \'syscall(155, ".", ".repro-old") == 0 or die "pivot_root: $!\\n"\'; fi',
    'cd /',
    'mount -t proc proc /proc',
    'umount -l /.repro-old',
    'rmdir /.repro-old',
    ...(noexec ? ['sleep infinity 0<&- 1>&- 2>&- 9>&- &'] : []),
    ...tree,
    ...(noexec ? ['echo ready >&9', 'exec 0<&- 1>&- 2>&- 9>&-', 'wait'] : ['exec sleep infinity 0<&- 1>&- 2>&-']),
    'STEPS',
    ')',
    'unshare --mount --pid --fork --propagation unchanged setsid /bin/bash -eu -c "$STEPS" repro "$ROOT" ' +
      `${noexec ? '9>"$W/ready" ' : ''}&`,
    'UNSHARE=$!',
    'for _ in $(seq 300); do',
    '  TREE=$(cat /proc/$UNSHARE/task/$UNSHARE/children 2>/dev/null | tr -d " ") || true',
    noexec
      ? '  [ -n "$TREE" ] && [ -s "$W/ready" ] && [ "$(cat /proc/$TREE/wchan 2>/dev/null)" = do_wait ] && break'
      : '  [ -n "$TREE" ] && [ "$(cat /proc/$TREE/comm 2>/dev/null)" = sleep ] && break',
    '  kill -0 $UNSHARE 2>/dev/null || { echo "the tree failed to build"; exit 1; }',
    '  sleep 0.1',
    'done',
    'echo "== mountinfo of the tree (pid $TREE) before the dump"',
    'cat /proc/$TREE/mountinfo',
    `if criu dump -t "$TREE" -D "$W/img" -o dump.log -v4 ${shJoin(criu.dumpArgs)}; then`,
    '  echo "== criu dump: ok"',
    '  TREE=',
    '  if criu restore -D "$W/img" -o restore.log -v4 -d --root "$W/root" --pidfile "$W/restored.pid" ' +
      `${quotedRestore}; then`,
    '    echo "== criu restore: ok; mountinfo of the restored tree"',
    '    cat /proc/$(cat "$W/restored.pid")/mountinfo',
    '  else',
    '    echo "== criu restore failed:"; grep -E "Error|BUG" "$W/img/restore.log" | tail -n 5',
    '  fi',
    'else',
    '  echo "== criu dump failed:"; grep -E "Error|BUG" "$W/img/dump.log" | tail -n 5',
    'fi',
  );
  return { script: `${out.map((l) => l.replace(/ +$/, '')).join('\n')}\n`, helperSteps };
}
