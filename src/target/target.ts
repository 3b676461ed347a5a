import type { CriuOrigin } from '../criu/criu-build.js';
import type { ExecOptions, ExecResult } from './exec.js';

export type TargetKind = 'vm' | 'container' | 'vagrant';

/** What a started target is, as recorded in every result. */
export interface TargetFacts {
  target: TargetKind;
  kernel: string;
  criu: string;
  criuCheck: 'ok' | 'failed';
  /**
   * Targets on the host kernel only: what the CRIU preflight found ("ok in
   * 0.6 s", "ok (cached)"). `criu check` can say "Looks good" on a host
   * where every dump hangs, so these targets try a real one first.
   */
  preflight?: string;
  utilLinux: string;
  /** vm only: which accelerator actually ran the guest. */
  accel?: 'kvm' | 'tcg';
  /** Milliseconds from launch until the first command could run (vm: ssh logged in). */
  bootMs?: number;
  /** Milliseconds from launch until the target was ready for scenarios (facts gathered). */
  readyMs: number;
  /** The image the guest booted, e.g. "trixie-3f2a9c1d0e4b". */
  image?: string;
  /** `criu --version`'s GitID as the guest reports it; a user's build has one. */
  criuGitId?: string;
  /** A user's criu (--criu PATH): where it came from. */
  criuBuild?: CriuOrigin;
}

/**
 * A target that is running and accepting commands. Disposing it tears it
 * down; that is the only way to end it, so `await using` cannot forget.
 */
export interface StartedTarget extends AsyncDisposable {
  /** Complete from the start: start() gathers them before it returns. */
  readonly facts: Readonly<TargetFacts>;
  exec(argv: readonly string[] | string, opts: ExecOptions): Promise<ExecResult>;
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
