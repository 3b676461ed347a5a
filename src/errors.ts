/**
 * Named error classes, each carrying the process exit code it maps to.
 * Exit codes are part of the CLI contract (see README "Exit codes"):
 *   0 everything as expected, 1 a fail or xpass, 2 errors, infrastructure
 *   failures or bad input.
 */
export class MountlabError extends Error {
  readonly exitCode: number = 2;
  /** A hint telling the user what to do next, printed under the message. */
  readonly hint: string | undefined;
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** A source position, 1-based, as editors and compilers print it. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export interface InputProblem extends SourcePosition {
  /** JSON-pointer-like path in the document, e.g. `/steps/3/bind/target`. */
  path: string;
  message: string;
  suggestion?: string;
}

/** Malformed scenario, capture or flag. Nothing has been run. */
export class BadInputError extends MountlabError {
  constructor(
    readonly problems: InputProblem[],
    hint?: string,
  ) {
    super(problems.map(formatProblem).join('\n'), hint !== undefined ? { hint } : undefined);
  }
}

export function formatProblem(p: InputProblem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  const path = p.path ? ` (at ${p.path})` : '';
  const sugg = p.suggestion ? `\n    ${p.suggestion}` : '';
  return `${where}: ${p.message}${path}${sugg}`;
}

/** Something the machine lacks: qemu, root for debootstrap, a mirror. */
export class PrerequisiteError extends MountlabError {}

/** The VM or container failed to start, or stopped answering. */
export class TargetError extends MountlabError {
  constructor(
    message: string,
    readonly consoleTail?: string,
    options?: { hint?: string; cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A target on the host kernel cannot checkpoint and restore at all: the
 * CRIU preflight's dump or restore of a sleeping task failed or hung. The
 * cell is refused before any scenario runs.
 */
export class PreflightError extends TargetError {}

/** A guest command exceeded its time limit. */
export class TimeoutError extends MountlabError {
  constructor(
    readonly what: string,
    readonly limitMs: number,
  ) {
    super(`${what} did not finish within ${(limitMs / 1000).toFixed(0)} s`);
  }
}

/** The image build failed. */
export class ImageBuildError extends MountlabError {
  /** The build script's exit status, when it exited (scripts give some a meaning). */
  readonly scriptExit: number | undefined;
  constructor(message: string, options?: { hint?: string; cause?: unknown; scriptExit?: number }) {
    super(message, options);
    this.scriptExit = options?.scriptExit;
  }
}

/** A user's CRIU tree does not compile: refused before anything boots. */
export class CriuBuildError extends MountlabError {}

/** The user interrupted the run (Ctrl-C, SIGTERM, SIGHUP). */
export class InterruptedError extends MountlabError {
  override readonly exitCode = 130;
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

export function exitCodeOf(err: unknown): number {
  return err instanceof MountlabError ? err.exitCode : 2;
}
