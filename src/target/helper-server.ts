import { constants } from 'node:os';
import { TargetError, TimeoutError } from '../errors.js';
import type { ExecOptions, ExecResult } from './exec.js';

/**
 * The host's side of `mountlab-helper serve` (vm/helper/serve.c): one ssh
 * channel, kept for a guest's life, over which each helper call is a fork
 * and an exec in the guest instead of an ssh session. Under TCG a session
 * cost about 60 ms of the guest's one CPU; a scenario makes three calls.
 *
 * Calls go one at a time, in the order their input is ready: a call whose
 * input comes later (ExecOptions.deferred) waits outside the queue, so it
 * never holds up the call whose answer it waits for.
 */
export interface ServerStream {
  write(data: Buffer): unknown;
  end(): unknown;
  on(event: 'data', f: (d: Buffer) => void): unknown;
  on(event: 'close', f: () => void): unknown;
}

const GREETING = 'mountlab-serve 1';
const SIGNALS = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name.replace(/^SIG/, '')]));

export class HelperServer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private wake: (() => void) | undefined;
  private closed: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly stream: ServerStream) {
    stream.on('data', (d) => {
      this.chunks.push(d);
      this.buffered += d.length;
      this.wake?.();
    });
    stream.on('close', () => this.fail(new TargetError('the helper server closed its channel')));
  }

  /** Waits for the server's greeting; a stream that says anything else is refused. */
  static async open(stream: ServerStream, timeoutMs: number): Promise<HelperServer> {
    const s = new HelperServer(stream);
    const hello = await s.withLimit(() => s.line(), timeoutMs, 'start the helper server');
    if (hello !== GREETING) {
      s.close();
      throw new TargetError(`the helper server said ${JSON.stringify(hello.slice(0, 80))}, not "${GREETING}"`);
    }
    return s;
  }

  get isBroken(): boolean {
    return this.closed !== undefined;
  }

  /** Runs `mountlab-helper ARGS...` in the guest, as an ssh exec would, answering the same ExecResult. */
  async call(args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const input = opts.deferred
      ? await opts.deferred.catch(() => ({ stdin: '' as string | Buffer, timeoutMs: opts.timeoutMs }))
      : { stdin: opts.stdin ?? '', timeoutMs: opts.timeoutMs };
    const turn = this.queue.then(() => this.roundTrip(args, input.stdin, input.timeoutMs, opts));
    this.queue = turn.catch(() => {});
    return turn;
  }

  close(): void {
    this.fail(new TargetError('the helper server was closed'));
    this.stream.end();
  }

  private async roundTrip(
    args: readonly string[],
    stdin: string | Buffer,
    timeoutMs: number,
    opts: ExecOptions,
  ): Promise<ExecResult> {
    if (this.closed) throw new TargetError(`${opts.label}: ${this.closed.message}`);
    const started = Date.now();
    const words = Buffer.concat(args.map((a) => Buffer.from(`${a}\0`, 'utf8')));
    const input = typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : stdin;
    this.stream.write(
      Buffer.concat([Buffer.from(`call ${args.length} ${words.length} ${input.length}\n`), words, input]),
    );
    return this.withLimit(
      async () => {
        const head = await this.line();
        const m = /^done (-?\d+) (\d+) (\d+) (\d+) (\d+)$/.exec(head);
        if (!m) throw this.fail(new TargetError(`${opts.label}: the helper server answered "${head.slice(0, 80)}"`));
        const stdout = await this.bytes(Number(m[4]));
        const stderr = await this.bytes(Number(m[5]));
        const r: ExecResult = {
          code: Number(m[1]),
          stdout: stdout.toString(opts.encoding ?? 'utf8'),
          stderr: stderr.toString('utf8'),
          durationMs: Date.now() - started,
        };
        const signal = Number(m[2]);
        if (signal) r.signal = SIGNALS.get(signal) ?? String(signal);
        return r;
      },
      timeoutMs,
      opts.label,
    );
  }

  private async withLimit<T>(f: () => Promise<T>, ms: number, label: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The guest-side limits should have fired first: the guest stopped answering.
        const e = new TimeoutError(label, ms);
        this.fail(e);
        reject(e);
      }, ms);
    });
    try {
      return await Promise.race([f(), limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(e: Error): Error {
    this.closed ??= e;
    this.wake?.();
    return e;
  }

  /** Waits until `n` bytes are buffered (or the channel is gone). */
  private async need(n: number): Promise<void> {
    while (this.buffered < n) {
      if (this.closed) throw this.closed;
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = undefined;
    }
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = n < all.length ? [all.subarray(n)] : [];
    this.buffered -= n;
    return all.subarray(0, n);
  }

  private async bytes(n: number): Promise<Buffer> {
    await this.need(n);
    return this.take(n);
  }

  private async line(): Promise<string> {
    for (;;) {
      const all = Buffer.concat(this.chunks);
      this.chunks = all.length ? [all] : [];
      const nl = all.indexOf(0x0a);
      if (nl >= 0) return this.take(nl + 1).toString('utf8', 0, nl);
      await this.need(this.buffered + 1);
    }
  }
}

/** What a helper server needs of an ssh connection. */
export interface ServerHost {
  channel(command: readonly string[]): Promise<ServerStream>;
  exec(command: readonly string[], opts: ExecOptions): Promise<ExecResult>;
  abandon(e: Error): void;
}

/**
 * A target's helper calls: through the server, opened at the first call,
 * or an ssh exec each where it cannot be opened (said once, in `fallback`).
 * A server that stops answering takes the connection with it, as a hung
 * ssh exec does: the guest is no longer trusted.
 */
export function servedHelper(host: ServerHost, helper: string): ServedHelper {
  let server: Promise<HelperServer | undefined> | undefined;
  const served: ServedHelper = {
    async exec(args, opts) {
      server ??= host.channel([helper, 'serve']).then(
        (ch) =>
          HelperServer.open(ch, 60_000).catch((e: Error) => {
            served.fallback = e.message;
            return undefined;
          }),
        (e: Error) => {
          served.fallback = e.message;
          return undefined;
        },
      );
      const s = await server;
      if (!s || s.isBroken) return host.exec([helper, ...args], opts);
      try {
        return await s.call(args, opts);
      } catch (e) {
        if (e instanceof TimeoutError) host.abandon(e);
        throw e;
      }
    },
    close() {
      void server?.then((s) => s?.close());
    },
  };
  return served;
}

export interface ServedHelper {
  /** Runs `mountlab-helper ARGS...` in the guest. */
  exec(args: readonly string[], opts: ExecOptions): Promise<ExecResult>;
  close(): void;
  /** Why calls go by ssh exec each: the server could not be opened. */
  fallback?: string;
}
