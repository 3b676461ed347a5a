import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rm, rename, writeFile, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pidAlive } from '../pid-alive.js';
import { ImageBuildError, PrerequisiteError, InterruptedError } from '../../errors.js';
import { assetPath } from '../../paths.js';
import { mirrorFromApt } from './mirror.js';

/** manifest.json, written last by vm/build-image.sh: its presence marks a complete rootfs image. */
export interface RootfsManifest {
  suite: string;
  criuVersion: string;
  utilLinuxVersion?: string;
  hostKey: string;
  builtAt: string;
  files: { rootfs: string };
}

/** A guest's userland: criu, util-linux, sshd and the lab's helper, from one Debian suite. */
export interface RootfsImage {
  /** "<suite>-<hash>". */
  id: string;
  dir: string;
  rootfs: string;
  manifest: RootfsManifest;
}

/**
 * What one VM boots: a kernel artifact (kernel-artifact.ts) and a rootfs
 * image, which combine freely, so a kernel x criu matrix needs no image per
 * pair.
 */
export interface VmImage {
  /** "<rootfs id>+<kernel id>", recorded in results. */
  id: string;
  kernel: string;
  /** Uncompressed kernel, when the artifact has one: boots faster on microvm. */
  vmlinux?: string;
  initrd: string;
  /** The kernel's modules disk, mounted on /usr/lib/modules in the guest. */
  modules?: string;
  /** A user's criu (src/criu/criu-build.ts) on a disk of its own, bound over the rootfs's criu. */
  criuDisk?: string;
  rootfs: string;
  manifest: { suite: string; kernelRelease: string; criuVersion: string; utilLinuxVersion?: string; hostKey: string };
}

export interface ImageSpec {
  suite: string;
  mirror?: string;
}

export function cacheRoot(): string {
  return process.env.MOUNTLAB_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mountlab');
}

/**
 * The cache key: the suite plus every file that goes into the rootfs. The
 * mirror is not part of it: any mirror of a suite gives the same image.
 */
export function imageKey(spec: ImageSpec): string {
  const h = createHash('sha256');
  h.update(`suite=${spec.suite}\n`);
  const inputs = [
    'vm/build-image.sh',
    'vm/lib.sh',
    'vm/guest/init',
    'vm/guest/sshd_config',
    ...readdirSync(assetPath('vm', 'helper'))
      .sort()
      .map((f) => `vm/helper/${f}`),
  ];
  for (const rel of inputs) {
    h.update(`${rel}\n`);
    h.update(readFileSync(assetPath(rel)));
  }
  return h.digest('hex').slice(0, 12);
}

function imageFromDir(id: string, dir: string): RootfsImage | undefined {
  const mf = join(dir, 'manifest.json');
  if (!existsSync(mf)) return undefined;
  const manifest = JSON.parse(readFileSync(mf, 'utf8')) as RootfsManifest;
  // An image from before the kernel/rootfs split carries a kernel and no
  // files.rootfs of the new shape; it is simply not ours any more.
  if (!manifest.files?.rootfs) return undefined;
  return { id, dir, rootfs: join(dir, manifest.files.rootfs), manifest };
}

export function cachedImage(spec: ImageSpec): RootfsImage | undefined {
  const id = `${spec.suite}-${imageKey(spec)}`;
  return imageFromDir(id, join(cacheRoot(), 'images', id));
}

export type ImageProgress = (line: string) => void;

/** Returns the cached image for spec, building it first if needed. */
export async function ensureImage(
  spec: ImageSpec,
  progress: ImageProgress,
  signal?: AbortSignal,
  force = false,
): Promise<RootfsImage> {
  const id = `${spec.suite}-${imageKey(spec)}`;
  const dir = join(cacheRoot(), 'images', id);
  if (!force) {
    const hit = imageFromDir(id, dir);
    if (hit) return hit;
  }
  if (process.getuid?.() !== 0) {
    throw new PrerequisiteError(`the VM image ${id} is not built yet, and building it needs root (debootstrap)`, {
      hint: 'run `sudo ./mountlab image build` once; later runs use the cache',
    });
  }
  const mirror = spec.mirror ?? mirrorFromApt();
  const started = Date.now();
  const { value: img, built } = await buildCached({
    dir,
    force,
    read: () => imageFromDir(id, dir),
    script: 'build-image.sh',
    args: (out) => ['--suite', spec.suite, '--mirror', mirror, '--out', out],
    announce: `building VM image ${id} (Debian ${spec.suite}); this takes a few minutes once and is cached in ${dir}`,
    progress,
    ...(signal ? { signal } : {}),
  });
  if (!built) return img;
  progress(
    `image ${id} built in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      `criu ${img.manifest.criuVersion}, util-linux ${img.manifest.utilLinuxVersion ?? '?'}`,
  );
  const pruned = await pruneImages(spec.suite, id);
  if (pruned.length)
    progress(`removed ${pruned.length} older ${spec.suite} image(s) from the cache: ${pruned.join(', ')}`);
  return img;
}

/**
 * Builds a cache entry once, whoever else is building: under a lock on DIR,
 * looks again (another process may have built it while we waited), runs
 * vm/SCRIPT into a staging directory and renames it into place, so DIR is
 * either absent or complete. `read` turns DIR into the entry (undefined
 * while it has no manifest). `built` is false when the entry was found.
 */
export async function buildCached<T>(o: {
  dir: string;
  force: boolean;
  read: () => T | undefined;
  script: string;
  args: (out: string) => string[];
  announce: string;
  progress: ImageProgress;
  signal?: AbortSignal;
}): Promise<{ value: T; built: boolean }> {
  await mkdir(dirname(o.dir), { recursive: true });
  await using _lock = await lockDir(`${o.dir}.lock`);
  if (!o.force) {
    const hit = o.read();
    if (hit) return { value: hit, built: false };
  }
  const staging = `${o.dir}.staging-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  o.progress(o.announce);
  try {
    await runBuild(o.script, o.args(staging), o.progress, o.signal);
    await rm(o.dir, { recursive: true, force: true });
    await rename(staging, o.dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const value = o.read();
  if (!value) throw new ImageBuildError(`vm/${o.script} finished but ${o.dir}/manifest.json is missing`);
  return { value, built: true };
}

/** Artifacts kept per name: the one just built and the one before it (another checkout may still use it). */
export const IMAGES_KEPT_PER_SUITE = 2;

/**
 * Every change to vm/ makes a new image (some 300 MB) or kernel (some 150
 * MB); without this the cache grows with each edit. In `root`, removes the
 * older complete artifacts named NAME-<hash> beyond IMAGES_KEPT_PER_SUITE,
 * never `keep` and never one being built (a lock dir exists). A VM running
 * from a removed artifact is unaffected: qemu holds its files open.
 */
export async function pruneCache(root: string, name: string, keep: string): Promise<string[]> {
  const entries = readdirSync(root, { withFileTypes: true });
  const names = new Set(entries.map((e) => e.name));
  const mine = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]{12}$`);
  const builtAt = (dir: string): string | undefined => {
    try {
      return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { builtAt?: string }).builtAt;
    } catch {
      return undefined; // half-built or foreign: not ours to judge
    }
  };
  const candidates = entries
    .filter((e) => e.isDirectory() && mine.test(e.name) && e.name !== keep && !names.has(`${e.name}.lock`))
    .map((e) => ({ id: e.name, at: builtAt(join(root, e.name)) }))
    .filter((c): c is { id: string; at: string } => c.at !== undefined)
    .sort((a, b) => (a.at < b.at ? 1 : -1));
  const removed: string[] = [];
  for (const c of candidates.slice(IMAGES_KEPT_PER_SUITE - 1)) {
    await rm(join(root, c.id), { recursive: true, force: true });
    removed.push(c.id);
  }
  return removed;
}

/** pruneCache for rootfs images of a suite. */
export function pruneImages(suite: string, keep: string, root = join(cacheRoot(), 'images')): Promise<string[]> {
  return pruneCache(root, suite, keep);
}

/** Runs vm/SCRIPT, showing its tagged progress lines; rejects with the tail of its output. */
function runBuild(script: string, args: string[], progress: ImageProgress, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [assetPath('vm', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      const tagged = line.match(/^\[mountlab-(?:image|kernel|criu)\]\s*(.*)$/);
      if (tagged) progress(tagged[1]!);
    };
    let buf = '';
    const feed = (d: Buffer) => {
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(new ImageBuildError(`cannot run vm/${script}: ${e.message}`)));
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      // The abort reason is already the InterruptedError naming the signal.
      if (signal?.aborted)
        return reject(
          signal.reason instanceof Error ? signal.reason : new InterruptedError(String(signal.reason ?? 'signal')),
        );
      if (code === 0) return resolve();
      reject(
        new ImageBuildError(
          `vm/${script} failed (${sig ?? `exit ${code}`}); last output:\n${tail.join('\n')}`,
          code === null ? {} : { scriptExit: code },
        ),
      );
    });
  });
}

/** A directory lock with the owner's pid, so a lock left by a killed build is taken over. */
async function lockDir(path: string): Promise<AsyncDisposable> {
  for (let i = 0; ; i++) {
    try {
      await mkdir(path);
      await writeFile(join(path, 'pid'), String(process.pid));
      return { [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(await readFile(join(path, 'pid'), 'utf8').catch(() => '0'));
      if (!owner || !pidAlive(owner)) {
        await rm(path, { recursive: true, force: true });
        continue;
      }
      if (i % 30 === 0) process.stderr.write(`waiting for another image build (pid ${owner})...\n`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
