import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { pidAlive } from '../pid-alive.js';
import { InterruptedError, TargetError } from '../../errors.js';
import type { ExecOptions, ExecResult } from '../exec.js';
import { UNKNOWN_FACT, installLabctl, targetFacts } from '../guest-facts.js';
import type { StartedTarget, Target } from '../target.js';
import type { TargetFacts } from '../../results/result.js';
import { ensureContainerImage, type ImageApi, type RootfsSource } from './container-image.js';
import { findDockerEngine } from './docker-engine.js';
import { IMAGE_LAYER, RunningContainer } from './running-container.js';
import {
  cacheAnswer,
  cpuModel,
  PREFLIGHT_DEADLINE_S,
  preflightKey,
  preflightMode,
  readCachedAnswer,
  refusal,
  runPreflight,
  type PreflightAnswer,
  type PreflightHost,
} from './criu-preflight.js';

/**
 * What `docker run --privileged` would give, less CAP_SYS_RESOURCE: on
 * machines whose own bounding set lacks it (this project's CI sandbox),
 * --privileged fails with "unable to apply caps". CRIU then logs a
 * non-fatal "Can't setup RLIMIT_NOFILE".
 */
export const CAP_ADD = ['ALL'];
export const CAP_DROP = ['SYS_RESOURCE'];
export const SECURITY_OPTS = ['seccomp=unconfined', 'apparmor=unconfined'];
/**
 * `--security-opt systempaths=unconfined` is a docker CLI flag, not an
 * engine option (the engine answers "invalid --security-opt"): the CLI
 * turns it into empty MaskedPaths and ReadonlyPaths, and so does this.
 */
export const SYSTEMPATHS_UNCONFINED = { MaskedPaths: [] as string[], ReadonlyPaths: [] as string[] };
/**
 * /run and /tmp are tmpfs as in the VM (its PID 1 mounts them): labctl
 * keeps its work dirs in /run/mountlab, and the scenario root is an overlay
 * whose lower layer is `/` alone, so nothing under /run leaks into it.
 * `exec`: labctl runs from /run (docker's default tmpfs is noexec).
 */
export const TMPFS: Record<string, string> = { '/run': 'rw,exec,nosuid,mode=755', '/tmp': 'rw,exec,nosuid,mode=1777' };

/** The run's label: `docker ps -a --filter label=mountlab.run` finds anything left over. */
export function containerLabels(
  runId: string,
  image: string,
  token: string,
  pid = process.pid,
  host = hostname(),
): Record<string, string> {
  return {
    'mountlab.run': runId,
    'mountlab.image': image,
    'mountlab.target': token,
    'mountlab.pid': String(pid),
    'mountlab.host': host,
  };
}

export const READY_LINE = 'MOUNTLAB-CONTAINER-READY';

/**
 * The container's main command (docker-init runs it as PID 1's child).
 * Why not just `sleep infinity` on docker's root: labctl makes each
 * scenario root an overlay with lowerdir=/, and on docker's overlay2 root
 * that is an overlay on an overlay. Building it works, but CRIU's dump
 * then fails for every scenario:
 *   Error (criu/files-reg.c:1790): Can't lookup mount=108 for fd=-3 path=/usr/bin/sleep
 * A file mapped through nested overlays (here the tree's sleeper binary)
 * reports the mount id of overlayfs' private clone of the lower layer, a
 * mount in no namespace. With a non-overlay lower (the VM's ext4, or a
 * tmpfs) it reports the scenario root's overlay, which CRIU finds. So the
 * container copies its image into a tmpfs (about 1.4 s, 170 MB of memory),
 * moves /proc, /sys, /dev, /run and /tmp onto it and pivots into it; docker
 * exec then lands in the tmpfs root, exactly as the VM's root for labctl.
 * The old root stays mounted at IMAGE_LAYER: `docker cp` writes there.
 */
export const ROOT_SWAP = [
  'set -eu',
  'N=/.mountlab-root',
  'mkdir -p "$N"',
  'mount -t tmpfs -o mode=0755 mountlab-rootfs "$N"',
  'tar -C / --one-file-system --exclude=./proc --exclude=./sys --exclude=./dev --exclude=./run --exclude=./tmp ' +
    '--exclude=".$N" -cf - . | tar -C "$N" -xpf -',
  'for d in proc sys dev run tmp; do mkdir -p "$N/$d"; mount --move "/$d" "$N/$d"; done',
  `mkdir -p "$N${IMAGE_LAYER}"`,
  'cd "$N"',
  `pivot_root . "${IMAGE_LAYER.slice(1)}"`,
  'cd /',
  `echo ${READY_LINE}`,
  'exec sleep infinity',
].join('\n');

export interface ContainerOptions {
  /** The guest rootfs image the container image is made from (ensureImage's answer). */
  image: RootfsSource;
  runId: string;
  log: (msg: string) => void;
}

/**
 * GenericContainer with what it has no builder method for: docker-init as
 * PID 1 (HostConfig.Init) and systempaths=unconfined.
 */
class LabContainer extends GenericContainer {
  constructor(image: string) {
    super(image);
    this.hostConfig.Init = true;
    this.hostConfig.MaskedPaths = [...SYSTEMPATHS_UNCONFINED.MaskedPaths];
    this.hostConfig.ReadonlyPaths = [...SYSTEMPATHS_UNCONFINED.ReadonlyPaths];
  }
}

/**
 * The container target: testcontainers on an image built locally from the
 * VM image's rootfs, on the host's kernel. Fast, but it cannot validate a
 * kernel: every cell of it runs whatever kernel this machine runs.
 */
export class ContainerTarget implements Target {
  readonly kind = 'container' as const;
  private preflight: Promise<PreflightAnswer> | undefined;
  constructor(private readonly opts: ContainerOptions) {}

  private async measure(
    c: RunningContainer,
    criu: string,
    key: string,
    mode: ReturnType<typeof preflightMode>,
    signal: AbortSignal,
  ): Promise<PreflightAnswer> {
    this.opts.log(
      'CRIU preflight: a dump and restore of a sleeping task on the host kernel ' +
        `(deadline ${PREFLIGHT_DEADLINE_S} s)...`,
    );
    const answer = await runPreflight(c, criu, mode);
    this.opts.log(`CRIU preflight: ${answer.ok ? answer.detail : `failed: ${answer.detail}`}`);
    // An injected fault says nothing about this host, nor does a preflight cut short by Ctrl-C.
    if (mode !== 'fault-hang' && !signal.aborted) await cacheAnswer(key, answer).catch(() => {});
    return answer;
  }

  get describe(): string {
    return `container (${this.opts.image.id} rootfs, host kernel)`;
  }

  async start(signal: AbortSignal): Promise<StartedContainer> {
    const o = this.opts;
    // testcontainers' reaper (Ryuk) is a container from an image it pulls
    // from a registry; no registry is reachable here, so it could never
    // start. It is off, and this target removes its own containers: on
    // dispose (idempotent, `await using` in the runner, Ctrl-C included),
    // and at the next start, leftovers of a mountlab that was killed
    // outright (labels mountlab.pid/mountlab.host name a dead process).
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    await findDockerEngine();
    const client = await getContainerRuntimeClient();
    const api = client.container.dockerode;
    await removeLeftovers(api, o.log);
    const img = await ensureContainerImage(api as unknown as ImageApi, o.image, o.log, signal);
    if (signal.aborted) throw abortReason(signal);
    const token = randomBytes(6).toString('hex');
    const started = Date.now();
    let tc: StartedTestContainer;
    try {
      tc = await new LabContainer(img.tag)
        .withCommand(['sh', '-c', ROOT_SWAP])
        .withWaitStrategy(Wait.forLogMessage(READY_LINE))
        .withLabels(containerLabels(o.runId, o.image.id, token))
        .withAddedCapabilities(...CAP_ADD)
        .withDroppedCapabilities(...CAP_DROP)
        .withSecurityOpt(...SECURITY_OPTS)
        .withTmpFs(TMPFS)
        .withNetworkMode('none')
        .withAutoCleanup(false)
        .withStartupTimeout(60_000)
        .start();
    } catch (e) {
      const logs = await logsByLabel(api, `mountlab.target=${token}`);
      await removeByLabel(api, `mountlab.target=${token}`);
      if (signal.aborted) throw abortReason(signal);
      throw new TargetError(`cannot start the container (${img.tag}): ${(e as Error).message}`, logs || undefined);
    }
    const c = new RunningContainer(tc, api);
    try {
      if (signal.aborted) throw abortReason(signal);
      const bootMs = Date.now() - started;
      // The engine's kernel and CPU, which need not be this process's (DOCKER_HOST may be another machine).
      const probe = await c.exec(['sh', '-c', 'uname -r; cat /proc/cpuinfo'], { timeoutMs: 30_000, label: 'uname' });
      const [kernel = 'unknown', ...cpuinfo] = probe.stdout.split('\n');
      const host: PreflightHost = {
        kernel: kernel.trim() || 'unknown',
        cpu: cpuModel(cpuinfo.join('\n')),
        image: o.image.id,
      };
      const mode = preflightMode();
      const key = preflightKey(host);
      const cached = mode === 'normal' ? readCachedAnswer(key) : undefined;
      if (cached && !cached.ok) throw refusal(cached, host, true);
      // criu check's answer is cached per image and kernel: here the kernel is the host's.
      const guest = await installLabctl(c, { id: `container-${o.image.id}`, manifest: { kernelRelease: host.kernel } });
      let preflight = cached ? { ...cached, detail: `${cached.detail}, cached` } : undefined;
      if (!preflight) {
        // One preflight per target, however many containers -j starts for it.
        this.preflight ??= this.measure(c, guest.criu ?? UNKNOWN_FACT, key, mode, signal);
        // Ctrl-C must not wait out the preflight's deadline: disposing the container (below) ends its exec.
        preflight = await untilAborted(this.preflight, signal);
        if (!preflight.ok) throw refusal(preflight, host, false);
      }
      const facts = targetFacts('container', guest, {
        readyMs: Date.now() - started,
        bootMs,
        image: o.image.id,
        preflight: preflight.detail,
      });
      const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      o.log(
        `container ${tc.getId().slice(0, 12)} up in ${seconds(bootMs)}, ready in ${seconds(facts.readyMs)}` +
          `${img.built ? ` (image built in ${seconds(img.ms)})` : ''}; host kernel ${facts.kernel}, criu ${facts.criu}`,
      );
      return new StartedContainer(c, facts);
    } catch (e) {
      await c[Symbol.asyncDispose]();
      throw e;
    }
  }
}

interface Api {
  listContainers(opts?: object): Promise<Array<{ Id: string; Labels?: Record<string, string> }>>;
  getContainer(id: string): {
    remove(opts?: object): Promise<unknown>;
    logs(opts: { stdout: true; stderr: true; follow?: false; tail?: number }): Promise<Buffer>;
  };
}

/** What a container that failed to start printed (its root swap's errors), for the error message. */
async function logsByLabel(api: Api, label: string): Promise<string> {
  const list = await api.listContainers({ all: true, filters: JSON.stringify({ label: [label] }) }).catch(() => []);
  const c = list[0];
  if (!c) return '';
  const raw = await api
    .getContainer(c.Id)
    .logs({ stdout: true, stderr: true, follow: false, tail: 40 })
    .catch(() => Buffer.alloc(0));
  // Multiplexed stream: 8-byte frame headers; keep the printable text.
  return raw
    .toString('latin1')
    .replace(/[\x00-\x08\x0e-\x1f]/g, '')
    .trim();
}

async function removeByLabel(api: Api, label: string): Promise<void> {
  const list = await api.listContainers({ all: true, filters: JSON.stringify({ label: [label] }) }).catch(() => []);
  for (const c of list)
    await api
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => {});
}

/** Containers of a mountlab process on this host that no longer exists (killed with SIGKILL, say). */
export function leftovers(
  list: Array<{ Id: string; Labels?: Record<string, string> }>,
  host: string,
  alive: (pid: number) => boolean,
): string[] {
  return list
    .filter((c) => c.Labels?.['mountlab.host'] === host && c.Labels['mountlab.run'] !== undefined)
    .filter((c) => {
      const pid = Number(c.Labels?.['mountlab.pid']);
      return Number.isInteger(pid) && pid > 0 && !alive(pid);
    })
    .map((c) => c.Id);
}

async function removeLeftovers(api: Api, log: (m: string) => void): Promise<void> {
  const list = await api
    .listContainers({ all: true, filters: JSON.stringify({ label: ['mountlab.run'] }) })
    .catch(() => []);
  for (const id of leftovers(list, hostname(), pidAlive)) {
    await api
      .getContainer(id)
      .remove({ force: true, v: true })
      .then(
        () => log(`removed container ${id.slice(0, 12)} left by a mountlab that no longer runs`),
        () => {},
      );
  }
}

/** The promise's value, or the abort's reason as soon as the signal fires. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError(String(signal.reason ?? 'signal'));
}

/**
 * A running container with its facts read: the container target's guest.
 * Disposing it kills and removes it.
 */
export class StartedContainer implements StartedTarget {
  constructor(
    private readonly container: RunningContainer,
    readonly facts: Readonly<TargetFacts>,
  ) {}

  get alive(): boolean {
    return this.container.alive;
  }

  exec(command: readonly string[] | string, opts: ExecOptions): Promise<ExecResult> {
    return this.container.exec(command, opts);
  }

  writeFile(path: string, content: string | Buffer, mode?: string): Promise<void> {
    return this.container.writeFile(path, content, mode);
  }

  /**
   * The container's kernel is the host's: its log is shared with every
   * other process on this machine, and an oops in it is not ours to
   * judge (nor something a container run could survive). So there is no
   * console to watch: '' always.
   */
  consoleMark(): number {
    return 0;
  }

  consoleSince(_mark: number): string {
    return '';
  }

  /** Kills and removes the container; idempotent, and safe while an exec is still running. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.container[Symbol.asyncDispose]();
  }
}
