/**
 * Reading a kernel image (a bzImage, or an uncompressed vmlinux): its
 * release, and the configuration embedded in it with CONFIG_IKCONFIG, the
 * gzip blob between the markers `IKCFG_ST` and `IKCFG_ED`. In a bzImage it
 * is inside the compressed payload (gzip with node's zlib; xz, zstd, lz4,
 * bzip2, lzma, lzo with the host's commands); in a vmlinux it is there as is.
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { BadInputError } from '../../errors.js';

const BZ_HDR_MAGIC = 0x202; // "HdrS"
const BZ_VERSION = 0x206; // boot protocol version, u16
const BZ_SETUP_SECTS = 0x1f1;
const BZ_KERNEL_VERSION = 0x20e; // u16 pointer to the version string, minus 0x200
const BZ_PAYLOAD_OFFSET = 0x248; // u32, from the start of the protected-mode code (2.08+)
const BZ_PAYLOAD_LENGTH = 0x24c;

function isBzImage(b: Buffer): boolean {
  return b.length > 0x260 && b.toString('latin1', BZ_HDR_MAGIC, BZ_HDR_MAGIC + 4) === 'HdrS';
}

/** Where the bzImage's protected-mode code starts (setup sectors + the boot sector). */
function protectedModeStart(b: Buffer): number {
  return ((b[BZ_SETUP_SECTS] || 4) + 1) * 512;
}

/**
 * The kernel version string of an image: the bzImage header's pointer at
 * 0x20E (x86 boot protocol), or for an uncompressed vmlinux the
 * `Linux version ...` banner. E.g. `6.1.192-mountlab (root@host) #1 SMP ...`.
 */
export function kernelVersionString(image: Buffer): string | undefined {
  if (isBzImage(image)) {
    const ptr = image.readUInt16LE(BZ_KERNEL_VERSION);
    if (ptr !== 0) {
      const start = ptr + 0x200;
      const end = image.indexOf(0, start);
      if (start < image.length && end > start) return image.toString('latin1', start, Math.min(end, start + 512));
    }
    return undefined;
  }
  const at = image.indexOf('Linux version ');
  if (at < 0) return undefined;
  const end = image.indexOf(0, at);
  const s = image.toString('latin1', at + 'Linux version '.length, end < 0 ? at + 512 : Math.min(end, at + 512));
  return /^\d+\.\d+/.test(s) ? s.trim() : undefined;
}

/**
 * The release (`uname -r`) of a kernel image, e.g. `6.1.192-mountlab`: what
 * `--modules DIR/lib/modules/<release>` must match. Undefined when the file
 * carries no version string (not a kernel, or a very old one).
 */
export async function kernelRelease(imagePath: string): Promise<string | undefined> {
  // A bzImage's version string is in its setup code (at most 64 sectors):
  // the first 64 KiB do. A vmlinux needs a search of the whole file.
  let head: Buffer;
  try {
    const fh = await open(imagePath, 'r');
    try {
      head = Buffer.alloc(64 * 1024);
      head = head.subarray(0, (await fh.read(head, 0, head.length, 0)).bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    head = await readImage(imagePath); // throws the BadInputError
  }
  const v = kernelVersionString(isBzImage(head) ? head : await readImage(imagePath));
  return v?.split(/\s/)[0] || undefined;
}

/** The whole image; an unreadable one is the user's --kernel, a BadInputError. */
export async function readImage(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new BadInputError([
      {
        file: '--kernel',
        line: 1,
        col: 1,
        path: '',
        message: `cannot read the kernel image ${path}: ${(e as Error).message}`,
      },
    ]);
  }
}

/** The compressed payload formats a bzImage can carry, by magic. */
export type Compression = 'gzip' | 'xz' | 'zstd' | 'lz4' | 'bzip2' | 'lzma' | 'lzo';

const MAGICS: { kind: Compression; magic: Buffer }[] = [
  { kind: 'gzip', magic: Buffer.from([0x1f, 0x8b, 0x08]) },
  { kind: 'xz', magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) },
  { kind: 'zstd', magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]) },
  { kind: 'lz4', magic: Buffer.from([0x02, 0x21, 0x4c, 0x18]) }, // the kernel's (legacy) lz4 frame
  { kind: 'bzip2', magic: Buffer.from('BZh', 'latin1') },
  { kind: 'lzma', magic: Buffer.from([0x5d, 0x00, 0x00]) },
  { kind: 'lzo', magic: Buffer.from([0x89, 0x4c, 0x5a, 0x4f]) },
];

/** The host command that decompresses each format to stdout, and its Debian package. */
const DECOMPRESSORS: Record<Exclude<Compression, 'gzip'>, { argv: string[]; pkg: string }> = {
  xz: { argv: ['xz', '-dcq'], pkg: 'xz-utils' },
  lzma: { argv: ['xz', '--format=lzma', '-dcq'], pkg: 'xz-utils' },
  zstd: { argv: ['zstd', '-dcq'], pkg: 'zstd' },
  lz4: { argv: ['lz4', '-dcq'], pkg: 'lz4' },
  bzip2: { argv: ['bzip2', '-dcq'], pkg: 'bzip2' },
  lzo: { argv: ['lzop', '-dcq'], pkg: 'lzop' },
};

function compressionOf(b: Buffer, at = 0): Compression | undefined {
  for (const { kind, magic } of MAGICS) {
    if (b.length >= at + magic.length && b.subarray(at, at + magic.length).equals(magic)) return kind;
  }
  return undefined;
}

/** Candidate payloads: the bzImage header's exact one, else every magic found (first few of each). */
function payloads(image: Buffer): { kind: Compression; data: Buffer }[] {
  if (isBzImage(image) && image.readUInt16LE(BZ_VERSION) >= 0x208) {
    const start = protectedModeStart(image) + image.readUInt32LE(BZ_PAYLOAD_OFFSET);
    const len = image.readUInt32LE(BZ_PAYLOAD_LENGTH);
    const kind = compressionOf(image, start);
    if (kind && len > 0 && start + len <= image.length) return [{ kind, data: image.subarray(start, start + len) }];
  }
  const found: { kind: Compression; data: Buffer; at: number }[] = [];
  for (const { kind, magic } of MAGICS) {
    // lzma's and bzip2's magics are short and common: only gzip, xz, zstd,
    // lz4 and lzo are scanned for outside a bzImage header.
    if (kind === 'lzma' || kind === 'bzip2') continue;
    let at = image.indexOf(magic);
    for (let n = 0; at >= 0 && n < 4; n++, at = image.indexOf(magic, at + 1))
      found.push({ kind, data: image.subarray(at), at });
  }
  return found.sort((a, b) => a.at - b.at).map(({ kind, data }) => ({ kind, data }));
}

/** The image's payload is compressed with a format this host has no command for. */
export class MissingDecompressor extends Error {
  constructor(
    readonly kind: Compression,
    readonly command: string,
    readonly pkg: string,
  ) {
    super(`the kernel is ${kind}-compressed and '${command}' is not installed (Debian package: ${pkg})`);
  }
}

const MAX_DECOMPRESSED = 512 * 1024 * 1024;

/** Decompresses a payload; trailing garbage is tolerated (stdout is kept even if the tool complains). */
async function decompress(kind: Compression, data: Buffer): Promise<Buffer> {
  if (kind === 'gzip') {
    try {
      return gunzipSync(data, {
        maxOutputLength: MAX_DECOMPRESSED,
        finishFlush: zlibConstants.Z_SYNC_FLUSH /* a truncated stream gives what it has */,
      });
    } catch {
      return Buffer.alloc(0);
    }
  }
  const { argv, pkg } = DECOMPRESSORS[kind];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new MissingDecompressor(kind, argv[0]!, pkg));
      else reject(e);
    });
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_DECOMPRESSED) child.kill('SIGKILL');
      else chunks.push(d);
    });
    child.on('close', () => resolve(Buffer.concat(chunks)));
    child.stdin.on('error', () => {}); // EPIPE when the tool stops at the end of its stream
    child.stdin.end(data);
  });
}

const IKCFG_ST = Buffer.from('IKCFG_ST', 'latin1');
const IKCFG_ED = Buffer.from('IKCFG_ED', 'latin1');

/** The configuration text embedded with CONFIG_IKCONFIG in an uncompressed kernel, if any. */
export function extractIkconfig(kernel: Buffer): string | undefined {
  let st = kernel.indexOf(IKCFG_ST);
  while (st >= 0) {
    const from = st + IKCFG_ST.length;
    const ed = kernel.indexOf(IKCFG_ED, from);
    if (ed < 0) return undefined;
    if (compressionOf(kernel, from) === 'gzip') {
      try {
        return gunzipSync(kernel.subarray(from, ed)).toString('utf8');
      } catch {
        // Not the blob (the marker strings also occur in code): keep looking.
      }
    }
    st = kernel.indexOf(IKCFG_ST, from);
  }
  return undefined;
}

/** The configuration embedded in an image, and how its kernel was compressed ('none': a vmlinux). */
export interface EmbeddedConfig {
  text: string;
  compression: Compression | 'none';
}

/**
 * The configuration embedded in a kernel image (bzImage or vmlinux) with
 * CONFIG_IKCONFIG; undefined when it has none. Throws MissingDecompressor
 * when none was found and a payload could not be decompressed on this host.
 */
export async function embeddedConfig(image: Buffer): Promise<EmbeddedConfig | undefined> {
  const direct = extractIkconfig(image);
  if (direct !== undefined) return { text: direct, compression: 'none' };
  let missingTool: MissingDecompressor | undefined;
  for (const { kind, data } of payloads(image)) {
    let kernel: Buffer;
    try {
      kernel = await decompress(kind, data);
    } catch (e) {
      if (e instanceof MissingDecompressor) {
        missingTool ??= e;
        continue;
      }
      throw e;
    }
    const text = extractIkconfig(kernel);
    if (text !== undefined) return { text, compression: kind };
    // Found and decompressed the kernel, and it has no IKCONFIG: stop.
    if (kernel.length > 1024 * 1024) break;
  }
  if (missingTool) throw missingTool;
  return undefined;
}
