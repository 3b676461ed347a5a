/**
 * Do the commands of a `mountlab report --for-list` message reproduce the
 * failure without mountlab? Takes a run (the reduced case's, as
 * `mountlab reduce` leaves it), renders its message, cuts the script out of
 * it exactly as a reader would, and runs it with bash in a fresh guest of
 * the run's cell: no labctl, no helper, only what the message says.
 *
 *   node dist/bench/for-list-by-hand.js RUN_DIR [SCENARIO]
 *
 * Prints the script's output and whether it shows the run's signature (the
 * criu error line, numbers masked); exits 0 when it does, 1 when not.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { forListFromRun } from '../src/report/for-list.js';
import { readResultsFile } from '../src/results/read-results.js';
import { failureOf, formatFailure, maskNumbers } from '../src/results/signature.js';
import { planVmCellById } from '../src/run/cells.js';
import { loadContext, waitForVmSlot } from './lib.js';

const [runDir, scenario] = process.argv.slice(2);
if (!runDir) {
  process.stderr.write('usage: node dist/bench/for-list-by-hand.js RUN_DIR [SCENARIO]\n');
  process.exit(2);
}
const say = (s: string) => process.stdout.write(`${s}\n`);

/** The script as a reader copies it: from "#!/bin/bash" to the first blank line. */
function scriptOf(message: string): string {
  const lines = message.split('\n');
  const start = lines.indexOf('#!/bin/bash');
  if (start < 0) throw new Error('the message holds no script');
  const end = lines.indexOf('', start);
  return `${lines.slice(start, end < 0 ? undefined : end).join('\n')}\n`;
}

const message = await forListFromRun(runDir, scenario ? { scenario } : {});
const run = await readResultsFile(join(runDir, 'results.json'));
const result = scenario ? run.results.find((r) => r.scenario === scenario)! : run.results[0]!;
const want = failureOf(result);
const script = scriptOf(message);
say(`# ${loadContext()}`);
say(`# ${result.scenario} in ${result.cell}; its signature: ${formatFailure(want)}`);
say(`# the script (${script.split('\n').length - 1} lines) runs in a fresh guest with bash, nothing of mountlab's`);
await waitForVmSlot();
const dir = mkdtempSync(join(tmpdir(), 'mountlab-bench-by-hand-'));
const signal = new AbortController().signal;
let reproduced = false;
try {
  const cell = await planVmCellById(result.cell, { accel: 'auto', runDir: dir, signal, log: () => {} });
  const t0 = Date.now();
  await using t = await cell.target.start(signal);
  say(`# guest ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: kernel ${t.facts.kernel}, criu ${t.facts.criu}`);
  await t.writeFile('/root/repro.sh', script, '0755');
  const t1 = Date.now();
  const r = await t.exec(['bash', '/root/repro.sh'], { timeoutMs: 180_000, label: 'the script by hand' });
  say(r.stdout.trimEnd());
  if (r.stderr.trim()) say(`# stderr:\n${r.stderr.trimEnd()}`);
  say(`# exit ${r.code}, ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  // The criu line of the signature, in what the script printed of criu's log.
  const phase = want.signature.phase ?? 'dump';
  const printed = r.stdout.split(`== criu ${phase} failed:`)[1] ?? '';
  reproduced =
    want.signature.kind === 'criu' && printed.split('\n').some((l) => maskNumbers(l).includes(want.signature.text));
  const leftovers = await t.exec(
    ['sh', '-c', 'ls -d /tmp/repro.* 2>/dev/null; grep -c repro-root /proc/self/mountinfo'],
    {
      timeoutMs: 30_000,
      label: 'leftovers',
    },
  );
  say(`# left behind (temp dirs, then mounts named repro-root): ${leftovers.stdout.trim().replace(/\n/g, '; ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
say(reproduced ? '# REPRODUCED: same signature, without mountlab' : '# NOT reproduced');
process.exit(reproduced ? 0 : 1);
