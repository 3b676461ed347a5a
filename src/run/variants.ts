import { FLAVORS, type Flavor, type MountEngine } from '../plan/plan.js';
import type { LoadedScenario } from '../scenario/load.js';

/**
 * One run of a scenario: most scenarios are one run, a scenario with
 * `engine.mount-engine: both` is two, each with its own verdict, so that a
 * difference between the engines shows as two results side by side. Each
 * flavour of `--flavor` runs every one of them again (zdtm's ns and uns):
 * `uns` appends `[uns]` to the name, `ns` leaves it as it was.
 */
export interface ScenarioRun {
  loaded: LoadedScenario;
  /** The scenario's name, with the engine appended when the scenario runs under both, then `[uns]` for uns. */
  name: string;
  mountEngine: MountEngine;
  flavor: Flavor;
}

export function scenarioRuns(scenarios: LoadedScenario[], flavors: readonly Flavor[] = ['ns']): ScenarioRun[] {
  return flavors.flatMap((flavor) =>
    scenarios.flatMap((loaded): ScenarioRun[] => {
      const base = loaded.scenario.name;
      const suffix = flavor === 'ns' ? '' : `[${flavor}]`;
      const choice = loaded.scenario.engine?.['mount-engine'] ?? 'v2';
      if (choice === 'both') {
        return (['v2', 'compat'] as const).map((mountEngine) => ({
          loaded,
          name: `${base}[${mountEngine}]${suffix}`,
          mountEngine,
          flavor,
        }));
      }
      return [{ loaded, name: `${base}${suffix}`, mountEngine: choice, flavor }];
    }),
  );
}

/** `--flavor ns,uns`: each once, in the order given. */
export function parseFlavors(list: string): Flavor[] {
  const out: Flavor[] = [];
  for (const f of list.split(',').map((x) => x.trim())) {
    if (!(FLAVORS as readonly string[]).includes(f))
      throw new Error(`unknown flavour '${f}'; known: ${FLAVORS.join(', ')}`);
    if (!out.includes(f as Flavor)) out.push(f as Flavor);
  }
  if (!out.length) throw new Error('--flavor needs at least one of ns, uns');
  return out;
}
