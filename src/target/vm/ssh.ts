import ssh2, { type ClientChannel, type ConnectConfig, type Client } from 'ssh2';
import { TargetError, TimeoutError } from '../../errors.js';
import type { ExecOptions, ExecResult } from '../exec.js';
import { shJoin } from '../../plan/shell.js';

export interface SshConnectOptions {
  host: string;
  port: number;
  privateKey: string;
  /** The guest's host key ("ssh-ed25519 AAAA..."), pinned from the image manifest. */
  hostKey?: string;
  readyTimeoutMs: number;
}

/**
 * One ssh connection to a guest. Under TCG the first login costs 1-2 s and
 * each command on an open connection about 0.2 s, so a guest gets exactly
 * one connection and every command goes through it.
 */
export class SshSession implements AsyncDisposable {
  private broken: Error | undefined;
  private readonly pending = new Set<(e: Error) => void>();

  private constructor(private readonly client: Client) {
    client.on('error', (e) => this.fail(new TargetError(`ssh connection failed: ${e.message}`)));
    client.on('close', () => this.fail(new TargetError('ssh connection to the guest was closed')));
  }

  static connect(opts: SshConnectOptions): Promise<SshSession> {
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      const expected = opts.hostKey ? Buffer.from(opts.hostKey.trim().split(/\s+/)[1] ?? '', 'base64') : undefined;
      const cfg: ConnectConfig = {
        host: opts.host,
        port: opts.port,
        username: 'root',
        privateKey: opts.privateKey,
        readyTimeout: opts.readyTimeoutMs,
        keepaliveInterval: 5000,
        keepaliveCountMax: 6,
        // The guest's host key was generated when the image was built; a
        // different key means we reached something else on that port.
        hostVerifier: (key: Buffer) => !expected || key.equals(expected),
      };
      const onError = (e: Error) => {
        client.removeAllListeners();
        client.on('error', () => {});
        client.end();
        reject(new TargetError(`cannot log in to the guest over ssh on 127.0.0.1:${opts.port}: ${e.message}`));
      };
      client.once('error', onError);
      client.once('ready', () => {
        client.removeListener('error', onError);
        resolve(new SshSession(client));
      });
      client.connect(cfg);
    });
  }

  private fail(e: Error): void {
    if (!this.broken) this.broken = e;
    for (const f of this.pending) f(e);
    this.pending.clear();
  }

  get isBroken(): boolean {
    return this.broken !== undefined;
  }

  /** Runs argv (each word quoted) or a shell string in the guest. */
  exec(command: readonly string[] | string, opts: ExecOptions): Promise<ExecResult> {
    const cmd = typeof command === 'string' ? command : shJoin(command);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      if (this.broken) return reject(this.broken);
      let settled = false;
      const done = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(onBroken);
        fn();
      };
      const onBroken = (e: Error) => done(() => reject(new TargetError(`${opts.label}: ${e.message}`)));
      this.pending.add(onBroken);
      const arm = (ms: number) =>
        setTimeout(() => {
          // The guest-side timeout should have fired first; if we get here the
          // guest stopped answering, so this connection is no longer trusted.
          const e = new TimeoutError(opts.label, ms);
          this.fail(e);
          done(() => reject(e));
        }, ms);
      let timer = arm(opts.timeoutMs);
      this.client.exec(cmd, (err, ch) => {
        if (err) return done(() => reject(new TargetError(`${opts.label}: ${err.message}`)));
        const out: Buffer[] = [];
        const errb: Buffer[] = [];
        let code = -1;
        let signal: string | undefined;
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errb.push(d));
        ch.on('exit', (c: number | null, sig?: string) => {
          if (c !== null && c !== undefined) code = c;
          if (sig) signal = sig;
        });
        ch.on('close', () =>
          done(() => {
            const r: ExecResult = {
              code,
              stdout: Buffer.concat(out).toString(opts.encoding ?? 'utf8'),
              stderr: Buffer.concat(errb).toString('utf8'),
              durationMs: Date.now() - started,
            };
            if (signal !== undefined) r.signal = signal;
            resolve(r);
          }),
        );
        if (opts.deferred) {
          opts.deferred.then(
            (d) => {
              if (settled) return;
              clearTimeout(timer);
              timer = arm(d.timeoutMs);
              ch.end(d.stdin);
            },
            () => ch.end(),
          );
        } else if (opts.stdin !== undefined) ch.end(opts.stdin);
        else ch.end();
      });
    });
  }

  /**
   * Opens a channel running `command` and hands it over as it is, for a
   * server that stays (the helper's serve). Its end is the caller's.
   */
  channel(command: readonly string[]): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.broken) return reject(this.broken);
      this.client.exec(shJoin(command), (err, ch) => (err ? reject(new TargetError(err.message)) : resolve(ch)));
    });
  }

  /** Gives the connection up: a server on it stopped answering, so nothing on it is trusted. */
  abandon(e: Error): void {
    this.fail(e);
  }

  /** Writes a file in the guest through the open connection. */
  async writeFile(path: string, content: string | Buffer, mode = '0644'): Promise<void> {
    const dir = path.replace(/\/[^/]*$/, '') || '/';
    const r = await this.exec(
      `umask 077 && mkdir -p ${shJoin([dir])} && cat > ${shJoin([path])} && chmod ${mode} ${shJoin([path])}`,
      {
        stdin: content,
        timeoutMs: 30_000,
        label: `write ${path}`,
      },
    );
    if (r.code !== 0) throw new TargetError(`cannot write ${path} in the guest: ${r.stderr.trim()}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.broken ??= new TargetError('ssh session closed');
    this.client.end();
  }
}
