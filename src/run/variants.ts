import type { MountEngine } from '../plan/plan.js';
import type { LoadedScenario } from '../scenario/load.js';

/**
 * One run of a scenario: most scenarios are one run, a scenario with
 * `engine.mount-engine: both` is two, each with its own verdict, so that a
 * difference between the engines shows as two results side by side.
 */
export interface ScenarioRun {
  loaded: LoadedScenario;
  /** The scenario's name, with the engine appended when the scenario runs under both. */
  name: string;
  mountEngine: MountEngine;
}

export function scenarioRuns(scenarios: LoadedScenario[]): ScenarioRun[] {
  return scenarios.flatMap((loaded): ScenarioRun[] => {
    const name = loaded.scenario.name;
    const choice = loaded.scenario.engine?.['mount-engine'] ?? 'v2';
    if (choice === 'both') {
      return (['v2', 'compat'] as const).map((mountEngine) => ({
        loaded,
        name: `${name}[${mountEngine}]`,
        mountEngine,
      }));
    }
    return [{ loaded, name, mountEngine: choice }];
  });
}
