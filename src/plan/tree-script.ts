import type { Scenario, Step } from '../scenario/scenario.generated.js';
import { shJoin, shq } from './shell.js';
import { HELPER, compileStep } from './steps.js';

/** One task of the scenario's process tree, with its steps numbered scenario-wide. */
interface TaskPlan {
  name: string;
  lines: string[];
}

export interface TreeScript {
  /** Run as `bash -c SCRIPT mountlab TASK FROM`, ML_ROOT set for init. */
  tree: string;
  /** The outside steps, for `chroot ROOT bash -c`; '' when none. */
  outside: string;
  /** Its step labels (prefixed by the task outside init) and outside step labels, as its comments give them. */
  labels: string[];
  outsideLabels: string[];
  /** Task names, init first. */
  tasks: string[];
  syncDir: string;
}

/**
 * The scenario as a bash script, run as
 * `bash -c SCRIPT mountlab TASK FROM`, holding a function per task.
 *
 * Why this shape:
 * - The root task follows the recipe CRIU is known to restore
 *   (shared/notes/verified-facts.md): it is the pid-namespace init, its own
 *   session leader, pivoted into a private bind of / with the old root
 *   detached, and holds no fd outside its root when it is dumped.
 * - Some steps must replace the task's process (unshare(2), an fd at a
 *   chosen number, chroot). The script then re-executes itself behind them
 *   from $BASH_EXECUTION_STRING with the next step number: nothing is
 *   written to the guest, and state crosses the exec in the kernel only.
 * - Tasks run concurrently; order between them is only what signal/wait
 *   say. Sync points are marker files in a directory each task holds open as
 *   fd 8, so they work whatever the task's mounts or root became.
 * - Progress goes to fd 9 (a pipe to labctl, outside the tree): `step N`,
 *   `failed N RC`, `ready`. fds 8 and 9 are closed before the final exec.
 *
 * The lab no longer runs it: the helper executes the program (program.ts)
 * with direct syscalls. It stays as the readable shell rendering of a
 * scenario, with util-linux commands a reader can run by hand, and as
 * bench/overhead's bare bash script.
 */
export function renderTreeScript(s: Scenario, { id, file }: { id: string; file: string }): TreeScript {
  const labels: string[] = [];
  const tasks: TaskPlan[] = [];

  const compileTask = (name: string, steps: Step[]): void => {
    const task: TaskPlan = { name, lines: [] };
    tasks.push(task);
    for (const step of steps) {
      const c = compileStep(step);
      labels.push(name === 'init' ? c.label : `${name}: ${c.label}`);
      const n = labels.length;
      task.lines.push(
        `  # step ${n}: ${c.label.replace(/\n/g, ' ')}`,
        `  if [ "$ml_from" -le ${n} ]; then`,
        `    ml_at ${n}`,
      );
      switch (c.kind) {
        case 'shell':
          task.lines.push(`    ${c.shell}`);
          break;
        case 'reexec':
          task.lines.push(`    ml_reexec ${n + 1} ${shJoin(c.prefix)}`);
          break;
        case 'spawn':
          task.lines.push(`    ml_spawn ${shq(c.name)}`);
          compileTask(c.name, c.steps);
          break;
      }
      task.lines.push('  fi');
    }
  };
  compileTask('init', s.steps);

  const children = tasks.filter((t) => t.name !== 'init').map((t) => t.name);
  const syncDir = `/.mountlab-sync-${id}`;
  const out: string[] = [
    // JSON-quoted: a newline in a name or file name must not end the comment (the rest would run as a command).
    `# mountlab plan for scenario ${JSON.stringify(s.name)} (${JSON.stringify(file)}); generated, do not edit.`,
    '# Run as: bash -c "$SCRIPT" mountlab TASK FROM   (ML_ROOT=<scenario root> for init)',
    'set -eu',
    'ml_task=$1 ml_from=$2 ml_step=0',
    'export MOUNTLAB_TASK=$ml_task',
    `ml_exit() { rc=$?; [ "$rc" -eq 0 ] || printf 'failed %s %s\\n' "$ml_step" "$rc" >&9; }`,
    'trap ml_exit EXIT',
    `ml_at() { ml_step=$1; printf 'step %s\\n' "$1" >&9; }`,
    '# Replace this process (behind an exec prefix) and resume at step $1.',
    'ml_reexec() { local next=$1; shift; trap - EXIT; ' +
      'exec "$@" /bin/bash -c "$BASH_EXECUTION_STRING" mountlab "$ml_task" "$next"; }',
    'ml_spawn() { ( trap - EXIT; exec /bin/bash -c "$BASH_EXECUTION_STRING" mountlab "$1" 0 ) & }',
    'ml_signal() { : > "/proc/self/fd/8/$1"; }',
    'ml_wait() { while [ ! -e "/proc/self/fd/8/$1" ]; do sleep 0.02; done; }',
    '# The last thing a task does: stay alive, holding nothing of the lab.',
    'ml_hold() { trap - EXIT; exec 8<&- 9>&- 0<&- 1>&- 2>&-; exec "$@" sleep 1000000; }',
    '',
    'task_init() {',
    '  if [ "$ml_from" -eq 0 ]; then',
    '    cd "$ML_ROOT"',
    `    mkdir -p .${syncDir}-old .${syncDir}`,
    // The helper, not pivot_root(8): Debian sid's util-linux no longer ships it.
    `    ${HELPER} pivot-root . .${syncDir}-old`,
    '    cd /',
    '    unset ML_ROOT',
    '    # umount(8) reads /proc/self/mountinfo, so proc comes first.',
    '    mount -t proc proc /proc',
    `    umount -l ${syncDir}-old`,
    `    rmdir ${syncDir}-old`,
    `    exec 8<${syncDir}`,
    "    # CRIU wants every task's session leader inside the tree: lead a",
    '    # session before any child is spawned (setsid(1) execs, no fork here).',
    '    ml_reexec 1 setsid',
    '  fi',
    ...tasks[0]!.lines,
    ...children.map((c) => `  ml_wait ${shq(`done-${c}`)}`),
    "  printf 'ready\\n' >&9",
    '  ml_hold',
    '}',
  ];
  for (const t of tasks.slice(1)) {
    out.push(
      '',
      `task_${t.name.replace(/-/g, '_')}() {`,
      ...t.lines,
      `  ml_signal ${shq(`done-${t.name}`)}`,
      '  ml_hold',
      '}',
    );
  }
  out.push('', 'case $ml_task in');
  for (const t of tasks) out.push(`  ${shq(t.name)}) task_${t.name.replace(/-/g, '_')} ;;`);
  out.push('  *) echo "unknown task $ml_task" >&2; exit 2 ;;', 'esac', '');
  const script = out.join('\n');

  const outside = (s.outside ?? []).map(compileStep);
  const outsideLines = ['set -eu', 'cd /'];
  outside.forEach((c, i) => {
    // semantics.ts admits only plain steps here; anything else is a bug of ours.
    if (c.kind !== 'shell') throw new Error(`outside step ${i + 1} (${c.label}) is not a plain step`);
    outsideLines.push(`# outside step ${i + 1}: ${c.label.replace(/\n/g, ' ')}`, `echo ${i + 1} >&7`, c.shell);
  });

  return {
    tree: script,
    outside: outside.length ? `${outsideLines.join('\n')}\n` : '',
    labels,
    outsideLabels: outside.map((c) => c.label),
    tasks: tasks.map((t) => t.name),
    syncDir,
  };
}
