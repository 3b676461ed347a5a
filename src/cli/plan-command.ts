import { compileScenario } from '../plan/compile.js';
import { scenarioRuns } from '../run/variants.js';
import { loadAll } from './load-scenarios.js';

export interface PlanFlags {
  wire?: boolean;
}

/**
 * `mountlab plan`: what the guest would run for each scenario, without
 * booting anything. In words by default (the program.txt a run saves, plus
 * the criu command lines), or as the wire text the helper reads (--wire),
 * for a developer checking what a step really does before a run.
 */
export async function planCommand(
  paths: string[],
  o: PlanFlags,
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const runs = scenarioRuns(await loadAll(paths));
  const out: string[] = [];
  for (const r of runs) {
    const plan = compileScenario(r.loaded.scenario, { id: 'plan', mountEngine: r.mountEngine, flavor: r.flavor });
    if (o.wire) {
      out.push(plan.program.wire);
      continue;
    }
    out.push(
      `== ${r.name} (${r.loaded.file})`,
      plan.program.rendering.trimEnd(),
      '',
      // As vm/helper/batch.c runs them.
      `then: criu dump -t <init pid> -D <images> -o dump.log -v4 ${argv(plan.criu.dumpArgs)}`.trimEnd(),
      `      criu restore -D <images> -o restore.log -v4 -d --root <scenario root> --pidfile <pidfile> ${argv(
        plan.criu.restoreArgs,
      )}`.trimEnd(),
      `      (limits: setup ${plan.limits.setup} s, dump ${plan.limits.dump} s, restore ${plan.limits.restore} s)`,
      '',
    );
  }
  stdout.write(out.join('\n'));
  return 0;
}

/** Each argument as it reaches criu, one argv element each: JSON-quoted when it is not a plain word. */
function argv(args: string[]): string {
  return args
    .map((a) => a.replaceAll('@ROOT@', '<scenario root>'))
    .map((a) => (/^[\w@%+=:,./<>-]+$/.test(a) || /^<scenario root>$/.test(a) ? a : JSON.stringify(a)))
    .join(' ');
}
