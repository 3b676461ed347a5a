import { join } from 'node:path';
import type { RunResult, ScenarioResult } from '../results/result.js';
import { RESULTS_FORMAT } from '../results/result.js';
import { RUN_FILES } from '../results/artifacts.js';
import { writeAtomic } from './atomic.js';
import type { Reporter, RunStartInfo } from './reporter.js';

/**
 * results.json, rewritten after every scenario with `complete: false`, so a
 * run killed half-way still leaves a valid file covering what finished.
 */
export class JsonReporter implements Reporter {
  private info: RunStartInfo | undefined;
  private readonly results: ScenarioResult[] = [];
  private readonly started = new Date().toISOString();

  constructor(private readonly runDir: string) {}

  onRunStart(info: RunStartInfo): void {
    this.info = info;
  }

  async onScenarioEnd(r: ScenarioResult): Promise<void> {
    this.results.push(r);
    const partial = {
      format: RESULTS_FORMAT,
      runId: this.info?.runId,
      startedAt: this.started,
      complete: false,
      results: this.results,
    };
    await writeAtomic(join(this.runDir, RUN_FILES.results), `${JSON.stringify(partial, null, 2)}\n`);
  }

  async onRunEnd(run: RunResult): Promise<void> {
    await writeAtomic(join(this.runDir, RUN_FILES.results), `${JSON.stringify(run, null, 2)}\n`);
  }
}
