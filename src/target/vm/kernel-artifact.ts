import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PrerequisiteError } from '../../errors.js';
import { assetPath } from '../../paths.js';
import { buildCached, cacheRoot, pruneCache, type ImageProgress, type RootfsImage, type VmImage } from './image.js';
import { mirrorFromApt } from './mirror.js';

/** manifest.json, written last by vm/build-kernel.sh. */
export interface KernelManifest {
  kernelRelease: string;
  /** "linux-image-6.12.107+deb13-amd64 6.12.107-1 (trixie)", or the bzImage's path. */
  source: string;
  initrdModules: string;
  builtAt: string;
  files: { kernel: string; initrd: string; vmlinux?: string; modules?: string; config?: string };
}

/** A bootable kernel: any of these boots any rootfs image. */
export interface KernelArtifact {
  id: string;
  dir: string;
  kernel: string;
  vmlinux?: string;
  initrd: string;
  modules?: string;
  config?: string;
  manifest: KernelManifest;
}

/** Where a kernel comes from: a Debian package of a suite, or the user's own build. */
export type KernelSource =
  | { kind: 'debian'; name: string; suite: string; package?: string }
  | { kind: 'file'; name: string; bzImage: string; modules?: string };

/**
 * The cache key: the build script and what it puts in the initramfs, plus
 * the source. A user's bzImage is keyed by its contents (and the modules
 * directory by its file list, sizes and times), so a rebuilt kernel at the
 * same path is a new artifact.
 */
export function kernelKey(src: KernelSource): string {
  const h = createHash('sha256');
  for (const rel of ['vm/build-kernel.sh', 'vm/lib.sh', 'vm/guest/initramfs-init']) {
    h.update(`${rel}\n`);
    h.update(readFileSync(assetPath(rel)));
  }
  if (src.kind === 'debian') {
    h.update(`debian ${src.suite} ${src.package ?? 'linux-image-amd64'}\n`);
  } else {
    h.update('file\n');
    h.update(readFileSync(src.bzImage));
    if (src.modules) h.update(listing(src.modules));
  }
  return h.digest('hex').slice(0, 12);
}

function listing(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p);
        out.push(`${p.slice(dir.length)} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.join('\n');
}

function kernelFromDir(id: string, dir: string): KernelArtifact | undefined {
  const mf = join(dir, 'manifest.json');
  if (!existsSync(mf)) return undefined;
  const manifest = JSON.parse(readFileSync(mf, 'utf8')) as KernelManifest;
  const f = manifest.files;
  return {
    id,
    dir,
    kernel: join(dir, f.kernel),
    initrd: join(dir, f.initrd),
    ...(f.vmlinux ? { vmlinux: join(dir, f.vmlinux) } : {}),
    ...(f.modules ? { modules: join(dir, f.modules) } : {}),
    ...(f.config ? { config: join(dir, f.config) } : {}),
    manifest,
  };
}

/** Returns the cached kernel artifact for src, building it first if needed (about 25 s for a Debian package). */
export async function ensureKernel(
  src: KernelSource,
  progress: ImageProgress,
  opts: { mirror?: string; signal?: AbortSignal; force?: boolean } = {},
): Promise<KernelArtifact> {
  const name = src.name.replace(/[^A-Za-z0-9.+_-]/g, '_');
  const id = `${name}-${kernelKey(src)}`;
  const root = join(cacheRoot(), 'kernels');
  const dir = join(root, id);
  if (!opts.force) {
    const hit = kernelFromDir(id, dir);
    if (hit) return hit;
  }
  const args: string[] = [];
  if (src.kind === 'debian') {
    if (process.getuid?.() !== 0) {
      throw new PrerequisiteError(
        `the kernel ${src.name} is not in the cache yet, and fetching it needs root (apt-get download)`,
        {
          hint: `run \`sudo ./mountlab image build --kernel ${src.name}\` once; later runs use the cache`,
        },
      );
    }
    args.push(
      '--suite',
      src.suite,
      '--mirror',
      opts.mirror ?? mirrorFromApt(),
      ...(src.package ? ['--package', src.package] : []),
    );
  } else {
    args.push('--bzimage', src.bzImage, ...(src.modules ? ['--modules', src.modules] : []));
  }
  const started = Date.now();
  const { value: k, built } = await buildCached({
    dir,
    force: opts.force ?? false,
    read: () => kernelFromDir(id, dir),
    script: 'build-kernel.sh',
    args: (out) => ['--out', out, ...args],
    announce:
      `preparing kernel ${src.name} (${src.kind === 'debian' ? `Debian ${src.suite}` : src.bzImage}); ` +
      `cached in ${dir}`,
    progress,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (!built) return k;
  progress(`kernel ${k.manifest.kernelRelease} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const pruned = await pruneCache(root, name, id);
  if (pruned.length)
    progress(`removed ${pruned.length} older build(s) of kernel ${src.name} from the cache: ${pruned.join(', ')}`);
  return k;
}

/**
 * The boot set of one VM: this kernel with this rootfs, and a user's criu
 * in place of the rootfs's when given.
 */
export function composeGuest(
  rootfs: RootfsImage,
  kernel: KernelArtifact,
  criu?: { id: string; disk: string; version: string },
): VmImage {
  return {
    id: `${rootfs.id}+${kernel.id}${criu ? `+${criu.id}` : ''}`,
    kernel: kernel.kernel,
    ...(kernel.vmlinux ? { vmlinux: kernel.vmlinux } : {}),
    initrd: kernel.initrd,
    ...(kernel.modules ? { modules: kernel.modules } : {}),
    rootfs: rootfs.rootfs,
    ...(criu ? { criuDisk: criu.disk } : {}),
    manifest: {
      suite: rootfs.manifest.suite,
      kernelRelease: kernel.manifest.kernelRelease,
      criuVersion: criu ? criu.version : rootfs.manifest.criuVersion,
      ...(rootfs.manifest.utilLinuxVersion ? { utilLinuxVersion: rootfs.manifest.utilLinuxVersion } : {}),
      hostKey: rootfs.manifest.hostKey,
    },
  };
}
