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
   * Input that comes later, instead of stdin: the command starts now and
   * blocks reading its stdin until this settles, with the time limit (the
   * timeoutMs below is then the limit for waiting). Under TCG a call's
   * latency is its ssh channel, sshd's fork and the exec; a call opened while
   * the guest still works on the one before hides all three. A rejection
   * closes stdin empty.
   */
  deferred?: Promise<{ stdin: string | Buffer; timeoutMs: number }>;
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
