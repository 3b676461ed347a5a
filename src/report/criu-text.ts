import type { TargetFacts } from '../target/target.js';

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
