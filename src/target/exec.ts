/** What one command in a target returned. */
export interface ExecResult {
  code: number;
  /** Set when the command died of a signal. */
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  /**
   * Host-side backstop. The real limit is enforced in the guest with
   * `timeout --kill-after`; this only catches a guest that stopped answering.
   */
  timeoutMs: number;
  /** What the command is, for error messages ("criu dump"). */
  label: string;
  /**
   * How to decode stdout. Captures use latin1: mountinfo paths are bytes,
   * and latin1 keeps every byte (non-UTF-8 names included) one character.
   */
  encoding?: 'utf8' | 'latin1';
}
