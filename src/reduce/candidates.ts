/**
 * A scenario as what reduce can take away: its steps (atoms: the outside
 * steps, init's steps and each spawned task's, nested), and groups of them
 * that only make sense together: a mount with the steps that act on it
 * afterwards (its remounts, propagation changes, set-group, umount), and a
 * task with the waits for its signals. A candidate is the scenario with a
 * set of atoms kept, rendered through the YAML Document so that the
 * comments of the steps that stay (an import's "# 44 master:1: ..." lines)
 * stay with them.
 */
import { type Document, isSeq, parseDocument } from 'yaml';
import { BadInputError } from '../errors.js';
import { checkModel } from '../plan/model-check.js';
import { checkProgramSize } from '../plan/program-size.js';
import { stepLabel } from '../plan/program.js';
import { parseScenario, type LoadedScenario } from '../scenario/load.js';
import type { Scenario, Step } from '../scenario/scenario.generated.js';

export interface Atom {
  id: number;
  /** A step, or one path of a step's list (mkdir: [/a, /b]), which the last phase takes away one by one. */
  kind: 'step' | 'path';
  /** Where it is in the document: ['steps', 3] or ['steps', 3, 'spawn', 'steps', 0] or ['outside', 1]. */
  path: (string | number)[];
  /** 'outside', 'init' or the spawned task's name. */
  task: string;
  step: Step;
  label: string;
  /** The atom of the spawn step it is nested in, if any. */
  parent?: number;
}

export interface Unit {
  kind: 'mount' | 'task';
  /** "bind /pasted/run" or "task child". */
  label: string;
  /** Its atoms, the first being the step that made the mount or spawned the task. */
  atoms: number[];
  /** A mount that the scenario unmounts again (a scratch source): not one CRIU sees. */
  unmounted?: boolean;
}

const pathOf = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v && typeof v === 'object' && 'path' in v ? String(v.path) : undefined;

/** The mountpoint a step makes a mount on, if it makes one. */
function madeAt(s: Step): string | undefined {
  return s.mount?.target ?? s.bind?.target ?? s.rbind?.target ?? s['open-tree']?.target;
}

/** The mountpoint whose top mount a step changes or removes, if any. */
function actsOn(s: Step): string | undefined {
  return (
    s.remount?.path ??
    pathOf(s['make-shared']) ??
    pathOf(s['make-slave']) ??
    pathOf(s['make-private']) ??
    pathOf(s['make-unbindable']) ??
    s['set-group']?.to ??
    pathOf(s.umount)
  );
}

export class ScenarioShape {
  readonly atoms: Atom[] = [];
  private readonly doc: Document.Parsed;

  constructor(
    readonly text: string,
    readonly file: string,
    scenario: Scenario,
  ) {
    this.doc = parseDocument(text);
    const walk = (steps: Step[], base: (string | number)[], task: string, parent?: number) => {
      steps.forEach((step, i) => {
        const id = this.atoms.length;
        const label = `${task === 'init' ? '' : `${task}: `}${stepLabel(step)}`;
        this.atoms.push({
          id,
          kind: 'step',
          path: [...base, i],
          task,
          step,
          label,
          ...(parent !== undefined ? { parent } : {}),
        });
        if (step.spawn) walk(step.spawn.steps, [...base, i, 'spawn', 'steps'], step.spawn.name, id);
        if (Array.isArray(step.mkdir) && step.mkdir.length > 1)
          step.mkdir.forEach((p, j) => {
            const pathPlace = [...base, i, 'mkdir', j];
            this.atoms.push({
              id: this.atoms.length,
              kind: 'path',
              path: pathPlace,
              task,
              step,
              label: `mkdir ${p}`,
              parent: id,
            });
          });
      });
    };
    walk(scenario.outside ?? [], ['outside'], 'outside');
    walk(scenario.steps, ['steps'], 'init');
  }

  static load(loaded: LoadedScenario): ScenarioShape {
    return new ScenarioShape(loaded.text, loaded.file, loaded.scenario);
  }

  /** Atoms that are there when `kept` are: an atom goes with the spawn it is nested in, a path with its step. */
  present(kept: ReadonlySet<number>, kind?: Atom['kind']): number[] {
    const there = (a: Atom): boolean => kept.has(a.id) && (a.parent === undefined || there(this.atoms[a.parent]!));
    return this.atoms.filter((a) => (kind === undefined || a.kind === kind) && there(a)).map((a) => a.id);
  }

  /**
   * The mounts among `kept`: each mount-making step with the later steps
   * that act on the same mountpoint while it is the top mount there (a
   * stack per mountpoint: an umount uncovers the one below).
   */
  mountUnits(kept: ReadonlySet<number>): Unit[] {
    const units: Unit[] = [];
    const top = new Map<string, Unit[]>();
    for (const id of this.present(kept, 'step')) {
      const s = this.atoms[id]!.step;
      const at = madeAt(s);
      if (at !== undefined) {
        const u: Unit = { kind: 'mount', label: this.atoms[id]!.label, atoms: [id] };
        units.push(u);
        top.set(at, [...(top.get(at) ?? []), u]);
        continue;
      }
      const on = actsOn(s);
      const stack = on !== undefined ? top.get(on) : undefined;
      const u = stack?.at(-1);
      if (!u) continue;
      u.atoms.push(id);
      if (s.umount !== undefined) {
        u.unmounted = true;
        stack!.pop();
      }
    }
    return units;
  }

  /** The spawned tasks among `kept`: each spawn, its steps, and the waits elsewhere for what only it signals. */
  taskUnits(kept: ReadonlySet<number>): Unit[] {
    const present = this.present(kept, 'step');
    const within = (a: Atom, spawn: number): boolean =>
      a.parent === spawn || (a.parent !== undefined && within(this.atoms[a.parent]!, spawn));
    const units: Unit[] = [];
    for (const id of present) {
      const a = this.atoms[id]!;
      if (!a.step.spawn) continue;
      const inside = present.filter((x) => within(this.atoms[x]!, id));
      const signals = new Set(inside.flatMap((x) => this.atoms[x]!.step.signal ?? []));
      const signalledElsewhere = new Set(
        present.filter((x) => x !== id && !inside.includes(x)).flatMap((x) => this.atoms[x]!.step.signal ?? []),
      );
      const waits = present.filter((x) => {
        const w = this.atoms[x]!.step.wait;
        return !inside.includes(x) && w !== undefined && signals.has(w) && !signalledElsewhere.has(w);
      });
      units.push({ kind: 'task', label: `task ${a.step.spawn.name}`, atoms: [id, ...inside, ...waits] });
    }
    return units;
  }

  /** Mounts the scenario leaves standing (those CRIU sees), and steps, among `kept`. */
  size(kept: ReadonlySet<number>): { steps: number; mounts: number } {
    return {
      steps: this.present(kept, 'step').length,
      mounts: this.mountUnits(kept).filter((u) => !u.unmounted).length,
    };
  }

  /** The scenario with only `kept` atoms, comments of the kept steps and of the file kept. */
  render(kept: ReadonlySet<number>, header?: string): string {
    const doc = this.doc.clone();
    const gone = this.atoms.filter((a) => !kept.has(a.id)).map((a) => a.path);
    // Deepest and last first, so the indexes of what is still to delete hold.
    gone.sort(comparePathsDescending);
    for (const p of gone) if (doc.hasIn(p)) doc.deleteIn(p);
    const outside = doc.get('outside', true);
    if (isSeq(outside) && outside.items.length === 0) doc.delete('outside');
    if (header !== undefined) doc.commentBefore = header + (doc.commentBefore ? `\n${doc.commentBefore}` : '');
    return doc.toString({ lineWidth: 100 });
  }

  /** The candidate loaded as validate loads a file; undefined when the loader or the model refuses it. */
  check(kept: ReadonlySet<number>): { text: string; loaded: LoadedScenario } | undefined {
    const text = this.render(kept);
    try {
      const loaded = parseScenario(text, this.file);
      checkProgramSize(loaded);
      checkModel(loaded);
      return { text, loaded };
    } catch (e) {
      if (e instanceof BadInputError) return undefined;
      throw e;
    }
  }
}

function comparePathsDescending(a: (string | number)[], b: (string | number)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return y - x;
    return String(y).localeCompare(String(x));
  }
  return b.length - a.length;
}
