import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../src/paths.js';
import { parseCapture } from '../src/capture/capture-file.js';
import { compareCaptures } from '../src/compare/compare.js';

/**
 * Captures taken before a real `criu dump` and after the real `criu
 * restore` (the VM target, trixie's kernel and criu 4.1.1). Restore
 * renumbered mount ids and peer groups and reordered lines; the comparator
 * must see no difference, and must see one once the after side is damaged.
 */
describe('real CRIU round-trip captures', () => {
  const dir = assetPath('test', 'fixtures', 'captures');
  const pairs = readdirSync(dir)
    .filter((f) => f.endsWith('.before.capture'))
    .map((f) => f.replace(/\.before\.capture$/, ''));

  it('has fixtures to check', () => assert.ok(pairs.length >= 2));

  for (const name of pairs) {
    const before = readFileSync(join(dir, `${name}.before.capture`), 'latin1');
    const after = readFileSync(join(dir, `${name}.after.capture`), 'latin1');

    it(`${name}: restored topology compares equal`, () => {
      const c = compareCaptures(parseCapture(before, 'before'), parseCapture(after, 'after'));
      assert.deepEqual(
        c.differences.map((d) => d.sentence),
        [],
      );
      assert.equal(c.equivalent, true);
      assert.notEqual(before, after, 'the fixture should show renumbering, not identical text');
    });

    it(`${name}: dropping the last mount of the restored side is caught`, () => {
      const lines = after.trimEnd().split('\n');
      const last = lines
        .map((l, i) => [l, i] as const)
        .filter(([l]) => /^\d/.test(l))
        .pop()!;
      lines.splice(last[1], 1);
      const c = compareCaptures(parseCapture(before, 'before'), parseCapture(`${lines.join('\n')}\n`, 'after'));
      assert.equal(c.equivalent, false);
    });
  }
});
