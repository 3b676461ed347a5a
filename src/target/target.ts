import type { TargetFacts, TargetKind } from '../results/result.js';
import type { ExecOptions, ExecResult } from './exec.js';

/**
 * A target that is running and accepting commands. Disposing it tears it
 * down; that is the only way to end it, so `await using` cannot forget.
 */
export interface StartedTarget extends AsyncDisposable {
  /** Complete from the start: start() gathers them before it returns. */
  readonly facts: Readonly<TargetFacts>;
  exec(argv: readonly string[] | string, opts: ExecOptions): Promise<ExecResult>;
  /**
   * Runs `mountlab-helper ARGS...`, where the target keeps a channel for it
   * (a VM's helper server: a fork and exec in the guest instead of an ssh
   * session); absent, the helper is exec'ed like any command.
   */
  execHelper?(args: readonly string[], opts: ExecOptions): Promise<ExecResult>;
  writeFile(path: string, content: string | Buffer, mode?: string): Promise<void>;
  /** Console (kernel log) text since a mark, for oops detection. */
  consoleMark(): number;
  consoleSince(mark: number): string;
  /**
   * What the target can observe of itself: false once its process exited,
   * its connection broke or it is being torn down. Whether it is trusted with
   * another scenario is the runner's judgement (run/guest.ts).
   */
  readonly alive: boolean;
}

/** A configured target: nothing runs until start(). */
export interface Target {
  readonly kind: TargetKind;
  readonly describe: string;
  start(signal: AbortSignal): Promise<StartedTarget>;
}
