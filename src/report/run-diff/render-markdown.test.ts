import { strict as assert } from 'node:assert';
import { diffRuns } from './classify.js';
import type { ResultLike } from './loaded-run.js';
import { renderMarkdown, wrap } from './render-markdown.js';
import { OK, renderedDiff, res, run } from './runs.testutil.js';

describe('run-diff: Markdown', () => {
  const { x } = renderedDiff();

  it('Markdown: header with both runs, a table of changes, a section per regression and changed failure', () => {
    const md = renderMarkdown(x);
    const lines = md.split('\n');
    assert.equal(lines[0], '## mountlab diff-runs: 1 regression, 1 fixed, 1 still failing, changed, 1 unchanged');
    assert.ok(lines.includes('| baseline | vm-debian-6.12 | 6.12.107+deb13-amd64 | 3.17.1 | 2.41.5 | - |'), md);
    assert.ok(lines.includes('| new | vm-debian-6.12 | 6.12.107+deb13-amd64 | 4.1.1 | 2.41.5 | - |'), md);
    assert.ok(lines.includes('- New: reports is a reports directory: took the newest of 2 runs, new-run'), md);
    // One cell compared with itself: no cell column.
    assert.ok(lines.includes('| change | scenario | baseline | new | why |'), md);
    assert.ok(
      lines.includes(
        '| regression | breaks | pass | error | criu restore failed (exit 1): Error (criu/mount.c:1992):... |',
      ),
      md,
    );
    assert.ok(lines.includes('| fixed | gets-fixed | fail | pass | was: /a lost its master |'), md);
    const sections = lines.filter((l) => l.startsWith('### '));
    assert.deepEqual(sections, [
      '### regression: breaks (vm-debian-6.12), pass -> error',
      '### still failing, changed: reason-moves (vm-debian-6.12), error -> fail',
    ]);
    assert.ok(lines.includes('First 5 of 7 differences:'), md);
    assert.equal(lines.filter((l) => l.startsWith('- /w/m')).length, 5);
    assert.ok(lines.includes('Error in restore: criu restore failed (exit 1)'), md);
    assert.ok(lines.includes('[10 more lines]'), md);
    assert.doesNotMatch(md, /\x1b/, 'no ANSI');
    assert.doesNotMatch(md, /[^\x00-\x7f]/, 'plain ASCII');
    assert.ok(lines.includes(`Baseline: ${OK}`), md);
    assert.ok(
      lines.includes(
        'New: criu restore failed (exit 1): Error (criu/mount.c:1992): mnt: A few mount points | cannot be',
      ),
      md,
    );
    assert.ok(lines.includes('  mounted'), md);
    for (const l of lines) assert.ok(l.length <= 100, `line of ${l.length}: ${l}`);
  });

  it('Markdown: a cell column in a matrix, and a short line when nothing changed', () => {
    const on = (cell: string, r: ResultLike) => ({ ...r, cell });
    const a = run([on('c1', res('s', 'pass')), on('c2', res('s', 'pass'))], [{ id: 'c1' }, { id: 'c2' }]);
    const b = run([on('c1', res('s', 'pass')), on('c2', res('s', 'fail', 'x | y'))], [{ id: 'c1' }, { id: 'c2' }]);
    const md = renderMarkdown({ baseline: { file: 'a', run: a }, new: { file: 'b', run: b }, diff: diffRuns(a, b) });
    assert.ok(md.includes('| regression | s | c2 | pass | fail | x \\| y |'), md);
    const none = renderMarkdown({ baseline: { file: 'a', run: a }, new: { file: 'a', run: a }, diff: diffRuns(a, a) });
    assert.match(none, /\nNo verdict changed \(2 unchanged\)\.\n/);
  });

  it('wrap keeps words whole and indents the continuation', () => {
    assert.deepEqual(
      wrap('a '.repeat(60).trim(), '  ', '- ').map((l) => l.length),
      [99, 23],
    );
    assert.deepEqual(wrap('short', '  ', 'New: '), ['New: short']);
    assert.deepEqual(wrap('x'.repeat(120), '  ', '- '), [`- ${'x'.repeat(120)}`]);
  });
});
