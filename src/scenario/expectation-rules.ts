import type { Scenario } from './scenario.generated.js';
import { compileLogPattern } from './log-pattern.js';
import type { SemanticProblem } from './semantics.js';

/** The keys of a fail-expectation that name its phase; exactly one is given. */
export const FAIL_KEYS = ['dump-fails', 'restore-fails', 'fails'] as const;

/**
 * What the schema leaves to the whole expectation: one phase key in a fail-expectation (the
 * schema's oneOf said "unknown field" twice, once for each, when both were given), and patterns
 * the linear-time engine can run.
 */
export function expectationProblems(expect: Scenario['expect']): SemanticProblem[] {
  if (typeof expect !== 'object') return [];
  // The schema has checked the list of dropped mounts; there is no pattern to compile.
  if ('dropped' in expect) return [];
  const problems: SemanticProblem[] = [];
  const patterns: [string, string][] = [];
  if ('known-bug' in expect && expect['known-bug']) {
    problems.push(...knownBugLinkProblems(expect['known-bug']));
    patterns.push(['/expect/known-bug/reason', expect['known-bug'].reason]);
  } else {
    const fail = expect as Partial<Record<(typeof FAIL_KEYS)[number], string>>;
    const given = FAIL_KEYS.filter((k) => fail[k] !== undefined);
    if (given.length === 0) {
      problems.push({
        path: '/expect',
        message:
          'a fail-expectation names its phase: dump-fails, restore-fails or fails (either phase), with the pattern',
        suggestion: 'e.g. `expect: {fails: "Can\'t mount"}`, or `expect: identical`',
      });
    } else if (given.length > 1) {
      problems.push({
        path: `/expect/${given[1]}`,
        message: `${given.map((k) => `'${k}'`).join(' and ')} both given; a fail-expectation names one phase`,
        suggestion:
          "to expect either dump or restore to fail, matching one pattern, write `fails: PATTERN` (zdtm's crfail)",
      });
    }
    for (const k of given) patterns.push([`/expect/${k}`, fail[k]!]);
  }
  for (const [path, source] of patterns) {
    const c = compileLogPattern(source);
    if ('error' in c) problems.push({ path, message: c.error });
  }
  return problems;
}

type KnownBug = Extract<Scenario['expect'], { 'known-bug': unknown }>['known-bug'];

const WHAT_TO_LINK = 'an issue, pull request, commit or list message';

/**
 * A known bug links its upstream report or says that none was found: exactly one of `url` and
 * `upstream: none-found` (with `searched`), and the url is a report, not a source file.
 */
export function knownBugLinkProblems(bug: KnownBug): SemanticProblem[] {
  const base = '/expect/known-bug';
  const problems: SemanticProblem[] = [];
  if (bug.url === undefined && bug.upstream === undefined) {
    problems.push({
      path: base,
      message: `missing required field 'url': the upstream report (${WHAT_TO_LINK})`,
      suggestion:
        'if none was found, write `upstream: none-found` and ' +
        '`searched: "criu issues and commits for \'...\', YYYY-MM-DD"`',
    });
  }
  if (bug.url !== undefined && bug.upstream !== undefined) {
    problems.push({
      path: `${base}/upstream`,
      message: "both 'url' and 'upstream: none-found' given",
      suggestion: 'keep the url if it is the report; drop it if it is not',
    });
  }
  if (bug.upstream !== undefined && bug.searched === undefined) {
    problems.push({
      path: `${base}/upstream`,
      message: "'upstream: none-found' needs 'searched': what was searched, for what, and when",
      suggestion: "e.g. `searched: \"criu issues and commits for 'doesn't have a proper root mount', 2026-12-03\"`",
    });
  }
  if (bug.searched !== undefined && bug.upstream === undefined) {
    problems.push({
      path: `${base}/searched`,
      message: "'searched' goes with 'upstream: none-found'",
      suggestion: bug.url !== undefined ? 'drop it: the url is the report' : 'add `upstream: none-found`',
    });
  }
  if (bug.url !== undefined) {
    const why = sourceFileLink(bug.url);
    if (why) {
      problems.push({
        path: `${base}/url`,
        message: `${JSON.stringify(bug.url)} is ${why}; a link to code is not a bug report`,
        suggestion:
          'link the upstream issue, pull request, commit or list message about this failure ' +
          '(for a commit: https://github.com/OWNER/REPO/commit/HASH), or write `upstream: none-found` with `searched`',
      });
    }
  }
  return problems;
}

/** Why a url names a source file rather than a report, or undefined when it does not. */
export function sourceFileLink(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined; // the schema's pattern has already said what a url must look like
  }
  const host = u.hostname.toLowerCase();
  if (host === 'raw.githubusercontent.com' || host === 'raw.github.com') return 'a raw source file';
  if (host === 'github.com' || host === 'www.github.com' || host === 'gitlab.com') {
    const kind = /^\/[^/]+\/[^/]+\/(?:-\/)?(blob|tree|raw|blame)(?:\/|$)/.exec(u.pathname)?.[1];
    if (kind) return kind === 'tree' ? 'a source tree page' : 'a source file page';
  }
  return undefined;
}
