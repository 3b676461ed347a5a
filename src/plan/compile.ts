import type { Scenario, Step } from '../scenario/scenario.generated.js';
import { shJoin, shq } from './shell.js';
import { HELPER, compileStep } from './steps.js';
import { DEFAULT_LIMITS, type GuestPlan, type MountEngine } from './plan.js';
import { DEFAULT_EXECUTOR, type Executor } from './executor-choice.js';
import { compileProgram } from './program.js';
import { renderProgram } from './render-program.js';
import { serialiseProgram } from './wire.js';

/** criu options from the scenario's engine settings, in a fixed order. */
export function criuArgs(
  e: Scenario['engine'],
  mountEngine: MountEngine = 'v2',
): { dumpArgs: string[]; restoreArgs: string[] } {
  const dumpArgs: string[] = [];
  const restoreArgs: string[] = [];
  for (const x of e?.external ?? []) {
    // Validation has made sure each entry is exactly one of a mount, auto-detection and a device.
    if (x.device !== undefined) {
      const dev = `dev[${x.device}]:${x.key}`;
      dumpArgs.push('--external', dev);
      restoreArgs.push('--external', dev);
    } else if (x.auto) {
      dumpArgs.push('--external', x.flags ? `mnt[]:${x.flags}` : 'mnt[]');
    } else if (x.path !== undefined) {
      const key = x.key ?? (x.path.replace(/\//g, '_').replace(/^_+/, '') || 'root');
      dumpArgs.push('--external', `mnt[${x.path}]:${key}`);
      // labctl replaces @ROOT@ with the scenario root it made: the host-side
      // path of what the outside steps prepared.
      restoreArgs.push('--external', `mnt[${key}]:@ROOT@${x.source ?? x.path}`);
    }
  }
  if (e?.['link-remap']) dumpArgs.push('--link-remap');
  if (e?.['ghost-limit'] !== undefined) dumpArgs.push(`--ghost-limit=${e['ghost-limit']}`);
  if (mountEngine === 'compat') restoreArgs.push('--mntns-compat-mode');
  dumpArgs.push(...(e?.['dump-args'] ?? []));
  restoreArgs.push(...(e?.['restore-args'] ?? []));
  return { dumpArgs, restoreArgs };
}

/** One task of the scenario's process tree, with its steps numbered scenario-wide. */
interface TaskPlan {
  name: string;
  lines: string[];
}

/** Who the plan is for. */
export interface CompileOptions {
  /** Unique within the guest: names the scenario's work and sync directories. */
  id: string;
  /** The scenario's file, named in the script's first comment line. */
  file: string;
  mountEngine?: MountEngine;
  /** What will build the tree; the helper's program is compiled only for the helper. */
  executor?: Executor;
}

/**
 * Compiles a scenario into the guest program: one bash script, run as
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
 * The scripts' sizes are not checked here: script-size.ts refuses a
 * scenario too big for the guest when it is loaded, before anything boots.
 */
export function compileScenario(
  s: Scenario,
  { id, file, mountEngine = 'v2', executor = DEFAULT_EXECUTOR }: CompileOptions,
): GuestPlan {
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

  const limits = { ...DEFAULT_LIMITS };
  if (s.timeouts?.setup) limits.setup = s.timeouts.setup;
  if (s.timeouts?.dump) limits.dump = s.timeouts.dump;
  if (s.timeouts?.restore) limits.restore = s.timeouts.restore;
  const program = executor === 'helper' ? compileProgram(s, id) : undefined;
  return {
    id,
    scenario: s.name,
    executor,
    treeScript: script,
    ...(program ? { program: { wire: serialiseProgram(program), rendering: renderProgram(program) } } : {}),
    stepLabels: labels,
    tasks: tasks.map((t) => t.name),
    syncDir,
    outsideScript: outside.length ? `${outsideLines.join('\n')}\n` : '',
    outsideLabels: outside.map((c) => c.label),
    leak: s.leak ?? [],
    limits,
    criu: criuArgs(s.engine, mountEngine),
  };
}
