import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { request } from 'node:http';
import { InterruptedError, PrerequisiteError } from '../../errors.js';

/** Where a docker engine is reached: a unix socket or plain tcp (no TLS). */
export type DockerEndpoint =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'other'; url: string };

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** The endpoint DOCKER_HOST names, or the default socket. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  const h = env.DOCKER_HOST?.trim();
  if (!h) return { kind: 'unix', path: DEFAULT_SOCKET };
  if (h.startsWith('unix://')) return { kind: 'unix', path: h.slice('unix://'.length) };
  const m = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(h);
  // With TLS the engine is reached through testcontainers' own client; only plain tcp is pinged here.
  if (m && !env.DOCKER_TLS_VERIFY) return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  return { kind: 'other', url: h };
}

export function describeEndpoint(e: DockerEndpoint): string {
  return e.kind === 'unix' ? `unix://${e.path}` : e.kind === 'tcp' ? `tcp://${e.host}:${e.port}` : e.url;
}

/** What the user is told when no engine answers: the plain fact and the ways to get one. */
export function noEngineError(endpoint: DockerEndpoint, why: string): PrerequisiteError {
  return new PrerequisiteError(`no container engine is reachable: ${describeEndpoint(endpoint)} ${why}`, {
    hint: [
      'the container target needs a running docker engine. On Debian, as root:',
      '    apt-get install docker.io && dockerd &   (or: systemctl start docker)',
      'or let mountlab start one for this run only: mountlab run --target container --start-docker',
      '(it starts dockerd in the background and stops it at the end of the run);',
      'or point DOCKER_HOST at a reachable engine.',
    ].join('\n  '),
  });
}

/** GET /_ping on an endpoint; resolves to the engine's API version header, rejects with a reason. */
export function pingDocker(e: DockerEndpoint, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    if (e.kind === 'other') return reject(new Error('not pingable directly'));
    const target = e.kind === 'unix' ? { socketPath: e.path } : { host: e.host, port: e.port };
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => {
        if (res.statusCode === 200) resolve(String(res.headers['api-version'] ?? '?'));
        else reject(new Error(`answered ${res.statusCode}: ${body.trim().slice(0, 200)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`did not answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

export interface DockerEngine {
  endpoint: DockerEndpoint;
  apiVersion: string;
}

/**
 * Finds a reachable docker engine (DOCKER_HOST, else /var/run/docker.sock),
 * or throws a PrerequisiteError that says so plainly and how to get one.
 */
export async function findDockerEngine(env: NodeJS.ProcessEnv = process.env): Promise<DockerEngine> {
  const endpoint = dockerEndpoint(env);
  if (endpoint.kind === 'other') {
    // ssh:// or TLS: let testcontainers' client (dockerode) try it.
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      const client = await getContainerRuntimeClient();
      return { endpoint, apiVersion: String(client.info.containerRuntime.serverVersion ?? '?') };
    } catch (e) {
      throw noEngineError(endpoint, `did not answer: ${(e as Error).message}`);
    }
  }
  if (endpoint.kind === 'unix' && !existsSync(endpoint.path))
    throw noEngineError(endpoint, 'does not exist (no docker engine is running)');
  try {
    return { endpoint, apiVersion: await pingDocker(endpoint) };
  } catch (e) {
    throw noEngineError(endpoint, `did not answer: ${(e as Error).message}`);
  }
}

/** An engine for this run: one that was already there (dispose does nothing) or a dockerd we started. */
export interface EngineLease extends AsyncDisposable {
  readonly engine: DockerEngine;
  /** True when mountlab started dockerd for this run. */
  readonly started: boolean;
}

export interface PrepareOptions {
  /** --start-docker: start dockerd when no engine is reachable. */
  start: boolean;
  /** Where a dockerd we start writes its log. */
  logFile: string;
  /** Said on stderr: starting something system-wide is never silent. */
  say: (msg: string) => void;
  signal?: AbortSignal;
}

/**
 * The engine the container target will use. Without `start`, a missing
 * engine is a PrerequisiteError: mountlab starts nothing system-wide unless
 * told to. With `start` (--start-docker) and no engine reachable, dockerd is
 * started in the background, the user is told so, and disposing the lease
 * stops it again.
 */
export async function prepareDockerEngine(o: PrepareOptions): Promise<EngineLease> {
  try {
    const engine = await findDockerEngine();
    if (o.start)
      o.say(
        `mountlab: a docker engine is already running at ${describeEndpoint(engine.endpoint)}; ` +
          '--start-docker starts nothing',
      );
    return { engine, started: false, [Symbol.asyncDispose]: async () => {} };
  } catch (e) {
    if (!o.start || !(e instanceof PrerequisiteError)) throw e;
  }
  const endpoint = dockerEndpoint();
  if (endpoint.kind !== 'unix' || endpoint.path !== DEFAULT_SOCKET) {
    throw new PrerequisiteError(
      `--start-docker starts a local dockerd on ${DEFAULT_SOCKET}, but DOCKER_HOST names ${describeEndpoint(endpoint)}`,
      {
        hint: 'unset DOCKER_HOST, or start the engine it names yourself',
      },
    );
  }
  if (process.getuid?.() !== 0)
    throw new PrerequisiteError('--start-docker needs root (dockerd runs as root)', {
      hint: 'run mountlab as root, or start dockerd yourself',
    });
  return DockerdProcess.start(endpoint, o);
}

/**
 * dockerd started by --start-docker. It runs in its own process group (a
 * Ctrl-C at the terminal reaches mountlab, which then stops the containers
 * before it stops dockerd), under `setpriv --pdeathsig SIGTERM`, so it shuts
 * down even if mountlab is killed outright.
 */
class DockerdProcess implements EngineLease {
  readonly started = true;
  private exited = false;
  private readonly exitPromise: Promise<void>;
  private disposing: Promise<void> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly engine: DockerEngine,
    private readonly say: (m: string) => void,
  ) {
    this.exitPromise = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.exited = true;
        return resolve();
      }
      child.once('exit', () => {
        this.exited = true;
        resolve();
      });
    });
  }

  static async start(endpoint: DockerEndpoint & { kind: 'unix' }, o: PrepareOptions): Promise<DockerdProcess> {
    const log = createWriteStream(o.logFile, { flags: 'a' });
    await new Promise<void>((res, rej) => log.once('open', () => res()).once('error', rej));
    o.say(
      'mountlab: starting dockerd in the background for this run ' +
        `(--start-docker; system-wide on ${endpoint.path}, log ${o.logFile}); it is stopped when the run ends`,
    );
    const child = spawn('setpriv', ['--pdeathsig', 'SIGTERM', '--', 'dockerd'], {
      stdio: ['ignore', log, log],
      detached: true,
    });
    let spawnError: Error | undefined;
    child.once('error', (e) => (spawnError = e));
    const p = new DockerdProcess(child, { endpoint, apiVersion: '?' }, o.say);
    const deadline = Date.now() + 60_000;
    let last = '';
    for (;;) {
      if (spawnError) {
        log.end();
        throw new PrerequisiteError(`cannot start dockerd: ${spawnError.message}`, {
          hint: 'install it: apt-get install docker.io',
        });
      }
      if (p.exited) {
        log.end();
        const how = child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode;
        throw new PrerequisiteError(`dockerd exited during start-up (${how}); see ${o.logFile}`, {
          hint:
            child.exitCode === 127
              ? 'is docker.io installed? apt-get install docker.io'
              : 'another dockerd may be running, or this kernel lacks overlay2/cgroups',
        });
      }
      if (o.signal?.aborted) {
        await p[Symbol.asyncDispose]();
        throw o.signal.reason instanceof Error ? o.signal.reason : new InterruptedError('signal');
      }
      try {
        (p.engine as { apiVersion: string }).apiVersion = await pingDocker(endpoint, 2_000);
        break;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) {
        await p[Symbol.asyncDispose]();
        throw new PrerequisiteError(
          `dockerd did not answer on ${endpoint.path} within 60 s (${last}); see ${o.logFile}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    child.once('exit', () => log.end());
    return p;
  }

  /** SIGTERM, then SIGKILL after 30 s; idempotent. */
  [Symbol.asyncDispose](): Promise<void> {
    this.disposing ??= (async () => {
      if (this.exited) return;
      this.say('mountlab: stopping the dockerd it started');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await this.exitPromise;
      clearTimeout(timer);
    })();
    return this.disposing;
  }
}
