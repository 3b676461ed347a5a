/**
 * Equivalence of two ways of building the trees over a corpus (issue 18):
 * two runs of the same scenarios on the same cell, e.g. one from a
 * checkout before a change to the executor and one after (the bash
 * executor, MOUNTLAB_EXECUTOR=bash, was held against the helper this way
 * before it was removed):
 *
 *   (old checkout) ./mountlab run scenarios/ -j2 --out A
 *   (new checkout) ./mountlab run scenarios/ -j2 --out B
 *   node dist/bench/executor-equivalence.js A/<run> B/<run>
 *
 * For every scenario (and mount engine) of both: the verdicts, and the
 * before.capture files compared as topologies (the comparator: ids,
 * device numbers and peer-group numbers may differ, the shape may not),
 * after naming every scenario's work directory alike.
 * Then the runs' wall times and the mean of each phase. Prints figures and
 * every mismatch; exit 1 when there is one. `./mountlab diff-runs A B`
 * says the same of the verdicts, in the reports' words.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCapture } from '../src/capture/capture-file.js';
import { compareCaptures } from '../src/compare/compare.js';
import { readResultsFile } from '../src/results/read-results.js';
import type { ScenarioResult } from '../src/results/result.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const [dirA, dirB] = process.argv.slice(2);
if (!dirA || !dirB) {
  say('usage: node dist/bench/executor-equivalence.js RUN_DIR_BASH RUN_DIR_HELPER');
  process.exit(2);
}

const key = (r: ScenarioResult) => `${r.cell}/${r.scenario}`;
/** A scenario's work directory is named by its place in the run (s1, s2, ...): the overlay root's options name it. */
const sameIds = (capture: string) => capture.replace(/\/run\/mountlab\/s[0-9]+(-[0-9]+)?\//g, '/run/mountlab/ID/');
const runA = await readResultsFile(join(dirA, 'results.json'));
const runB = await readResultsFile(join(dirB, 'results.json'));
const byKey = (rs: ScenarioResult[]) => new Map(rs.map((r) => [key(r), r]));
const a = byKey(runA.results);
const b = byKey(runB.results);

const mismatches: string[] = [];
let sameVerdict = 0;
let capturesEqual = 0;
let capturesCompared = 0;
for (const [k, ra] of a) {
  const rb = b.get(k);
  if (!rb) {
    mismatches.push(`${k}: only in ${dirA}`);
    continue;
  }
  if (ra.outcome === rb.outcome) sameVerdict++;
  else mismatches.push(`${k}: verdict ${ra.outcome} (${ra.reason}) / ${rb.outcome} (${rb.reason})`);
  const ca = ra.artifacts['before.capture'];
  const cb = rb.artifacts['before.capture'];
  if (!ca || !cb) {
    if (ca || cb) mismatches.push(`${k}: before.capture only in ${ca ? dirA : dirB}`);
    continue;
  }
  capturesCompared++;
  const [ta, tb] = await Promise.all([readFile(join(dirA, ca), 'latin1'), readFile(join(dirB, cb), 'latin1')]);
  const cmp = compareCaptures(parseCapture(sameIds(ta), ca), parseCapture(sameIds(tb), cb));
  if (cmp.equivalent) capturesEqual++;
  else mismatches.push(`${k}: before.capture differs: ${cmp.differences.map((d) => d.sentence).join('; ')}`);
}
for (const k of b.keys()) if (!a.has(k)) mismatches.push(`${k}: only in ${dirB}`);

say(`${a.size} results in ${dirA}, ${b.size} in ${dirB}`);
say(`same verdict: ${sameVerdict}; before.capture equal: ${capturesEqual} of ${capturesCompared} compared`);
for (const m of mismatches) say(`  mismatch: ${m}`);

const phaseMeans = (rs: ScenarioResult[]) => {
  const sums = new Map<string, { ms: number; n: number }>();
  for (const r of rs)
    for (const p of r.phases) {
      const s = sums.get(p.phase) ?? { ms: 0, n: 0 };
      s.ms += p.ms;
      s.n++;
      sums.set(p.phase, s);
    }
  return sums;
};
const ma = phaseMeans(runA.results);
const mb = phaseMeans(runB.results);
const secs = (ms: number | undefined) => (ms === undefined ? '?' : (ms / 1000).toFixed(1));
say(`wall time: ${secs(runA.durationMs)} s / ${secs(runB.durationMs)} s`);
say('phase means (ms, over the scenarios that ran the phase):');
for (const phase of new Set([...ma.keys(), ...mb.keys()])) {
  const f = (m: Map<string, { ms: number; n: number }>) => {
    const s = m.get(phase);
    return s ? `${Math.round(s.ms / s.n)} (n=${s.n})` : '-';
  };
  say(`  ${phase.padEnd(14)} ${f(ma).padStart(12)} ${f(mb).padStart(12)}`);
}
process.exitCode = mismatches.length ? 1 : 0;
