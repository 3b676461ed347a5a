import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { parseCapture } from '../capture/capture-file.js';
import { compareCaptures, type Comparison } from './compare.js';
import {
  addOutside,
  addOverlay,
  addTies,
  cloneModel,
  genModel,
  mutations,
  pick,
  prng,
  randomNumbering,
  renderText,
  type GModel,
  type Mutation,
  type Rand,
} from './gen.testutil.js';
import { buildTopology } from './topology.js';

/** fast-check's gen() as a Rand, so models shrink when a property fails. */
const fromGen = (g: fc.GeneratorValue): Rand => ({ int: (lo, hi) => g(fc.integer, { min: lo, max: hi }) });

// MOUNTLAB_PROPERTY_RUNS raises the count for a soak run; 1000 keeps the file at a few seconds.
const RUNS = Math.max(1000, Number(process.env.MOUNTLAB_PROPERTY_RUNS) || 0);

function explain(c: Comparison, ...texts: string[]): string {
  const found = c.differences.map((d) => `  [${d.kind}] ${d.sentence}`).join('\n') || '  (no differences)';
  return `${found}\n${texts.join('\n----\n')}`;
}

/** Mutations come in families (reparent to one of several mounts...); pick the family first so each is tried often. */
const family = (kind: string) => kind.replace(/-(\d+|fresh).*$/, '');

function pickMutation(r: Rand, m: GModel): Mutation {
  const all = mutations(m);
  const families = [...new Set(all.map((x) => family(x.kind)))];
  const f = families[r.int(0, families.length - 1)]!;
  const inFamily = all.filter((x) => family(x.kind) === f);
  return inFamily[r.int(0, inFamily.length - 1)]!;
}

describe('compare: properties', function () {
  this.timeout(60_000);

  it(
    'says equivalent after renumbering mount ids, peer groups, anonymous minors, nsfs inodes, pids, namespaces ' +
      `and shuffling lines and tasks (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(fc.gen(), fc.integer(), fc.integer(), (g, s1, s2) => {
          const model = genModel(fromGen(g));
          const r1 = prng(s1);
          const r2 = prng(s2);
          const before = renderText(model, randomNumbering(r1, model), r1);
          const after = renderText(model, randomNumbering(r2, model), r2);
          const c = compareCaptures(parseCapture(before), parseCapture(after));
          assert.ok(c.equivalent, explain(c, before, after));
        }),
        { numRuns: RUNS },
      );
    },
  );

  it(`fails on any single mutation and names the mutated mount or task (${RUNS} runs)`, () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.gen(), fc.integer(), fc.integer(), (g, s1, s2) => {
        const r = fromGen(g);
        const model = genModel(r);
        const mutation = pickMutation(r, model);
        const mutated = cloneModel(model);
        mutation.apply(mutated);
        const r1 = prng(s1);
        const r2 = prng(s2);
        const numBefore = randomNumbering(r1, model);
        const before = renderText(model, numBefore, r1);
        const after = renderText(mutated, randomNumbering(r2, mutated), r2);
        const beforeCapture = parseCapture(before);
        const c = compareCaptures(beforeCapture, parseCapture(after));
        const why = `mutation ${mutation.kind} of ${JSON.stringify(mutation.target)}\n${explain(c, before, after)}`;
        assert.ok(!c.equivalent, why);
        const t = mutation.target;
        if ('mount' in t) {
          const id = numBefore.mountId(t.mount);
          const label = buildTopology(beforeCapture).mounts.find((m) => m.entry.mountId === id)!.label;
          assert.ok(
            c.differences.some((d) => d.mount === label || d.mounts?.includes(label)),
            `no difference names ${label}; ${why}`,
          );
        } else {
          assert.ok(
            c.differences.some((d) => d.task === t.task || d.tasks?.includes(t.task)),
            `no difference names task ${t.task}; ${why}`,
          );
        }
        seen.set(family(mutation.kind), (seen.get(family(mutation.kind)) ?? 0) + 1);
      }),
      { numRuns: RUNS },
    );
    // The property is only as strong as the mutations it really tried.
    const expected = [
      'drop-mount',
      'reparent-to',
      'root',
      'mountpoint',
      'fstype',
      'source',
      'mount-option',
      'rw-ro',
      'super-option',
      'unbindable',
      'master-add',
      'master-remove',
      'master-change',
      'sb-split',
      'sb-merge',
      'peers-split',
      'peers-merge',
      'task-drop',
      'task-move',
      'task-unshare',
    ];
    for (const f of expected)
      assert.ok(
        (seen.get(f) ?? 0) >= 5,
        `mutation family ${f} tried ${seen.get(f) ?? 0} times: ${JSON.stringify([...seen])}`,
      );
  });

  it(`never throws on unrelated pairs, is deterministic, and finds a capture equal to itself (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (s1, s2) => {
        const r1 = prng(s1);
        const r2 = prng(s2);
        const m1 = genModel(r1);
        const m2 = genModel(r2);
        const a = parseCapture(renderText(m1, randomNumbering(r1, m1), r1));
        const b = parseCapture(renderText(m2, randomNumbering(r2, m2), r2));
        const x = compareCaptures(a, b);
        assert.deepEqual(compareCaptures(a, b), x);
        assert.ok(x.differences.every((d) => d.sentence.length > 0 && !d.sentence.includes('\n')));
        assert.equal(compareCaptures(a, a).equivalent, true);
      }),
      { numRuns: RUNS },
    );
  });

  // Issue 16: classes of input the generators above did not make.

  it(
    '16.1: random ties on one mountpoint (differing only in peer group, master or superblock), in any order, ' +
      `compare equal (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(fc.gen(), fc.integer(), fc.integer(), (g, s1, s2) => {
          const r = fromGen(g);
          const model = genModel(r);
          addTies(r, model);
          const r1 = prng(s1);
          const r2 = prng(s2);
          const before = renderText(model, randomNumbering(r1, model), r1);
          const after = renderText(model, randomNumbering(r2, model), r2);
          const c = compareCaptures(parseCapture(before), parseCapture(after));
          assert.ok(c.equivalent, explain(c, before, after));
        }),
        { numRuns: RUNS },
      );
    },
  );

  it(
    '16.2: with @outside sections, renumbering is equal and moving one mount to another outside master differs, ' +
      `naming it (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(fc.gen(), fc.integer(), fc.integer(), (g, s1, s2) => {
          const r = fromGen(g);
          const model = genModel(r);
          addOutside(r, model);
          const carried = new Set(model.mounts.flatMap((x) => (x.shared === undefined ? [] : [x.shared])));
          const slaves = model.mounts.filter((x) => x.master !== undefined && !carried.has(x.master));
          const x = pick(r, slaves);
          const moved = cloneModel(model);
          const y = moved.mounts.find((m) => m.uid === x.uid)!;
          // Another outside group: one another mount uses, or a new one (the section gets its carrier).
          const others = slaves.map((m) => m.master!).filter((gid) => gid !== x.master && gid !== x.propagateFrom);
          y.master = others.length && r.int(0, 1) ? pick(r, others) : model.groups + 5;
          const r1 = prng(s1);
          const r2 = prng(s2);
          const num1 = randomNumbering(r1, model);
          const before = renderText(model, num1, r1);
          const same = compareCaptures(
            parseCapture(before),
            parseCapture(renderText(model, randomNumbering(r2, model), r2)),
          );
          assert.ok(same.equivalent, explain(same, before));
          const after = renderText(moved, randomNumbering(r2, moved), r2);
          const beforeCapture = parseCapture(before);
          const c = compareCaptures(beforeCapture, parseCapture(after));
          assert.ok(!c.equivalent, explain(c, before, after));
          const label = buildTopology(beforeCapture).mounts.find((m) => m.entry.mountId === num1.mountId(x.uid))!.label;
          assert.ok(
            c.differences.some((d) => d.mounts?.includes(label)),
            `no difference names ${label}\n${explain(c, before, after)}`,
          );
        }),
        { numRuns: RUNS },
      );
    },
  );

  it(
    '16.3: a propagate_from that named the same outside group as a master names another one: ' +
      `differs (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(fc.gen(), fc.integer(), fc.integer(), (g, s1, s2) => {
          const r = fromGen(g);
          const model = genModel(r);
          // Two mounts: one a slave of outside group X, one receiving from X through another master.
          const X = model.groups + 2;
          if (model.mounts.length < 2) return;
          const a = pick(r, model.mounts);
          const b = pick(
            r,
            model.mounts.filter((m) => m !== a),
          );
          for (const m of [a, b]) {
            delete m.shared;
            delete m.master;
            delete m.propagateFrom;
          }
          a.master = X;
          b.master = model.groups + 3;
          b.propagateFrom = X;
          const moved = cloneModel(model);
          moved.mounts.find((m) => m.uid === b.uid)!.propagateFrom = model.groups + 4;
          const r1 = prng(s1);
          const r2 = prng(s2);
          const before = renderText(model, randomNumbering(r1, model), r1);
          const same = compareCaptures(
            parseCapture(before),
            parseCapture(renderText(model, randomNumbering(r2, model), r2)),
          );
          assert.ok(same.equivalent, explain(same, before));
          const after = renderText(moved, randomNumbering(r2, moved), r2);
          const c = compareCaptures(parseCapture(before), parseCapture(after));
          assert.ok(!c.equivalent, explain(c, before, after));
        }),
        { numRuns: RUNS },
      );
    },
  );

  it(
    '16.4: swapping two overlay lower layers differs; the same layers renumbered and shuffled do not ' +
      `(${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(fc.gen(), fc.integer(), fc.integer(), (g, s1, s2) => {
          const r = fromGen(g);
          const model = genModel(r);
          const o = addOverlay(r, model);
          const layers = o.superOptions.filter((x) => x.startsWith('lowerdir+='));
          const i = r.int(0, layers.length - 2);
          const j = r.int(i + 1, layers.length - 1);
          const swapped = cloneModel(model);
          for (const m of swapped.mounts.filter((x) => x.sb === o.sb)) {
            const at = (k: number) => m.superOptions.indexOf(layers[k]!);
            const [pi, pj] = [at(i), at(j)];
            [m.superOptions[pi], m.superOptions[pj]] = [m.superOptions[pj]!, m.superOptions[pi]!];
          }
          const r1 = prng(s1);
          const r2 = prng(s2);
          const before = renderText(model, randomNumbering(r1, model), r1);
          const same = compareCaptures(
            parseCapture(before),
            parseCapture(renderText(model, randomNumbering(r2, model), r2)),
          );
          assert.ok(same.equivalent, explain(same, before));
          const after = renderText(swapped, randomNumbering(r2, swapped), r2);
          const c = compareCaptures(parseCapture(before), parseCapture(after));
          assert.ok(
            c.differences.some((d) => d.kind === 'super-options-changed' && /layer order/.test(d.sentence)),
            explain(c, before, after),
          );
        }),
        { numRuns: RUNS },
      );
    },
  );
});
