import type { LoadedScenario } from '../scenario/load.js';
import { compileStep } from './steps.js';
import { DEFAULT_LIMITS, type GuestPlan } from './plan.js';

/**
 * Compiles a scenario into the guest program. The tree script follows the
 * recipe that CRIU is known to restore (shared/notes/verified-facts.md): the
 * dumped task is the pid-namespace init, its own session leader, pivoted into
 * a private bind of / with the old root detached, holding no fd outside it.
 *
 * Progress goes to fd 9 (a status file outside the tree) as `step N`,
 * `ready` or `failed N RC`, and fd 9 is closed before the final exec so CRIU
 * never sees it.
 */
export function compileScenario(loaded: LoadedScenario, id: string): GuestPlan {
  const s = loaded.scenario;
  const steps = s.steps.map(compileStep);
  const oldRoot = `/.mountlab-oldroot-${id}`;
  const lines = [
    '#!/bin/sh',
    `# mountlab plan for scenario ${JSON.stringify(s.name)} (${loaded.file}); generated, do not edit.`,
    'set -eu',
    'export MOUNTLAB_TASK=init',
    'ml_step=0',
    `ml_exit() { rc=$?; [ "$rc" -eq 0 ] || printf 'failed %s %s\\n' "$ml_step" "$rc" >&9; }`,
    'trap ml_exit EXIT',
    `ml_at() { ml_step=$1; printf 'step %s\\n' "$1" >&9; }`,
    'cd "$1"',
    `mkdir -p .${oldRoot}`,
    `pivot_root . .${oldRoot}`,
    'cd /',
    // umount(8) reads /proc/self/mountinfo, so proc comes first.
    'mount -t proc proc /proc',
    `umount -l ${oldRoot}`,
    `rmdir ${oldRoot}`,
  ];
  steps.forEach((st, i) => {
    lines.push(`# step ${i + 1}: ${st.label.replace(/\n/g, ' ')}`);
    lines.push(`ml_at ${i + 1}`);
    lines.push(st.shell);
  });
  lines.push(
    "printf 'ready\\n' >&9",
    'trap - EXIT',
    'exec 9>&-',
    // setsid: CRIU wants the dumped init to lead its own session.
    'exec setsid sleep 1000000 0<&- 1>&- 2>&-',
    '',
  );
  const limits = { ...DEFAULT_LIMITS };
  if (s.timeouts?.setup) limits.setup = s.timeouts.setup;
  if (s.timeouts?.dump) limits.dump = s.timeouts.dump;
  if (s.timeouts?.restore) limits.restore = s.timeouts.restore;
  return {
    id,
    scenario: s.name,
    treeScript: lines.join('\n'),
    stepLabels: steps.map((st) => st.label),
    limits,
    criu: { dumpArgs: [], restoreArgs: [] },
  };
}
