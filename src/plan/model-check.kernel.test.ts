import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { buildHelper } from '../../test/helper-build.js';
import { parseScenario } from '../scenario/load.js';
import { modelProblems } from './model-check.js';
import { compileProgram } from './program.js';
import { runTree } from './run-tree.testutil.js';

/**
 * The model against this host's kernel: random scenarios, built by the
 * guest helper's run-tree in private mount and pid namespaces (as
 * executor.test.ts does), must never be refused by the model when the
 * kernel builds them, and where the model refuses a step the kernel must
 * fail at that very step. The issue asks for this in one VM; the host's
 * kernel is what a test without VMs has. About a minute for 240 scenarios.
 */

const COUNT = 240;
const SEED = Number(process.env.MOUNTLAB_MODEL_SEED ?? 19);

/** mulberry32: a seeded generator, so a failure can be run again. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A small set of paths under one tmpfs, so steps meet each other's mounts often; /x is never made. */
const PATHS = ['/t/a', '/t/b', '/t/c', '/t/a/x', '/t/b/x', '/t/a/x/y', '/t/c/x', '/x'];

/**
 * What the generator believes made so far (not a model: a bias, so that
 * most steps name a directory or mount that exists and scenarios often
 * get through, while the rest fail or are refused).
 */
interface Made {
  dirs: Set<string>;
  mounts: string[];
  n: number;
}

function randomSteps(r: () => number, depth: number, made: Made): string[] {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const any = () => pick(PATHS);
  const dir = () => (r() < 0.85 && made.dirs.size ? pick([...made.dirs]) : any());
  const mount = () => (r() < 0.8 && made.mounts.length ? pick(made.mounts) : any());
  const mounted = (path: string) => {
    made.mounts.push(path);
    return path;
  };
  const out: string[] = [];
  const length = 1 + Math.floor(r() * 7);
  for (let i = 0; i < length; i++) {
    const k = r();
    if (k < 0.2) {
      const path = any();
      for (let q = path; q !== '/t' && q !== ''; q = q.slice(0, q.lastIndexOf('/'))) made.dirs.add(q);
      out.push(`{mkdir: ${path}}`);
    } else if (k < 0.32) out.push(`{mount: {fstype: tmpfs, source: m${i}, target: ${mounted(dir())}}}`);
    else if (k < 0.42) out.push(`{bind: {source: ${dir()}, target: ${mounted(dir())}}}`);
    else if (k < 0.46) out.push(`{rbind: {source: ${dir()}, target: ${mounted(dir())}}}`);
    else if (k < 0.52) out.push(`{move: {from: ${mount()}, to: ${dir()}}}`);
    else if (k < 0.59) out.push(`{umount: ${mount()}}`);
    else if (k < 0.62) out.push(`{umount: {path: ${mount()}, lazy: true}}`);
    else if (k < 0.69) out.push(`{${pick(['make-shared', 'make-private', 'make-slave'])}: ${mount()}}`);
    else if (k < 0.72) out.push(`{make-slave: {path: ${mount()}, recursive: true}}`);
    else if (k < 0.79) out.push(`{rmdir: ${r() < 0.5 ? mount() : dir()}}`);
    else if (k < 0.82) out.push(`{write: {path: ${dir()}/f, content: x}}`);
    else if (k < 0.84) out.push(`{pivot-root: {new-root: ${r() < 0.5 ? mount() : dir()}, put-old: /}}`);
    else if (k < 0.86) out.push(`{chdir: ${dir()}}`);
    else if (k < 0.88) out.push(`{open-tree: {source: ${dir()}, target: ${mounted(dir())}}}`);
    else if (depth < 2 && k < 0.96) {
      // A task that runs while its parent waits: the model follows it.
      const n = made.n++;
      const kid = [...(r() < 0.4 ? ['{unshare: [mnt]}'] : []), ...randomSteps(r, depth + 1, made), `{signal: s${n}}`];
      out.push(`{spawn: {name: k${n}, steps: [${kid.join(', ')}]}}`, `{wait: s${n}}`);
    } else out.push(`{unshare: [mnt]}`);
  }
  return out;
}

function randomScenario(r: () => number): string {
  const outside =
    r() < 0.25 ? ['{mkdir: /h}', '{mount: {fstype: tmpfs, source: h, target: /h}}', '{make-shared: /h}'] : undefined;
  const steps = [
    '{mkdir: /t}',
    '{mount: {fstype: tmpfs, source: t, target: /t}}',
    ...(outside ? ['{mkdir: /t/a}', '{bind: {source: /h, target: /t/a}}'] : []),
    ...randomSteps(r, 0, { dirs: new Set(), mounts: [], n: 0 }),
  ];
  return [
    'name: random',
    'description: random',
    ...(outside ? [`outside: [${outside.join(', ')}]`] : []),
    `steps: [${steps.join(', ')}]`,
    'expect: identical',
    '',
  ].join('\n');
}

/** `failed N ...` of the tree or of the outside steps: the step the kernel refused, else ready or neither. */
function kernelOutcome(status: string[]): { failed?: number; ready: boolean } {
  const failed = status.find((l) => l.startsWith('failed '));
  return failed ? { failed: Number(failed.split(' ')[1]), ready: false } : { ready: status.includes('ready') };
}

describe('@e2e the mount model against this host kernel (random scenarios in private namespaces)', function () {
  this.timeout(1_800_000);
  let helper = '';
  before(() => {
    assert.equal(spawnSync('unshare', ['--version']).status, 0, 'unshare(1) is needed here');
    helper = buildHelper(scratchDir('helper'));
  });
  after(removeScratch);

  it(`accepts all the kernel builds, refuses only steps the kernel fails (${COUNT} scenarios, seed ${SEED})`, () => {
    const r = prng(SEED);
    const tally = { ready: 0, failed: 0, refused: 0, neither: 0 };
    for (let i = 0; i < COUNT; i++) {
      const yaml = randomScenario(r);
      const scenario = parseScenario(yaml, `random-${i}.yaml`).scenario;
      const problems = modelProblems(scenario);
      const run = runTree(helper, compileProgram(scenario, `m${i}`));
      const outside = kernelOutcome(run.outsideStatus);
      const tree = kernelOutcome(run.status);
      const what =
        `scenario ${i} (seed ${SEED}):\n${yaml}\nmodel: ${JSON.stringify(problems)}\n` +
        `kernel: ${run.outsideStatus.join(' | ')} / ${run.status.join(' | ')}\n${run.err}`;
      if (tree.ready) assert.deepEqual(problems, [], `the model refused what the kernel built: ${what}`);
      for (const p of problems) {
        const n = Number(/step (\d+)/.exec(p.message)![1]);
        const failed = p.path.startsWith('/outside/') ? outside.failed : tree.failed;
        assert.equal(failed, n, `the model refused a step the kernel did not fail at: ${what}`);
      }
      if (problems.length) tally.refused++;
      if (tree.ready) tally.ready++;
      else if (tree.failed !== undefined || outside.failed !== undefined) tally.failed++;
      else tally.neither++;
    }
    // The property is only worth something if both sides are exercised.
    assert.ok(tally.ready >= 10 && tally.refused >= 20, JSON.stringify(tally));
    console.log(`      ${JSON.stringify(tally)}`);
  });
});
