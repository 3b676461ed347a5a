import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { formatCapture, type Capture } from '../capture/capture-file.js';
import { formatMountinfoLine } from '../capture/mountinfo.js';
import { prng, type Rand } from '../compare/gen.testutil.js';
import type { Scenario, Step } from '../scenario/scenario.generated.js';
import { genTable, randomStyle, renderPaste, type GTable } from './gen-paste.testutil.js';
import { importText } from './import-command.js';
import { parsePaste } from './parse-paste.js';
import { MountModel, SimError } from '../plan/mount-model.js';
import { checkImport } from './verify.js';

const fromGen = (g: fc.GeneratorValue): Rand => ({ int: (lo, hi) => g(fc.integer, { min: lo, max: hi }) });

// MOUNTLAB_PROPERTY_RUNS raises the count for a soak run.
const RUNS = Math.max(300, Number(process.env.MOUNTLAB_PROPERTY_RUNS) || 0);

const tableText = (t: GTable) =>
  t.tasks.map((x) => `${x.name}:\n${x.mounts.map(formatMountinfoLine).join('\n')}`).join('\n');

/** Every line of every task, as the kernel would print it, sorted: what a paste must read back to. */
const canonical = (tasks: { mounts: Parameters<typeof formatMountinfoLine>[0][] }[]) =>
  tasks.map((t) => t.mounts.map(formatMountinfoLine).sort());

describe('import: properties', function () {
  this.timeout(120_000);

  it(`reads back any table through quoting, wrapping, headers and prose (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.gen(), fc.integer(), (g, seed) => {
        const r = fromGen(g);
        const table = genTable(r);
        const style = randomStyle(r, table.tasks.length);
        const text = renderPaste(table, style, prng(seed));
        const paste = parsePaste(text, 'paste.txt');
        assert.deepEqual(canonical(paste.tasks), canonical(table.tasks), `style ${JSON.stringify(style)}\n${text}`);
        if (style.headers !== 'none')
          assert.deepEqual(
            paste.tasks.map((t) => t.name),
            table.tasks.map((t) => t.name),
          );
      }),
      { numRuns: RUNS },
    );
  });

  it(`rebuilds any table: import, run the scenario in the kernel model, capture, compare equal (${RUNS} runs)`, () => {
    const seen = { namespaces: 0, groups: 0, external: 0, covered: 0, standIns: 0 };
    fc.assert(
      fc.property(fc.gen(), fc.integer(), (g, seed) => {
        const r = fromGen(g);
        const table = genTable(r);
        const text = renderPaste(table, randomStyle(r, table.tasks.length), prng(seed));
        const { plan, yaml, scenario } = importText(text, 'paste.txt', {});
        let built: Capture;
        try {
          built = MountModel.runScenario(scenario).capture;
        } catch (e) {
          if (e instanceof SimError) assert.fail(`${e.message}\n${tableText(table)}\n${yaml}`);
          throw e;
        }
        const check = checkImport(plan, built);
        const found = [...check.differences.map((d) => d.sentence), ...check.leftovers].join('\n');
        assert.ok(check.equivalent, `${found}\n${tableText(table)}\n${formatCapture(built)}\n${yaml}`);
        seen.namespaces += plan.counts.namespaces > 1 ? 1 : 0;
        seen.groups += plan.counts.peerGroups > 0 ? 1 : 0;
        seen.external += plan.counts.external > 0 ? 1 : 0;
        seen.covered += yaml.includes('/proc/self/fd/') ? 1 : 0;
        seen.standIns += plan.counts.standIns > 0 ? 1 : 0;
      }),
      { numRuns: RUNS },
    );
    // The property is only as strong as the shapes it really met.
    for (const [k, n] of Object.entries(seen))
      assert.ok(n >= RUNS / 20, `only ${n} of ${RUNS} tables had ${k}: ${JSON.stringify(seen)}`);
  });

  it(`needs every step it emits: leaving any one out breaks the build or the comparison (${RUNS} runs)`, () => {
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(fc.gen(), fc.integer(), (g, seed) => {
        const r = fromGen(g);
        const table = genTable(r);
        const { plan, yaml, scenario } = importText(
          renderPaste(table, randomStyle(r, table.tasks.length), prng(seed)),
          'paste.txt',
          {},
        );
        // A kind first, then a step of it: uniform over steps, the rare kinds (make-slave) were left out so
        // seldom that the coverage check below failed by chance about one run in twenty.
        const all = stepPaths(scenario);
        const byKind = new Map<string, typeof all>();
        for (const p of all) {
          const k = Object.keys(p.step)[0]!;
          byKind.set(k, [...(byKind.get(k) ?? []), p]);
        }
        const ofKind = [...byKind.values()][r.int(0, byKind.size - 1)]!;
        const victim = ofKind[r.int(0, ofKind.length - 1)]!;
        const mutated = withoutStep(scenario, victim);
        let caught: string;
        try {
          const c = checkImport(plan, MountModel.runScenario(mutated).capture);
          caught = c.equivalent ? '' : 'differs';
        } catch (e) {
          if (!(e instanceof SimError)) throw e;
          caught = 'fails';
        }
        assert.ok(
          caught,
          `leaving out ${victim.where} step ${victim.index + 1} (${JSON.stringify(victim.step)}) ` +
            `changed nothing\n${yaml}`,
        );
        const kind = Object.keys(victim.step)[0]!;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }),
      { numRuns: RUNS },
    );
    for (const k of ['mkdir', 'mount', 'bind', 'set-group', 'make-shared', 'make-slave', 'umount', 'remount']) {
      assert.ok(
        (kinds.get(k) ?? 0) >= 3,
        `${k} was left out only ${kinds.get(k) ?? 0} times: ${JSON.stringify([...kinds])}`,
      );
    }
  });
});

interface StepPath {
  where: 'outside' | 'steps';
  /** Index in the top-level list, then inside a spawn when `inner` is set. */
  index: number;
  inner?: number;
  step: Step;
}

function stepPaths(s: Scenario): StepPath[] {
  const out: StepPath[] = [];
  for (const [index, step] of (s.outside ?? []).entries()) out.push({ where: 'outside', index, step });
  for (const [index, step] of s.steps.entries()) {
    out.push({ where: 'steps', index, step });
    for (const [inner, innerStep] of (step.spawn?.steps ?? []).entries()) {
      out.push({ where: 'steps', index, inner, step: innerStep });
    }
  }
  return out;
}

function withoutStep(s: Scenario, p: StepPath): Scenario {
  const copy = structuredClone(s);
  if (p.where === 'outside') copy.outside!.splice(p.index, 1);
  else if (p.inner === undefined) copy.steps.splice(p.index, 1);
  else copy.steps[p.index]!.spawn!.steps.splice(p.inner, 1);
  return copy;
}
