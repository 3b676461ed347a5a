import { strict as assert } from 'node:assert';
import { Reporters, type Reporter } from './reporter.js';
import { runResult, scenarioResult } from '../results/results.testutil.js';

describe('Reporters (the multiplexer)', () => {
  it('goes on when one reporter throws: the others get every hook, the failure is recorded and said', async () => {
    class Broken implements Reporter {
      ends = 0;
      async onScenarioEnd() {
        this.ends++;
        throw new Error('ENOSPC: no space left on device, write summary.md');
      }
      onPhase() {
        throw new Error('renderer bug');
      }
    }
    const broken = new Broken();
    const seen: string[] = [];
    const logs: string[] = [];
    const fine: Reporter = {
      onPhase: (s, _c, p) => void seen.push(`${s}:${p}`),
      onScenarioEnd: (r) => void seen.push(`end ${r.scenario}`),
      onRunEnd: () => void seen.push('run end'),
      onLog: (m) => void logs.push(m),
    };
    const rep = new Reporters([broken, fine]);
    rep.onPhase('a', 'cell', 'dump');
    await rep.onScenarioEnd(scenarioResult({ scenario: 'a', outcome: 'pass' }));
    await rep.onScenarioEnd(scenarioResult({ scenario: 'b', outcome: 'pass' }));
    await rep.onRunEnd(runResult([]));
    assert.deepEqual(seen, ['a:dump', 'end a', 'end b', 'run end']);
    assert.equal(broken.ends, 2, 'a reporter that failed once still gets its later hooks');
    assert.deepEqual(
      rep.failures.map((f) => [f.reporter, f.hook]),
      [
        ['Broken', 'onPhase'],
        ['Broken', 'onScenarioEnd'],
        ['Broken', 'onScenarioEnd'],
      ],
    );
    assert.match(
      logs[1]!,
      new RegExp(
        String.raw`^reporter Broken failed in onScenarioEnd: ENOSPC: no space left on device, write summary\.md; ` +
          'the run goes on without it$',
      ),
    );
  });
});
