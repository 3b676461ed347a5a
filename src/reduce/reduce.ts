/**
 * The reduction loop: ddmin over a failing scenario's tasks, then its
 * mounts (each with the steps that act on it), then its single steps, then
 * the paths of its mkdir lists, keeping each candidate that fails the same way (same outcome, same
 * signature) and that validate accepts. Coarse first: an import's 21
 * mounts are some 100 steps, and dropping a mount with its remount and
 * set-group in one try costs one guest run where steps alone would need
 * several, most of them refused by the model.
 *
 * Smaller means fewer mounts left standing
 * (the ones CRIU sees), then fewer steps: a candidate that drops a scratch
 * mount's umount is longer to read, not shorter, and is not tried.
 *
 * Candidates the loader or the mount model refuses never reach a guest
 * and are not counted as tries; answers are remembered, so no candidate
 * runs twice.
 */
import type { LoadedScenario } from '../scenario/load.js';
import type { ScenarioResult } from '../results/result.js';
import { type Failure, failureOf, sameFailure } from '../results/signature.js';
import type { ScenarioShape, Unit } from './candidates.js';
import { ddmin, type Verdict } from './ddmin.js';

/** Runs candidates; the VM's is run/guest-pool.ts, tests give a fake. */
export interface Oracle {
  /** Candidates run at once. */
  readonly parallel: number;
  run(
    candidate: LoadedScenario,
    tryNumber: number,
  ): Promise<Pick<ScenarioResult, 'outcome' | 'reason' | 'differences' | 'error'>>;
}

export type ReducePhase = 'tasks' | 'mounts' | 'steps' | 'paths';

export interface ReduceProgress {
  phase: ReducePhase;
  /** Candidates run in a guest so far. */
  tries: number;
  /** Candidates the loader or the model refused (not run, not counted in tries). */
  refused: number;
  steps: number;
  mounts: number;
  /** Milliseconds left of the budget. */
  leftMs: number;
}

export interface ReduceOptions {
  shape: ScenarioShape;
  want: Failure;
  oracle: Oracle;
  seed?: number;
  budgetMs: number;
  now?: () => number;
  onProgress?: (p: ReduceProgress) => void;
}

export interface ReduceResult {
  /** The kept atoms and the candidate's text. */
  kept: ReadonlySet<number>;
  text: string;
  tries: number;
  refused: number;
  ms: number;
  /** False when the budget ran out before the last phase finished: smaller may exist. */
  complete: boolean;
  before: { steps: number; mounts: number };
  after: { steps: number; mounts: number };
  /** Tries per phase, in order. */
  phases: { phase: ReducePhase; tries: number; steps: number; mounts: number }[];
}

export async function reduceScenario(o: ReduceOptions): Promise<ReduceResult> {
  const now = o.now ?? Date.now;
  const start = now();
  const deadline = start + o.budgetMs;
  const { shape } = o;
  let kept: ReadonlySet<number> = new Set(shape.atoms.map((a) => a.id));
  let text = shape.render(kept);
  let tries = 0;
  let refused = 0;
  let complete = true;
  let phase: ReducePhase = 'tasks';
  const before = shape.size(kept);
  const phases: ReduceResult['phases'] = [];
  const progress = () =>
    o.onProgress?.({ phase, tries, refused, ...shape.size(kept), leftMs: Math.max(0, deadline - now()) });

  /** The verdict on an atom set: refused by the loader or the model, else what a guest says. */
  // Across phases: a later round meets candidates an earlier one answered.
  const answers = new Map<string, Promise<Verdict>>();
  const judge = (atoms: ReadonlySet<number>): Promise<Verdict> => {
    const key = shape.present(atoms).join(',');
    let v = answers.get(key);
    if (!v) {
      v = judgeOnce(atoms);
      answers.set(key, v);
    }
    return v;
  };
  const judgeOnce = async (atoms: ReadonlySet<number>): Promise<Verdict> => {
    if (shape.size(atoms).mounts > shape.size(kept).mounts) {
      refused++;
      return 'invalid';
    }
    const c = shape.check(atoms);
    if (!c) {
      refused++;
      return 'invalid';
    }
    const n = ++tries;
    const r = await o.oracle.run(c.loaded, n);
    const same = sameFailure(o.want, failureOf(r));
    progress();
    return same ? 'reproduces' : 'passes';
  };
  const batchTest = (sets: ReadonlySet<number>[]): Promise<Verdict[]> => Promise.all(sets.map((s) => judge(s)));
  // What ddmin chose (the first reproducing candidate in order), not whichever of a batch answered.
  const take = (atoms: ReadonlySet<number>) => {
    kept = atoms;
    text = shape.render(kept);
  };

  const overUnits = async (units: (k: ReadonlySet<number>) => Unit[]) => {
    const base = kept;
    const us = units(base);
    if (us.length === 0) return;
    const atomsWithout = (keptUnits: Unit[]) => {
      const dropped = new Set(us.filter((u) => !keptUnits.includes(u)).flatMap((u) => u.atoms));
      return new Set([...base].filter((a) => !dropped.has(a)));
    };
    // ddmin keeps at least one: none at all is tried first (a lone task that has nothing to do with it).
    if ((await judge(atomsWithout([]))) === 'reproduces') {
      take(atomsWithout([]));
      return;
    }
    if (us.length < 2) return;
    const r = await ddmin(us, {
      test: (cands) => batchTest(cands.map(atomsWithout)),
      batch: o.oracle.parallel,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      stop: () => now() >= deadline,
      onSmaller: (k) => take(atomsWithout(k)),
    });
    if (!r.complete) complete = false;
  };

  const runPhase = async (p: ReducePhase) => {
    phase = p;
    const t0 = tries;
    progress();
    if (p === 'tasks') await overUnits((k) => shape.taskUnits(k));
    else if (p === 'mounts') await overUnits((k) => shape.mountUnits(k));
    else {
      // The other kind's atoms stay as they are. So do signal and wait steps: they go with their task
      // (the tasks phase), since a wait dropped alone races its task (the parent's next step may run
      // first) and a candidate that reproduced once would not in a fresh guest (measured: 3 of 25).
      const kind = p === 'steps' ? 'step' : 'path';
      const sync = (a: number) => {
        const st = shape.atoms[a]!.step;
        return st.wait !== undefined || st.signal !== undefined;
      };
      const atoms = shape.present(kept, kind).filter((a) => !sync(a));
      const others = [...kept].filter((a) => shape.atoms[a]!.kind !== kind || sync(a));
      const r = await ddmin(atoms, {
        test: (cands) => batchTest(cands.map((c) => new Set([...others, ...c]))),
        batch: o.oracle.parallel,
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        stop: () => now() >= deadline,
        onSmaller: (k) => take(new Set([...others, ...k])),
      });
      if (!r.complete) complete = false;
    }
    phases.push({ phase: p, tries: tries - t0, ...shape.size(kept) });
  };
  // Mounts and steps again while steps shrink: dropping a set-group step can free a scratch mount
  // (its bind and its umount, two steps no single-step try removes) for the next mounts pass.
  const plan: ReducePhase[] = ['tasks', 'mounts', 'steps'];
  for (let round = 0; plan.length; round++) {
    const p = plan.shift()!;
    if (now() >= deadline) {
      complete = false;
      break;
    }
    const before = shape.present(kept).length;
    await runPhase(p);
    if (p === 'steps') {
      if (shape.present(kept).length < before && round < 8) plan.push('mounts', 'steps');
      else plan.push('paths');
    }
  }
  return {
    kept,
    text,
    tries,
    refused,
    ms: now() - start,
    complete,
    before,
    after: shape.size(kept),
    phases,
  };
}
