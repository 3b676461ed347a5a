import { strict as assert } from 'node:assert';
import { diffRuns } from './classify.js';
import { renderText } from './render-text.js';
import { OK, renderedDiff, res, run } from './runs.testutil.js';

describe('run-diff: text', () => {
  const { base, next, x } = renderedDiff();

  it('text: one line per change, a was: line where the old reason matters, a summary last', () => {
    const lines = renderText(x).trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /^baseline: a\/results\.json \(run base-run; vm-debian-6\.12: kernel 6\.12\.107\+deb13-amd64, criu 3\.17\.1\)$/,
    );
    assert.match(lines[1]!, /^new: {6}reports\/new-run\/results\.json \(run new-run; .*criu 4\.1\.1\)$/);
    assert.equal(lines[2], 'note: new: reports is a reports directory: took the newest of 2 runs, new-run');
    assert.deepEqual(lines.slice(4), [
      'REGRESSION breaks (vm-debian-6.12): pass → error: criu restore failed (exit 1): ' +
        'Error (criu/mount.c:1992): mnt: A few mount points | cannot be mounted',
      'FIXED gets-fixed (vm-debian-6.12): fail → pass (was: /a lost its master)',
      'CHANGED reason-moves (vm-debian-6.12): error → fail: /w/m0 lost its master',
      '    was: criu dump failed (exit 1)',
      '1 regression, 1 fixed, 1 still failing, changed, 1 unchanged',
    ]);
  });

  it('text: says so when nothing changed, and which cells were compared by scenario', () => {
    const old = run([res('s', 'pass', OK, { cell: 'vm-debian-6.1' })], [{ id: 'vm-debian-6.1' }]);
    const t = renderText({
      baseline: { file: 'a', run: old },
      new: { file: 'b', run: next },
      diff: diffRuns(old, next),
    });
    assert.match(
      t,
      /^note: one cell each: compared vm-debian-6\.1 \(baseline\) with vm-debian-6\.12 \(new\), by scenario$/m,
    );
    // Paired by scenario, the lines do not repeat the cell.
    assert.match(t, /^ONLY-IN-NEW breaks: error: /m);
    const same = renderText({
      baseline: { file: 'a', run: base },
      new: { file: 'a', run: base },
      diff: diffRuns(base, base),
    });
    assert.match(same, /\n\nno verdict changed\n4 unchanged\n$/);
  });
});
