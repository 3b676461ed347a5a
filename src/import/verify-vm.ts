/**
 * `mountlab import --verify` in a VM: the imported scenario is run with
 * the lab's ordinary runner, stopped after the capture before the dump
 * (RunOptions.stopAfter), and its capture is checked against the plan
 * (verify.ts). One kernel and one criu: the point is the topology the
 * guest builds, not the matrix.
 */
import { newRunId } from '../run/run-id.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MountlabError } from '../errors.js';
import { parseCapture } from '../capture/capture-file.js';
import { loadScenarioFile } from '../scenario/load.js';
import { checkProgramSize } from '../plan/program-size.js';
import { checkModel } from '../plan/model-check.js';
import { runCorpus } from '../run/runner.js';
import { planVmCells, prepareCrius } from '../run/cells.js';
import { DEFAULT_KERNEL, parseKernels } from '../run/kernels.js';
import { DEFAULT_CRIU } from '../run/criu-versions.js';
import { parseCriuChoices } from '../run/criu-choices.js';
import type { ImportPlan } from './plan-import.js';
import type { ImportFlags } from './import-command.js';
import { checkImport, type ImportCheck } from './verify.js';

export async function verifyInVm(
  plan: ImportPlan,
  scenarioFile: string,
  flags: ImportFlags,
  say: (m: string) => void,
): Promise<ImportCheck> {
  const loaded = await loadScenarioFile(scenarioFile);
  checkProgramSize(loaded);
  checkModel(loaded);
  const kernels = parseKernels(flags.kernel ?? DEFAULT_KERNEL).slice(0, 1);
  const crius = parseCriuChoices(flags.criu ?? DEFAULT_CRIU).slice(0, 1);
  const own = flags.out === undefined;
  const outDir = own ? mkdtempSync(join(tmpdir(), 'mountlab-verify-')) : resolve(flags.out!);
  const runId = newRunId('verify');
  const runDir = join(outDir, runId);
  const ac = new AbortController();
  try {
    const prepared = await prepareCrius(crius, { signal: ac.signal, log: say });
    const cells = await planVmCells({
      kernels,
      crius: prepared,
      accel: flags.accel ?? 'auto',
      machine: 'microvm',
      memoryMiB: 1024,
      runDir,
      signal: ac.signal,
      log: say,
    });
    say(`building ${loaded.scenario.name} in ${cells[0]!.id} (stopped before the dump)`);
    const run = await runCorpus([loaded], cells, {
      runId,
      runDir,
      signal: ac.signal,
      probes: false,
      stopAfter: 'capture-before',
      reporter: { onLog: say },
    });
    const r = run.results[0];
    if (r?.outcome !== 'pass' || !r.artifacts['before.capture']) {
      throw new MountlabError(
        `the imported scenario could not be built: ${r?.reason ?? run.cells[0]?.error ?? 'no result'}`,
        {
          hint: own ? 'run it with mountlab run FILE to keep its logs' : `logs are in ${runDir}`,
        },
      );
    }
    const text = await readFile(join(runDir, r.artifacts['before.capture']), 'latin1');
    if (!own) say(`capture: ${join(runDir, r.artifacts['before.capture'])}`);
    return checkImport(plan, parseCapture(text, 'guest capture'));
  } finally {
    if (own) rmSync(outDir, { recursive: true, force: true });
  }
}
