import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CriuBuildError, ImageBuildError, PrerequisiteError } from '../errors.js';
import { assetPath } from '../paths.js';
import { buildCached, cacheRoot, pruneCache, type ImageProgress, type RootfsImage } from '../target/vm/image.js';
import { mirrorFromApt } from '../target/vm/mirror.js';
import { firstCompilerError } from './compile-error.js';
import { elfProblems, readElf } from './elf-check.js';
import { rootfsLibs } from './rootfs-libs.js';
import { buildLabel, type TreeIdentity } from './tree-identity.js';
import type { CriuOrigin } from '../results/result.js';

/** manifest.json of a criu disk, written last by vm/build-criu.sh. */
export interface CriuBuildManifest {
  /** `criu --version`'s Version, run where it was built. */
  version: string;
  binaryBytes: number;
  builtAt: string;
  files: { disk: string };
}

/** Where a user's criu came from: the results contract's type, as results.json records it. */
export type { CriuOrigin };

/** A user's criu, packed as the small disk the guest's initramfs binds over /usr/sbin/criu. */
export interface CriuBuild {
  id: string;
  /** What cell ids call it: v4.2-1-gc88aa2a9e, 4.2.1-29ec0ee, bin-1a2b3c4. */
  label: string;
  disk: string;
  manifest: CriuBuildManifest;
  origin: CriuOrigin;
}

function scriptsHash(h: ReturnType<typeof createHash>, scripts: string[]): void {
  for (const rel of [...scripts, 'vm/lib.sh']) {
    h.update(`${rel}\n`);
    h.update(readFileSync(assetPath(rel)));
  }
}

/** The build root's cache key: its script (which names the packages) and the suite. */
export function buildRootKey(suite: string): string {
  const h = createHash('sha256');
  h.update(`suite=${suite}\n`);
  scriptsHash(h, ['vm/build-criu-root.sh']);
  return h.digest('hex').slice(0, 12);
}

/**
 * A build's cache key: the tree's content key, the build root it compiles
 * in and the script; so an unchanged tree costs nothing and any edit, or
 * a new build root, builds again.
 */
export function criuBuildKey(treeKey: string, buildRootId: string): string {
  const h = createHash('sha256');
  h.update(`tree=${treeKey}\nroot=${buildRootId}\n`);
  scriptsHash(h, ['vm/build-criu.sh']);
  return h.digest('hex').slice(0, 12);
}

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9.+_-]/g, '_');

export interface BuildOptions {
  suite: string;
  mirror?: string;
  progress: ImageProgress;
  signal?: AbortSignal;
}

/** The suite's build root (debootstrap + criu's build dependencies), built once: a few minutes. */
export async function ensureBuildRoot(o: BuildOptions): Promise<{ id: string; dir: string }> {
  const id = `${o.suite}-${buildRootKey(o.suite)}`;
  const root = join(cacheRoot(), 'criu-roots');
  const dir = join(root, id);
  const read = () => (readJson(join(dir, 'manifest.json')) ? { id, dir } : undefined);
  const hit = read();
  if (hit) return hit;
  if (process.getuid?.() !== 0) {
    throw new PrerequisiteError(
      `building a CRIU tree needs the ${o.suite} build root, which is not built yet, ` +
        'and building it needs root (debootstrap)',
      {
        hint: 'run mountlab as root once; later runs use the cache',
      },
    );
  }
  const mirror = o.mirror ?? mirrorFromApt();
  const started = Date.now();
  const { value, built } = await buildCached({
    dir,
    force: false,
    read,
    script: 'build-criu-root.sh',
    args: (out) => ['--suite', o.suite, '--mirror', mirror, '--out', out],
    announce:
      `building the ${o.suite} build root for CRIU trees (debootstrap with criu's build dependencies); ` +
      `once, cached in ${dir}`,
    progress: o.progress,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (built) {
    o.progress(`build root ${id} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await pruneCache(root, o.suite, id);
  }
  return value;
}

function buildFromDir(id: string, dir: string, label: string, origin: CriuOrigin): CriuBuild | undefined {
  const manifest = readJson<CriuBuildManifest>(join(dir, 'manifest.json'));
  return manifest ? { id, label, disk: join(dir, manifest.files.disk), manifest, origin } : undefined;
}

/**
 * The tree's criu, compiled for the guest's suite and packed as a disk;
 * cached by the tree's content. A tree that does not compile is refused
 * with the compiler's first error and the log's path (CriuBuildError).
 */
export async function ensureCriuBuild(tree: TreeIdentity, o: BuildOptions): Promise<CriuBuild> {
  const label = buildLabel(tree);
  const broot = await ensureBuildRoot(o);
  const key = criuBuildKey(tree.key, broot.id);
  // Named by the tree's directory, not by its describe: each commit or edit
  // of one checkout replaces an older build of it (two are kept).
  const name = safeName(basename(tree.path));
  const id = `${name}-${key}`;
  const root = join(cacheRoot(), 'criu-builds');
  const dir = join(root, id);
  const origin: CriuOrigin = {
    kind: tree.kind,
    path: tree.path,
    ...(tree.commit ? { commit: tree.commit } : {}),
    describe: tree.describe,
    dirty: tree.dirty,
    build: id,
  };
  const hit = buildFromDir(id, dir, label, origin);
  if (hit) return hit;
  const log = join(root, `${id}.log`);
  const list = join(root, `${id}.files`);
  await mkdir(root, { recursive: true });
  await writeFile(list, tree.files.map((f) => `${f}\0`).join(''));
  const started = Date.now();
  try {
    const { value, built } = await buildCached({
      dir,
      force: false,
      read: () => buildFromDir(id, dir, label, origin),
      script: 'build-criu.sh',
      args: (out) => [
        '--source',
        tree.path,
        '--files',
        list,
        '--root',
        broot.dir,
        '--gitid',
        gitId(tree),
        '--log',
        log,
        '--out',
        out,
      ],
      announce: `building criu ${label} from ${tree.path} for ${o.suite}; cached in ${dir}`,
      progress: o.progress,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (built) {
      o.progress(`criu ${label} (${value.manifest.version}) built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      for (const old of await pruneCache(root, name, id)) await rm(join(root, `${old}.log`), { force: true });
    }
    return value;
  } catch (e) {
    if (e instanceof ImageBuildError && e.scriptExit === 3) {
      const text = await readFile(log, 'utf8').catch(() => '');
      const first = firstCompilerError(text) ?? text.trim().split('\n').slice(-10).join('\n');
      throw new CriuBuildError(
        `the CRIU tree ${tree.path} (${tree.describe}) does not compile:\n${first}\nbuild log: ${log}`,
        {
          hint: 'fix the tree and run again; nothing was booted',
        },
      );
    }
    throw e;
  } finally {
    await rm(list, { force: true });
  }
}

/** What `criu --version` says as GitID: the describe, or the tarball's version and hash. */
function gitId(tree: TreeIdentity): string {
  return safeName(buildLabel(tree));
}

/**
 * A prebuilt criu, accepted only when its ELF headers say it will run on
 * that rootfs (interpreter, libraries, glibc version); packed as a disk,
 * cached by its content.
 */
export async function ensureCriuBinary(path: string, rootfs: RootfsImage, o: BuildOptions): Promise<CriuBuild> {
  const needs = readElf(path);
  const source = 'pass the CRIU source tree instead (--criu DIR): mountlab builds it for the guest';
  if (!needs) throw new CriuBuildError(`${path} is not an ELF executable`, { hint: source });
  const problems = elfProblems(needs, rootfsLibs(rootfs.rootfs));
  if (problems.length) {
    throw new CriuBuildError(
      `${path} will not run in the guest (${rootfs.manifest.suite} rootfs): ${problems.join('; ')}`,
      { hint: source },
    );
  }
  const h = createHash('sha256');
  h.update(readFileSync(path));
  scriptsHash(h, ['vm/build-criu.sh']);
  const key = h.digest('hex').slice(0, 12);
  const label = `bin-${key.slice(0, 7)}`;
  const id = `bin-${key}`;
  const root = join(cacheRoot(), 'criu-builds');
  const dir = join(root, id);
  const origin: CriuOrigin = { kind: 'binary', path, build: id };
  const hit = buildFromDir(id, dir, label, origin);
  if (hit) return hit;
  const { value, built } = await buildCached({
    dir,
    force: false,
    read: () => buildFromDir(id, dir, label, origin),
    script: 'build-criu.sh',
    args: (out) => ['--binary', path, '--out', out],
    announce: `packing ${path} (${(statSync(path).size / 1048576).toFixed(1)} MiB) as a criu disk`,
    progress: o.progress,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (built) await pruneCache(root, 'bin', id);
  return value;
}
