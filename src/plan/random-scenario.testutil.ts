import type { ModelProblem } from './model-check.js';

// The seeded generator the fuzzer uses too (src/prng.ts); re-exported for the model tests and bench/model-vs-kernel.ts.
export { prng } from '../prng.js';

/**
 * Random scenarios for the model against a kernel: the generator, and the
 * judgement of the model's answer against the kernel's. Shared by
 * model-check.kernel.test.ts (this host's kernel) and
 * bench/model-vs-kernel.ts (one VM's kernel), so both hold the model to
 * the same scenarios for a seed.
 */

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

/** One random scenario as YAML (parseScenario reads it); draws from r. */
export function randomScenario(r: () => number): string {
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

/** What the kernel did with one part (the tree or the outside steps): the step it refused, else ready or neither. */
export interface KernelOutcome {
  failed?: number;
  ready: boolean;
}

/** `failed N ...` of the tree or of the outside steps (the helper's status lines): the first failure, else ready. */
export function kernelOutcome(status: string[]): KernelOutcome {
  const failed = status.find((l) => l.startsWith('failed '));
  return failed ? { failed: Number(failed.split(' ')[1]), ready: false } : { ready: status.includes('ready') };
}

/** How one scenario came out, for the tallies. */
export type Verdict = 'ready' | 'failed' | 'neither';

export interface Judgement {
  verdict: Verdict;
  /** The model refused a step. */
  refused: boolean;
  /** Where the model and the kernel disagree (the property is broken); empty when they agree. */
  disagreements: string[];
}

/**
 * The property: the model never refuses what the kernel builds, and where
 * it refuses a step, the kernel failed at that very step (of the tree, or
 * of the outside steps for an outside refusal).
 */
export function judge(problems: ModelProblem[], outsideStatus: string[], treeStatus: string[]): Judgement {
  const outside = kernelOutcome(outsideStatus);
  const tree = kernelOutcome(treeStatus);
  const disagreements: string[] = [];
  if (tree.ready && problems.length) disagreements.push('the model refused what the kernel built');
  for (const p of problems) {
    const n = Number(/step (\d+)/.exec(p.message)?.[1]);
    const failed = p.path.startsWith('/outside/') ? outside.failed : tree.failed;
    if (failed !== n)
      disagreements.push(
        `the model refused ${p.path.startsWith('/outside/') ? 'outside ' : ''}step ${n}, ` +
          `the kernel ${failed === undefined ? 'did not fail there' : `failed at step ${failed}`}`,
      );
  }
  const verdict: Verdict = tree.ready
    ? 'ready'
    : tree.failed !== undefined || outside.failed !== undefined
      ? 'failed'
      : 'neither';
  return { verdict, refused: problems.length > 0, disagreements };
}
