import type { TargetFacts, TargetKind } from '../results/result.js';
import type { ExecOptions, ExecResult } from './exec.js';

/**
 * A target that is running and accepting commands. Disposing it tears it
 * down; that is the only way to end it, so `await using` cannot forget.
 */
export interface StartedTarget extends AsyncDisposable {
  readonly facts: TargetFacts;
  exec(argv: readonly string[] | string, opts: ExecOptions): Promise<ExecResult>;
  writeFile(path: string, content: string | Buffer, mode?: string): Promise<void>;
  /** Console (kernel log) text since a mark, for oops detection. */
  consoleMark(): number;
  consoleSince(mark: number): string;
  /** False once the target stopped answering or was retired; the runner then starts a fresh one. */
  readonly healthy: boolean;
  /** Stop trusting this target (its kernel oopsed, say): no further scenario runs on it. */
  retire(reason: string): void;
  /** Why it was retired, if it was. */
  readonly retiredBecause?: string | undefined;
}

/** A configured target: nothing runs until start(). */
export interface Target {
  readonly kind: TargetKind;
  readonly describe: string;
  start(signal: AbortSignal): Promise<StartedTarget>;
}
