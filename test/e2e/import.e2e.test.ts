import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { prng } from '../../src/compare/gen.testutil.js';
import {
  genGuestScenario,
  roundTrip,
  startGuest,
  type GuestSession,
  type RoundTrip,
} from '../../src/import/guest-roundtrip.testutil.js';
import { removeScratch, scratchDir } from '../scratch.js';
import { mountlabQemus } from './helpers.js';

/**
 * The import round trip on a real kernel: the guest builds random
 * topologies (its own propagation makes the copies, slaves and stacks), each
 * is captured, imported, rebuilt from the imported scenario, captured again,
 * and the two must compare equal. One guest for all of them.
 * MOUNTLAB_IMPORT_SEED replays a run; MOUNTLAB_IMPORT_CASES sets how many.
 */
describe('@e2e import round trip in one VM', function () {
  this.timeout(15 * 60_000);
  after(removeScratch);

  it('random guest topologies, captured, imported and rebuilt, compare equal', async () => {
    const seed = Number(process.env.MOUNTLAB_IMPORT_SEED) || Date.now() % 1_000_000;
    const cases = Number(process.env.MOUNTLAB_IMPORT_CASES) || 20;
    const dir = scratchDir('import-e2e');
    const started = Date.now();
    const g: GuestSession = await startGuest(join(dir, 'run'), () => {});
    const boot = Date.now() - started;
    const results: RoundTrip[] = [];
    try {
      const r = prng(seed);
      for (let i = 0; i < cases; i++) {
        const name = `random-${seed}-${i + 1}`;
        results.push(await roundTrip(g, join(dir, 'scenarios'), name, genGuestScenario(r, name)));
      }
    } finally {
      await g.dispose();
    }
    const built = results.filter((x) => !x.unbuilt && !x.tooBig);
    const bad = built.filter((x) => x.error || !x.check?.equivalent);
    const explain = (x: RoundTrip) => {
      const why = x.error ?? [...x.check!.differences.map((d) => d.sentence), ...x.check!.leftovers].join('; ');
      return `${x.name}: ${why}\n--- original capture:\n${x.original}`;
    };
    const total = (k: 'mounts' | 'peerGroups' | 'slaves' | 'namespaces') =>
      results.reduce((s, x) => s + (x.counts?.[k] ?? 0), 0);
    const unbuilt = results.filter((x) => x.unbuilt).length;
    const tooBig = results.filter((x) => x.tooBig).length;
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const twoNamespaces = results.filter((x) => (x.counts?.namespaces ?? 0) > 1).length;
    const figures =
      `seed ${seed}: ${built.length} of ${cases} random scenarios built and importable ` +
      `(${unbuilt} stopped by their own propagation, ${tooBig} too big for one scenario), ` +
      `round trips in ${seconds} s (boot ${(boot / 1000).toFixed(1)} s): ` +
      `${total('mounts')} mounts, ${total('peerGroups')} peer groups, ${total('slaves')} slaves, ` +
      `${twoNamespaces} with two namespaces`;
    process.stderr.write(`      ${figures}\n`);
    assert.deepEqual(bad.map(explain), [], figures);
    // A generator whose scenarios mostly fail to build would test nothing.
    assert.ok(
      built.length >= cases * 0.75,
      `${figures}\n${results
        .filter((x) => x.unbuilt || x.tooBig)
        .map((x) => `${x.name}: ${x.unbuilt ?? x.tooBig}`)
        .join('\n')}`,
    );
    // The run must have met the shapes that matter, or it proved little.
    assert.ok(total('peerGroups') >= cases / 2 && total('slaves') >= cases / 4, figures);
    assert.deepEqual(mountlabQemus(), []);
  });
});
