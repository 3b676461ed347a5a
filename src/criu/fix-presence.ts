import { spawnSync } from 'node:child_process';

/**
 * Whether a git tree holds the fixes that scenarios name (`known-bug.fixed-by`).
 *
 * A version range cannot judge a developer's tree: v4.2 with the fix for
 * CRIU issue 2632 reverted still calls itself 4.2, and a branch from before
 * a release may carry a backport. History can: a fix is in the tree when
 * its commit is an ancestor of HEAD and no later commit reverts it (git's
 * own "This reverts commit <hash>" line; a revert of the revert counts
 * again). A commit the tree does not know is left out of the answer: the
 * version range then decides.
 */
export function fixesIn(dir: string, commits: readonly string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const c of new Set(commits)) {
    const full = git(dir, ['rev-parse', '--verify', '--quiet', `${c}^{commit}`]);
    if (full.status !== 0) continue;
    const hash = full.stdout.trim();
    if (git(dir, ['merge-base', '--is-ancestor', hash, 'HEAD']).status !== 0) {
      out[c] = false;
      continue;
    }
    const later = git(dir, ['log', '--format=%H%x00%B%x01', `${hash}..HEAD`])
      .stdout.split('\x01')
      .map((e) => e.replace(/^\n/, '').split('\x00'))
      .filter((p): p is [string, string] => p.length === 2 && p[0] !== '');
    out[c] = !reverted(hash, later);
  }
  return out;
}

/** Reverted by a later commit that is not itself reverted (git revert's message names the commit it reverts). */
function reverted(hash: string, later: Array<[string, string]>): boolean {
  return later.some(([h, body]) => body.includes(`This reverts commit ${hash}`) && !reverted(h, later));
}

function git(dir: string, args: string[]): { status: number; stdout: string } {
  const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return { status: r.status ?? 1, stdout: r.stdout ?? '' };
}
