import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../scenario/load.js';
import type { ExecOptions, ExecResult } from '../target/exec.js';
import type { StartedTarget, Target } from '../target/target.js';
import type { TargetFacts } from '../results/result.js';
import { JsonReporter } from '../report/json.js';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { runCorpus } from './runner.js';
import { resultsProblems } from '../results/results-schema.js';
import type { ScenarioResult } from '../results/result.js';

/** Answers like a guest whose scenarios all survive; enough to make real result files. */
const guest = (): StartedTarget => ({
  facts: {
    target: 'vm',
    kernel: '6.12',
    criu: '4.1.1',
    criuCheck: 'ok',
    utilLinux: '2.41',
    readyMs: 1,
    accel: 'tcg',
  } satisfies TargetFacts,
  alive: true,
  async exec(argv: readonly string[] | string, _o: ExecOptions): Promise<ExecResult> {
    const cmd = typeof argv === 'string' ? argv : argv[1];
    const out =
      {
        setup: 'pid=100\n',
        capture: '@task init pid=100 mntns=1 cwd=/ root=/\n1 0 0:21 / / rw - tmpfs w rw\n',
        restore: 'pid=200\n@@log\n',
      }[cmd as string] ?? '';
    return { code: 0, stdout: out, stderr: '', durationMs: 1 };
  },
  async writeFile() {},
  consoleMark: () => 0,
  consoleSince: () => '',
  async [Symbol.asyncDispose]() {},
});

describe('results.json a run writes', () => {
  after(removeScratch);

  it('accepts what a run writes, after every scenario (partial) and at the end (complete)', async () => {
    const dir = scratchDir('results-schema');
    const json = new JsonReporter(dir);
    const partials: string[][] = [];
    const target: Target = { kind: 'vm', describe: 'scripted', start: async () => guest() };
    const s = (n: string, extra = '') =>
      parseScenario(`name: ${n}\ndescription: d\n${extra}steps: [{mkdir: /w}]\nexpect: identical\n`, `${n}.yaml`);
    const run = await runCorpus(
      [s('a'), s('b', 'requires: {targets: [container]}\n'), s('c', 'engine: {mount-engine: both}\n')],
      [{ id: 'cell', target }],
      {
        runId: 'r',
        probes: false,
        runDir: dir,
        signal: new AbortController().signal,
        reporter: {
          onRunStart: (i) => json.onRunStart(i),
          onScenarioEnd: async (r: ScenarioResult) => {
            await json.onScenarioEnd(r);
            partials.push(resultsProblems(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))));
          },
          onRunEnd: (r) => json.onRunEnd(r),
        },
      },
    );
    assert.equal(run.results.length, 4);
    assert.deepEqual(partials, [[], [], [], []]);
    const final = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { complete: boolean };
    assert.equal(final.complete, true);
    assert.deepEqual(resultsProblems(final), []);
  });
});
