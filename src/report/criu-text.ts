import type { TargetFacts } from '../results/result.js';

/**
 * A cell's criu in one phrase for reports: the version the guest reported
 * and, for a user's build, what it was built from, by commit, so a reply
 * to a CRIU patch names the builds compared ("4.2 (git c88aa2a9e12f,
 * v4.2-1-gc88aa2a9e, dirty)"). Paths stay in results.json.
 */
export function criuText(f: Partial<Pick<TargetFacts, 'criu' | 'criuGitId' | 'criuBuild'>>): string {
  const version = f.criu ?? '?';
  const b = f.criuBuild;
  if (!b) return f.criuGitId ? `${version} (${f.criuGitId})` : version;
  if (b.kind === 'git') {
    const dirty = b.dirty && !b.describe?.endsWith('-dirty') ? ', dirty' : '';
    return `${version} (git ${(b.commit ?? '?').slice(0, 12)}, ${b.describe ?? '?'}${dirty})`;
  }
  if (b.kind === 'tarball') return `${version} (tarball ${b.describe ?? '?'}, ${b.build})`;
  return `${version} (binary ${b.build})`;
}

/**
 * Where a user's criu came from, in full, for the run's own reports
 * (summary.md, index.html): the path, the whole commit, clean or dirty, and
 * what the guest said. Undefined for a Debian suite's criu.
 */
export function criuOriginText(f: Partial<Pick<TargetFacts, 'criu' | 'criuGitId' | 'criuBuild'>>): string | undefined {
  const b = f.criuBuild;
  if (!b) return undefined;
  const from =
    b.kind === 'git'
      ? `git checkout ${b.path} at ${b.commit ?? '?'} (${b.describe ?? '?'}), ${b.dirty ? 'dirty' : 'clean'}`
      : b.kind === 'tarball'
        ? `unpacked tarball ${b.path} (${b.describe ?? '?'})`
        : `binary ${b.path}`;
  return (
    `${from}; build ${b.build}; the guest reports criu ${f.criu ?? '?'}` +
    `${f.criuGitId ? `, GitID ${f.criuGitId}` : ''}`
  );
}
