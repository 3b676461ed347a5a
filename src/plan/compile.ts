import type { Scenario } from '../scenario/scenario.generated.js';
import { DEFAULT_LIMITS, type Flavor, type GuestPlan, type MountEngine } from './plan.js';
import { compileProgram, programStepLabels, ZDTM_USERNS } from './program.js';
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
      // zdtm's mnt_ext_dev: the dump names the device by number, the restore gives its node by key; criu
      // opens the node in its own namespace, and the restored mount's source is that path, as it was.
      dumpArgs.push('--external', `dev[${x.device}]:${x.key}`);
      restoreArgs.push('--external', `dev[${x.key}]:${x.source ?? ''}`);
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

/** Who the plan is for. */
export interface CompileOptions {
  /** Unique within the guest: names the scenario's work and sync directories. */
  id: string;
  mountEngine?: MountEngine;
  /** `uns`: init in a new user namespace with zdtm's maps. Default `ns`. */
  flavor?: Flavor;
}

/**
 * Compiles a scenario into what the guest runs: the program (program.ts),
 * which the static helper executes with direct syscalls, one process per
 * task, as its wire text (wire.ts); its rendering in words for people; and
 * the labels, limits and criu options the host needs around it.
 */
export function compileScenario(s: Scenario, { id, mountEngine = 'v2', flavor = 'ns' }: CompileOptions): GuestPlan {
  const program = compileProgram(s, id, flavor === 'uns' ? ZDTM_USERNS : undefined);
  const limits = { ...DEFAULT_LIMITS };
  if (s.timeouts?.setup) limits.setup = s.timeouts.setup;
  if (s.timeouts?.dump) limits.dump = s.timeouts.dump;
  if (s.timeouts?.restore) limits.restore = s.timeouts.restore;
  return {
    id,
    scenario: s.name,
    program: { wire: serialiseProgram(program), rendering: renderProgram(program) },
    stepLabels: programStepLabels(program),
    tasks: program.tasks.map((t) => t.name),
    syncDir: program.syncDir,
    outsideLabels: program.outside.map((o) => o.label),
    leak: s.leak ?? [],
    limits,
    criu: criuArgs(s.engine, mountEngine),
  };
}
