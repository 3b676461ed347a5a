/**
 * Fuzz's findings reduced by `mountlab reduce`'s engine (src/reduce/): each
 * new or regressing signature's first scenario, in the cell it failed in,
 * for a budget of its own, keeping the exact signature it was found with.
 * The reduced scenario goes beside the finding's, as scenario.min.yaml.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { reduceFile } from '../reduce/reduce-file.js';
import { parseFailure } from '../results/signature.js';
import type { CellPlan } from '../run/runner.js';
import { type LoadedScenario, loadScenarioFile, parseScenario } from '../scenario/load.js';
import type { ReduceHook } from './campaign.js';

export function reduceHook(
  dir: string,
  cells: readonly CellPlan[],
  o: { jobs: number; budgetMs: number; log: (m: string) => void },
): ReduceHook {
  return async (f) => {
    const cell = cells.find((c) => c.id === f.cell);
    if (!cell) return undefined;
    const loaded = pinEngine(await loadScenarioFile(f.scenarioFile), f.logs);
    const want = parseFailure(f.signature);
    const tries = mkdtempSync(join(tmpdir(), 'mountlab-reduce-'));
    try {
      o.log(`fuzz: reducing ${relative(dir, f.scenarioFile)} (${f.signature}) for up to ${o.budgetMs / 1000} s`);
      const r = await reduceFile({
        loaded,
        cell,
        cellId: f.cell,
        jobs: o.jobs,
        runDir: tries,
        budgetMs: o.budgetMs,
        seed: 0,
        ...(want ? { want } : {}),
        signal: f.signal,
        log: () => {},
      });
      if (r.kind !== 'reduced') return undefined;
      const file = f.scenarioFile.replace(/\.ya?ml$/, '.min.yaml');
      await writeFile(file, r.text);
      return { file: relative(dir, file), steps: r.result.after.steps };
    } finally {
      rmSync(tries, { recursive: true, force: true });
    }
  };
}

/**
 * A scenario of `mount-engine: both` that failed in one engine is reduced in
 * that engine: reduce runs a scenario's first variant, and a failure of the
 * other one alone was never seen (8 of 44 findings kept their whole
 * scenario). The variant is the last part of the finding's logs path
 * (".../fuzz-7-739[compat]").
 */
export function pinEngine(loaded: LoadedScenario, logs: string): LoadedScenario {
  const variant = /\[(v2|compat)\]$/.exec(logs)?.[1];
  if (!variant || loaded.scenario.engine?.['mount-engine'] !== 'both') return loaded;
  const text = loaded.text.replace(/^(\s*mount-engine:\s*)both\s*$/m, `$1${variant}`);
  return parseScenario(text, loaded.file);
}
