/**
 * A kernel's configuration: the `.config` format, and where the one of a
 * user's kernel (`--kernel PATH/bzImage`) is found, in this order:
 *   1. `configFile` (the `--kernel-config FILE` flag);
 *   2. a file beside the image: `<image>.config`, `config-<release>`,
 *      `config`, `.config` (a build tree's bzImage, Debian's /boot layout,
 *      the output of vm/kernel/build-from-source.sh);
 *   3. embedded in the image (CONFIG_IKCONFIG, read by kernel-image.ts).
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BadInputError, PrerequisiteError } from '../../errors.js';
import { isFile } from '../../paths.js';
import {
  MissingDecompressor,
  embeddedConfig,
  kernelVersionString,
  readImage,
  type Compression,
  type EmbeddedConfig,
} from './kernel-image.js';

/** One `CONFIG_X=value` line: value as written ('y', 'm', '"text"', '42'). */
export interface KernelOption {
  value: string;
  /** 1-based line in the configuration text. */
  line: number;
}

/** A parsed .config: set options, plus the lines that say `# CONFIG_X is not set`. */
export interface ParsedKernelConfig {
  /** Set options by full name (`CONFIG_VIRTIO_MMIO`). */
  options: Map<string, KernelOption>;
  /** Options the file explicitly leaves unset, with their line. */
  unset: Map<string, number>;
  /** The kernel version in the header (`# Linux/x86 6.1.192 Kernel Configuration`), if any. */
  version: string | undefined;
}

export function parseKernelConfig(text: string): ParsedKernelConfig {
  const options = new Map<string, KernelOption>();
  const unset = new Map<string, number>();
  let version: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    let m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(l);
    if (m) {
      options.set(m[1]!, { value: m[2]!, line: i + 1 });
      unset.delete(m[1]!);
      continue;
    }
    m = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(l);
    if (m) {
      if (!options.has(m[1]!)) unset.set(m[1]!, i + 1);
      continue;
    }
    m = /^# Linux\/\S+ (\d+\.\d+(?:\.\d+)?\S*) Kernel Configuration$/.exec(l);
    if (m && version === undefined) version = m[1];
  }
  return { options, unset, version };
}

export type KernelConfigSource =
  | { kind: 'file'; path: string }
  | { kind: 'embedded'; image: string; compression: Compression | 'none' };

export interface KernelConfig extends ParsedKernelConfig {
  source: KernelConfigSource;
  /** The image's release (`uname -r`), when its header says. */
  release: string | undefined;
}

export interface ReadKernelConfigOptions {
  /** `--kernel-config FILE`: used as is, nothing else is looked at. */
  configFile?: string;
}

/** `describe(source)`: "/boot/config-6.1.0-13-amd64" or "embedded in bzImage (zstd)". */
export function describeConfigSource(s: KernelConfigSource): string {
  return s.kind === 'file'
    ? s.path
    : `embedded in ${s.image} (CONFIG_IKCONFIG${s.compression === 'none' ? '' : `, ${s.compression} payload`})`;
}

/** Files beside the image that may hold its configuration, most specific first. */
async function configFilesBeside(imagePath: string, release: string | undefined): Promise<string[]> {
  const dir = dirname(imagePath);
  const names = [`${basename(imagePath)}.config`];
  if (release) names.push(`config-${release}`);
  names.push('config', '.config');
  if (!release) {
    // No release to match: a single config-* beside it is taken.
    const cs = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('config-'));
    if (cs.length === 1) names.push(cs[0]!);
  }
  const out: string[] = [];
  for (const n of names) if (await isFile(join(dir, n))) out.push(join(dir, n));
  return out;
}

/** A generic name (`config`, `.config`) whose header names another kernel version than the image's. */
function versionMismatch(parsed: ParsedKernelConfig, release: string | undefined): boolean {
  if (!release || !parsed.version) return false;
  const base = (v: string) => /^\d+\.\d+(\.\d+)?/.exec(v)?.[0];
  return base(parsed.version) !== base(release);
}

export const KERNEL_CONFIG_HINT =
  'give mountlab the kernel configuration: build the kernel with CONFIG_IKCONFIG=y (embedded), ' +
  'or put its .config beside the image (as config-<release>, config, .config or <image>.config), ' +
  'or pass --kernel-config FILE';

/**
 * Finds and parses the configuration of the kernel image at `imagePath`
 * (bzImage or vmlinux). Throws BadInputError (exit 2) when there is none,
 * saying how to provide one, and PrerequisiteError when the embedded one is
 * behind a compression this host has no command for.
 */
export async function readKernelConfig(imagePath: string, opts: ReadKernelConfigOptions = {}): Promise<KernelConfig> {
  const image = await readImage(imagePath);
  const release = kernelVersionString(image)?.split(/\s/)[0] || undefined;

  if (opts.configFile !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.configFile, 'utf8');
    } catch (e) {
      throw new BadInputError([
        {
          file: '--kernel-config',
          line: 1,
          col: 1,
          path: '',
          message: `cannot read ${opts.configFile}: ${(e as Error).message}`,
        },
      ]);
    }
    const parsed = parseKernelConfig(text);
    if (parsed.options.size === 0) {
      throw new BadInputError([
        {
          file: opts.configFile,
          line: 1,
          col: 1,
          path: '',
          message: 'not a kernel configuration: no CONFIG_...= line',
        },
      ]);
    }
    return { ...parsed, source: { kind: 'file', path: opts.configFile }, release };
  }

  const skipped: string[] = [];
  for (const path of await configFilesBeside(imagePath, release)) {
    const parsed = parseKernelConfig(await readFile(path, 'utf8'));
    if (parsed.options.size === 0) {
      skipped.push(`${path} (no CONFIG_ lines)`);
      continue;
    }
    if (versionMismatch(parsed, release) && !basename(path).startsWith('config-')) {
      skipped.push(`${path} (for Linux ${parsed.version}, the image is ${release})`);
      continue;
    }
    return { ...parsed, source: { kind: 'file', path }, release };
  }

  let embedded: EmbeddedConfig | undefined;
  let missingTool: MissingDecompressor | undefined;
  try {
    embedded = await embeddedConfig(image);
  } catch (e) {
    if (!(e instanceof MissingDecompressor)) throw e;
    missingTool = e;
  }
  if (embedded)
    return {
      ...parseKernelConfig(embedded.text),
      source: { kind: 'embedded', image: imagePath, compression: embedded.compression },
      release,
    };

  const notes = skipped.length ? ` (ignored: ${skipped.join('; ')})` : '';
  if (missingTool) {
    const ways = KERNEL_CONFIG_HINT.replace(/^give mountlab the kernel configuration: /, '');
    throw new PrerequisiteError(
      `cannot look for the configuration embedded in ${imagePath}: ${missingTool.message}${notes}`,
      {
        hint: `install ${missingTool.pkg}, or ${ways}`,
      },
    );
  }
  throw new BadInputError(
    [
      {
        file: '--kernel',
        line: 1,
        col: 1,
        path: '',
        message:
          `no configuration found for the kernel ${imagePath}${release ? ` (${release})` : ''}: ` +
          `none beside it and none embedded${notes}`,
      },
    ],
    KERNEL_CONFIG_HINT,
  );
}
