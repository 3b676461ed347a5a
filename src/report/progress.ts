import { LineProgress } from './progress-lines.js';
import { LiveProgress } from './progress-live.js';
import type { ProgressStream, Verbosity } from './progress-text.js';
import type { Reporter } from './reporter.js';

export type { Verbosity } from './progress-text.js';

/**
 * A live view on a terminal, plain timestamped lines anywhere else (CI logs,
 * pipes, TERM=dumb), and a single line with --quiet.
 */
export function progressReporter(
  verbosity: Verbosity,
  out: ProgressStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Reporter {
  if (verbosity !== 'quiet' && out.isTTY && env.TERM !== 'dumb') return new LiveProgress(verbosity, out);
  return new LineProgress(verbosity, out);
}
