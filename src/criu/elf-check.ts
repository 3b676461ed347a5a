import { execFileSync } from 'node:child_process';
import { compareVersions, parseVersion } from '../versions.js';

/** What a dynamic executable asks of the system it runs on. */
export interface ElfNeeds {
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; absent for a static binary. */
  interpreter?: string;
  /** DT_NEEDED sonames. */
  needed: string[];
  /** The highest GLIBC_x.y symbol version it needs, e.g. "2.38". */
  glibc?: string;
  /** e.g. "Advanced Micro Devices X86-64". */
  machine?: string;
}

/** Parses `readelf -hlWdV FILE` output. */
export function parseReadelf(text: string): ElfNeeds {
  const interpreter = text.match(/\[Requesting program interpreter: ([^\]]+)\]/)?.[1];
  const needed = [...text.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
  let glibc: string | undefined;
  for (const m of text.matchAll(/Name: GLIBC_(\d+(?:\.\d+)+)/g)) {
    if (!glibc || compareVersions(parseVersion(m[1]!)!, parseVersion(glibc)!) > 0) glibc = m[1]!;
  }
  const machine = text.match(/^\s*Machine:\s*(.+)$/m)?.[1]?.trim();
  return {
    ...(interpreter ? { interpreter } : {}),
    needed,
    ...(glibc ? { glibc } : {}),
    ...(machine ? { machine } : {}),
  };
}

/** What the guest's rootfs offers a binary. */
export interface RootfsLibs {
  /** Whether a path exists in the rootfs (symlinks in its directories followed). */
  exists: (path: string) => boolean;
  /** File names in the library directories the loader searches. */
  libraries: ReadonlySet<string>;
  /** The rootfs's libc6 version, e.g. "2.41-12". */
  glibc?: string;
}

/**
 * Why this binary will not run on that rootfs, one sentence each; empty
 * when it will (as far as its ELF headers tell).
 */
export function elfProblems(needs: ElfNeeds, root: RootfsLibs): string[] {
  const out: string[] = [];
  if (needs.machine && !/X86-64/i.test(needs.machine))
    out.push(`it is built for ${needs.machine}, the guest is x86-64`);
  if (needs.interpreter && !root.exists(needs.interpreter))
    out.push(`its ELF interpreter ${needs.interpreter} is not in the guest`);
  const missing = needs.needed.filter((l) => !root.libraries.has(l));
  if (missing.length)
    out.push(`the guest lacks ${missing.length === 1 ? 'the library' : 'the libraries'} ${missing.join(', ')}`);
  if (needs.glibc && root.glibc) {
    const have = parseVersion(root.glibc);
    const want = parseVersion(needs.glibc);
    if (have && want && compareVersions(have, want) < 0)
      out.push(`it needs glibc ${needs.glibc}, the guest has ${root.glibc}`);
  }
  return out;
}

/** readelf's view of a file on the host; undefined when it is not ELF. */
export function readElf(file: string): ElfNeeds | undefined {
  try {
    return parseReadelf(
      execFileSync('readelf', ['-hlWdV', file], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).toString(
        'utf8',
      ),
    );
  } catch {
    return undefined;
  }
}
