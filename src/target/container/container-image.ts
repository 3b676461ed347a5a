import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ImageBuildError, InterruptedError } from '../../errors.js';
import { cacheRoot } from '../vm/image.js';

/** What the container image is made from: a cached guest rootfs image (ensureImage's answer). */
export interface RootfsSource {
  /** "<suite>-<hash>": the tag's version and the cache dir's name. */
  id: string;
  /** The ext4 rootfs file. */
  rootfs: string;
}

/** The docker image made from a VM image's rootfs: one per VM image. */
export function containerImageTag(vm: { id: string }): string {
  return `mountlab-guest:${vm.id}`;
}

export const IMAGE_REPO = 'mountlab-guest';

/**
 * The container's main process: docker-init (the container runs with
 * Init, so zombies the lab's background tasks leave behind are reaped)
 * runs this, which only keeps the container alive. The VM's PID-1 script
 * (vm/guest/init) mounts /proc, sets up the network and starts sshd: none
 * of that applies in a container.
 */
export const KEEPALIVE = ['sleep', 'infinity'];

/** The Dockerfile-style changes `docker import` applies to the rootfs. */
export function importChanges(vm: { id: string }): string[] {
  return [`CMD ${JSON.stringify(KEEPALIVE)}`, `LABEL mountlab.image=${vm.id}`];
}

/** Minimal surface of dockerode used here (testcontainers' client provides it). */
export interface ImageApi {
  getImage(name: string): { inspect(): Promise<unknown>; remove(opts?: object): Promise<unknown> };
  importImage(file: NodeJS.ReadableStream, opts: object): Promise<NodeJS.ReadableStream>;
  listImages(opts?: object): Promise<Array<{ RepoTags?: string[] | null }>>;
}

export interface ContainerImage {
  tag: string;
  /** False when the tag was already in the engine. */
  built: boolean;
  ms: number;
}

/**
 * The docker image for a VM image, built once per VM image and cached in
 * the engine by its tag. Built without mounting anything: e2fsprogs'
 * debugfs copies the ext4 rootfs into a temp dir (`rdump`), the special
 * mode bits that rdump drops are put back, and a tar of the dir is
 * streamed into `docker import`. The temp dir is always removed.
 */
export function ensureContainerImage(
  api: ImageApi,
  vm: RootfsSource,
  log: (m: string) => void,
  signal?: AbortSignal,
): Promise<ContainerImage> {
  // Under -j, every worker of a container cell starts a container at once:
  // they share one build instead of each importing the same image.
  const tag = containerImageTag(vm);
  let pending = building.get(tag);
  if (!pending) {
    pending = buildContainerImage(api, vm, log, signal).finally(() => building.delete(tag));
    building.set(tag, pending);
  }
  return pending;
}

/** Builds in progress in this process, by tag. */
const building = new Map<string, Promise<ContainerImage>>();

async function buildContainerImage(
  api: ImageApi,
  vm: RootfsSource,
  log: (m: string) => void,
  signal?: AbortSignal,
): Promise<ContainerImage> {
  const tag = containerImageTag(vm);
  const started = Date.now();
  if (await imageExists(api, tag)) return { tag, built: false, ms: Date.now() - started };
  log(`building container image ${tag} from ${vm.rootfs} (once per VM image)`);
  const dir = await mkdtemp(join(tmpdir(), 'mountlab-rootfs-'));
  try {
    await extractRootfs(vm.rootfs, dir, signal);
    const tar = spawn('tar', ['-C', dir, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tarErr = '';
    tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
    const tarDone = exited(tar);
    const onAbort = () => tar.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const [repo, version] = [IMAGE_REPO, tag.slice(IMAGE_REPO.length + 1)];
      const progress = await api.importImage(tar.stdout, { repo, tag: version, changes: importChanges(vm) });
      const out = await readAll(progress as Readable);
      const code = await tarDone;
      if (signal?.aborted) throw abortReason(signal);
      if (code !== 0) throw new ImageBuildError(`tar of the extracted rootfs failed (exit ${code}): ${tarErr.trim()}`);
      const err = out
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => {
          try {
            return (JSON.parse(l) as { error?: string }).error;
          } catch {
            return undefined;
          }
        })
        .find(Boolean);
      if (err) throw new ImageBuildError(`docker import of ${tag} failed: ${err}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (!(await imageExists(api, tag)))
      throw new ImageBuildError(`docker import finished but ${tag} is not in the engine`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const ms = Date.now() - started;
  log(`container image ${tag} built in ${(ms / 1000).toFixed(1)} s`);
  await pruneContainerImages(api, tag, log);
  return { tag, built: true, ms };
}

async function imageExists(api: ImageApi, tag: string): Promise<boolean> {
  try {
    await api.getImage(tag).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

/**
 * mountlab-guest images whose VM image is gone from the cache (the VM
 * cache keeps two per suite) are removed too, so each vm/ change does not
 * leave another 200 MB image in the engine. An image a container still
 * uses is kept (the engine refuses; no force).
 */
export async function pruneContainerImages(api: ImageApi, keep: string, log: (m: string) => void): Promise<void> {
  const images = await api.listImages({ filters: JSON.stringify({ reference: [`${IMAGE_REPO}:*`] }) }).catch(() => []);
  for (const tag of images.flatMap((i) => i.RepoTags ?? [])) {
    if (tag === keep || !tag.startsWith(`${IMAGE_REPO}:`)) continue;
    const id = tag.slice(IMAGE_REPO.length + 1);
    if (existsSync(join(cacheRoot(), 'images', id))) continue;
    try {
      await api.getImage(tag).remove();
      log(`removed container image ${tag} (its VM image is no longer cached)`);
    } catch {
      /* in use, or already gone */
    }
  }
}

/** `debugfs -R 'rdump / DIR'`: copies the whole ext4 tree out without mounting it. */
async function extractRootfs(rootfs: string, dir: string, signal?: AbortSignal): Promise<void> {
  const r = await run('debugfs', ['-R', `rdump / ${dir}`, rootfs], signal);
  // debugfs exits 0 even when a command fails; its errors are on stderr.
  const errors = r.stderr.split('\n').filter((l) => l.trim() && !/^debugfs \d/.test(l));
  if (r.code !== 0 || errors.length)
    throw new ImageBuildError(
      `debugfs could not extract ${rootfs}: ${errors.slice(0, 5).join('\n') || `exit ${r.code}`}`,
    );
  if (!existsSync(join(dir, 'usr', 'bin')))
    throw new ImageBuildError(`debugfs extracted ${rootfs} but ${dir}/usr/bin is missing`);
  await restoreSpecialBits(rootfs, dir, signal);
}

/**
 * rdump keeps owners and the rwx bits but not setuid, setgid or sticky
 * (its chown after chmod clears them, and it never sets them). One more
 * debugfs pass lists every directory with `ls -p` (`/ino/mode/uid/gid/name/size/`)
 * and the bits are put back on the extracted files.
 */
async function restoreSpecialBits(rootfs: string, dir: string, signal?: AbortSignal): Promise<void> {
  const dirs = ['/'];
  for (let i = 0; i < dirs.length; i++) {
    const d = dirs[i]!;
    for (const e of await readdir(join(dir, d), { withFileTypes: true })) {
      if (e.isDirectory()) dirs.push(`${d === '/' ? '' : d}/${e.name}`);
    }
  }
  const listable = dirs.filter((d) => !/["\n\\]/.test(d));
  const cmdFile = join(dir, '..', `${dir.split('/').pop()}.debugfs-cmds`);
  await writeFile(cmdFile, listable.map((d) => `ls -p "${d}"\n`).join(''));
  try {
    const r = await run('debugfs', ['-f', cmdFile, rootfs], signal);
    for (const { path, mode } of specialModes(r.stdout)) {
      await chmod(join(dir, path), mode & 0o7777).catch(() => {});
    }
  } finally {
    await rm(cmdFile, { force: true });
  }
}

/**
 * Entries with setuid, setgid or sticky bits in the output of debugfs
 * `ls -p` commands (each echoed as `debugfs: ls -p "DIR"` before its lines).
 * Only regular files and directories.
 */
export function specialModes(out: string): Array<{ path: string; mode: number }> {
  const found: Array<{ path: string; mode: number }> = [];
  let cwd: string | undefined;
  for (const line of out.split('\n')) {
    const cmd = /^debugfs: ls -p "(.*)"$/.exec(line);
    if (cmd) {
      cwd = cmd[1]!;
      continue;
    }
    const m = /^\/(\d+)\/([0-7]+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
    if (!m || cwd === undefined) continue;
    const mode = parseInt(m[2]!, 8);
    const name = m[5]!;
    const type = mode & 0o170000;
    if (name === '.' || name === '..' || (mode & 0o7000) === 0) continue;
    if (type !== 0o100000 && type !== 0o040000) continue;
    found.push({ path: `${cwd === '/' ? '' : cwd}/${name}`, mode });
  }
  return found;
}

function run(
  cmd: string,
  args: string[],
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) =>
      reject(
        new ImageBuildError(
          `cannot run ${cmd}: ${e.message}${cmd === 'debugfs' ? ' (apt-get install e2fsprogs)' : ''}`,
        ),
      ),
    );
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(abortReason(signal));
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function exited(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('close', (code) => resolve(code ?? -1));
  });
}

function readAll(s: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let t = '';
    s.on('data', (d: Buffer | string) => (t += d.toString()));
    s.on('end', () => resolve(t));
    s.on('error', reject);
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError(String(signal.reason ?? 'signal'));
}
