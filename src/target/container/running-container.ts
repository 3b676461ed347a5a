/**
 * Running commands in a started container: testcontainers' exec has no
 * stdin, no time limit and decodes output as UTF-8, so each command goes
 * through a fixed wrapper script that supplies all three.
 */
import { randomBytes } from 'node:crypto';
import type { StartedTestContainer } from 'testcontainers';
import { MountlabError, TargetError, TimeoutError } from '../../errors.js';
import type { ExecOptions, ExecResult } from '../exec.js';

/**
 * The in-container half of every exec, a fixed script; the command is only
 * ever passed as separate arguments, never pasted into shell text.
 * $1 is a file holding stdin (copied in before; removed before the command
 * runs) or empty for /dev/null, $2 the limit in seconds, $3 a directory
 * for the stdout file (/run, a tmpfs, in the container). The limit is
 * enforced here, with `timeout --kill-after`, because testcontainers' exec
 * has none. stdout is collected in a file and printed as base64, because
 * testcontainers decodes each chunk as UTF-8: base64 keeps every byte
 * (captures are latin1: mountinfo paths need not be UTF-8).
 */
export const EXEC_WRAPPER = [
  'i=$1 l=$2 d=$3; shift 3',
  'if [ -n "$i" ]; then exec 0<"$i"; rm -f "$i"; else exec 0</dev/null; fi',
  'o=$(mktemp "$d/mountlab-out.XXXXXX") || exit 125',
  'rc=0',
  'timeout --kill-after=5 "$l" "$@" >"$o" || rc=$?',
  'base64 -w0 "$o"; rm -f "$o"',
  'exit "$rc"',
].join('\n');

/** Where the container's image layer (docker's overlay root) stays visible after ROOT_SWAP. */
export const IMAGE_LAYER = '/run/mountlab-image';

/**
 * Directory for stdin files, as `docker cp` names it (docker cp writes to
 * the image layer, never into a tmpfs mount); inside the container it is
 * IMAGE_LAYER + STDIN_DIR.
 */
export const STDIN_DIR = '/var/lib';

/** The limit enforced in the container for a command whose ExecOptions say timeoutMs. */
export function execLimitSeconds(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 1000));
}

/** The host-side backstop: the in-container limit, timeout's kill-after, and slack for the engine. */
export function backstopMs(timeoutMs: number): number {
  return execLimitSeconds(timeoutMs) * 1000 + 15_000;
}

/**
 * The argv docker execs for a command: the wrapper, then the command as
 * separate words. A string is a shell command (`sh -c`).
 */
export function execArgv(
  command: readonly string[] | string,
  limitS: number,
  stdinPath: string | undefined,
  outDir = '/run',
): string[] {
  const cmd = typeof command === 'string' ? ['sh', '-c', command] : [...command];
  if (cmd.length === 0) throw new TargetError('exec: empty command');
  return ['sh', '-c', EXEC_WRAPPER, 'mountlab-exec', stdinPath ?? '', String(limitS), outDir, ...cmd];
}

/** Decodes the wrapper's base64 stdout. */
export function decodeStdout(b64: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  return Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString(encoding);
}

/** True when `timeout` (not the command itself) ended it: its codes, after the whole limit. */
export function timedOut(code: number, durationMs: number, limitS: number): boolean {
  return (code === 124 || code === 137) && durationMs >= limitS * 1000 - 250;
}

/** What a running container needs of the engine: removing it by id when stopping it fails. */
interface Engine {
  getContainer(id: string): { remove(opts?: object): Promise<unknown> };
}

/**
 * A container that is up, whether or not its facts are read yet: it runs
 * commands and can be removed. Disposing it kills and removes it.
 */
export class RunningContainer implements AsyncDisposable {
  private broken: Error | undefined;
  private disposing: Promise<void> | undefined;

  constructor(
    private readonly tc: StartedTestContainer,
    private readonly engine: Engine,
  ) {}

  /** False once the engine or the container stopped answering, or it is being removed. */
  get alive(): boolean {
    return !this.broken && !this.disposing;
  }

  async exec(command: readonly string[] | string, opts: ExecOptions): Promise<ExecResult> {
    const { deferred, ...now } = opts;
    if (deferred) {
      // docker exec takes its input as a file copied in first: nothing to open ahead of it.
      const { stdin, timeoutMs } = await deferred.catch(() => ({ stdin: '', timeoutMs: opts.timeoutMs }));
      return this.exec(command, { ...now, stdin, timeoutMs });
    }
    if (this.broken) throw this.broken;
    if (this.disposing) throw new TargetError(`${opts.label}: the container is being removed`);
    const limitS = execLimitSeconds(opts.timeoutMs);
    const started = Date.now();
    let stdinPath: string | undefined;
    try {
      if (opts.stdin !== undefined) {
        // testcontainers' exec cannot feed stdin: the content goes in as a file, which the wrapper opens and removes.
        const name = `${STDIN_DIR}/.mountlab-stdin-${randomBytes(6).toString('hex')}`;
        const content = typeof opts.stdin === 'string' ? Buffer.from(opts.stdin, 'utf8') : opts.stdin;
        await this.tc.copyContentToContainer([{ content, target: name, mode: 0o600 }]);
        stdinPath = `${IMAGE_LAYER}${name}`;
      }
    } catch (e) {
      throw this.fail(new TargetError(`${opts.label}: cannot copy stdin into the container: ${(e as Error).message}`));
    }
    const argv = execArgv(command, limitS, stdinPath);
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The in-container limit should have fired first: the engine or the
        // container stopped answering: it is no longer alive.
        reject(this.fail(new TimeoutError(opts.label, opts.timeoutMs)));
      }, backstopMs(opts.timeoutMs));
    });
    const run = this.tc.exec(argv);
    run.catch(() => {});
    let r: Awaited<typeof run>;
    try {
      r = await Promise.race([run, backstop]);
    } catch (e) {
      if (e instanceof MountlabError) throw e;
      throw this.fail(new TargetError(`${opts.label}: ${(e as Error).message}`));
    } finally {
      clearTimeout(timer);
    }
    const durationMs = Date.now() - started;
    if (timedOut(r.exitCode, durationMs, limitS)) throw new TimeoutError(opts.label, opts.timeoutMs);
    return { code: r.exitCode, stdout: decodeStdout(r.stdout, opts.encoding), stderr: r.stderr, durationMs };
  }

  async writeFile(path: string, content: string | Buffer, mode = '0644'): Promise<void> {
    const dir = path.replace(/\/[^/]*$/, '') || '/';
    const r = await this.exec(
      ['sh', '-c', 'umask 077 && mkdir -p "$1" && cat > "$2" && chmod "$3" "$2"', 'sh', dir, path, mode],
      {
        stdin: content,
        timeoutMs: 30_000,
        label: `write ${path}`,
      },
    );
    if (r.code !== 0) throw new TargetError(`cannot write ${path} in the container: ${r.stderr.trim()}`);
  }

  private fail(e: Error): Error {
    this.broken ??= e;
    return e;
  }

  /** Kills and removes the container; idempotent, and safe while an exec is still running. */
  [Symbol.asyncDispose](): Promise<void> {
    this.disposing ??= (async () => {
      try {
        await this.tc.stop({ timeout: 0, remove: true, removeVolumes: true });
      } catch {
        // The engine may already have lost it, or stop raced a failure: force-remove by id.
        await this.engine
          .getContainer(this.tc.getId())
          .remove({ force: true, v: true })
          .catch(() => {});
      }
    })();
    return this.disposing;
  }
}
