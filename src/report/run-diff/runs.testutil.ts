import type { Outcome } from '../../results/outcome.js';
import { diffRuns } from './classify.js';
import type { LoadedRun, ResultLike } from './loaded-run.js';
import type { DiffInput } from './phrases.js';

export const OK = 'restored topology is identical up to renumbering';

/** A result as a diff reads it; a pass says the usual, anything else "<outcome> reason". */
export function res(
  scenario: string,
  outcome: Outcome,
  reason = outcome === 'pass' ? OK : `${outcome} reason`,
  extra: Partial<ResultLike> = {},
): ResultLike {
  return { scenario, cell: 'vm-debian-6.12', outcome, reason, differences: [], ...extra };
}

/** A complete run of these results on these cells (one vm-debian-6.12 by default). */
export function run(
  results: ResultLike[],
  cells: { id: string; kernel?: string; criu?: string }[] = [{ id: 'vm-debian-6.12' }],
  runId = 'r',
): LoadedRun {
  return {
    runId,
    complete: true,
    cells: cells.map((c) => ({
      id: c.id,
      facts: {
        target: 'vm',
        kernel: c.kernel ?? '6.12.107+deb13-amd64',
        criu: c.criu ?? '4.1.1',
        utilLinux: '2.41.5',
        readyMs: 1,
      },
    })),
    results,
  };
}

/** Two runs whose diff has a regression (with an error and its excerpt), a fix and a changed failure, and a note. */
export function renderedDiff(): { base: LoadedRun; next: LoadedRun; x: DiffInput } {
  const base = run(
    [
      res('breaks', 'pass'),
      res('gets-fixed', 'fail', '/a lost its master'),
      res('reason-moves', 'error', 'criu dump failed (exit 1)'),
      res('same', 'pass'),
    ],
    [{ id: 'vm-debian-6.12', kernel: '6.12.107+deb13-amd64', criu: '3.17.1' }],
    'base-run',
  );
  const many = Array.from({ length: 7 }, (_, i) => ({
    sentence:
      `/w/m${i} was a slave of the peer group of /w (master:1); ` +
      'after restore it is private, which loses every mount propagated from /w',
  }));
  const next = run(
    [
      res(
        'breaks',
        'error',
        'criu restore failed (exit 1): Error (criu/mount.c:1992): mnt: A few mount points | cannot be mounted',
        {
          error: {
            phase: 'restore',
            message: 'criu restore failed (exit 1)',
            excerpt:
              "\x1b[31mError (criu/mount.c:1992): mnt: A few mount points can't be mounted\x1b[0m\n" +
              `${'x'.repeat(150)}\n${'more\n'.repeat(20)}`,
          },
        },
      ),
      res('gets-fixed', 'pass'),
      res('reason-moves', 'fail', '/w/m0 lost its master', { differences: many }),
      res('same', 'pass'),
    ],
    [{ id: 'vm-debian-6.12', kernel: '6.12.107+deb13-amd64', criu: '4.1.1' }],
    'new-run',
  );
  const x = {
    baseline: { file: 'a/results.json', run: base },
    new: {
      file: 'reports/new-run/results.json',
      note: 'reports is a reports directory: took the newest of 2 runs, new-run',
      run: next,
    },
    diff: diffRuns(base, next),
  };
  return { base, next, x };
}
