import { execFileSync } from 'node:child_process';
import type { RootfsLibs } from './elf-check.js';

/** Where a Debian rootfs's loader finds libraries (merged /usr: /lib is a link). */
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib', '/usr/lib64', '/usr/local/lib'];

function debugfs(image: string, request: string): string {
  // debugfs prints its banner on stderr and "not found" on stdout or stderr depending on the request.
  try {
    return execFileSync('debugfs', ['-R', request, image], {
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    }).toString('utf8');
  } catch (e) {
    return String((e as { stdout?: Buffer }).stdout ?? '');
  }
}

/**
 * The rootfs image's libraries, read with e2fsprogs' debugfs: nothing is
 * mounted, no root needed.
 */
export function rootfsLibs(image: string): RootfsLibs {
  const libraries = new Set<string>();
  for (const dir of LIBRARY_DIRS) {
    // `ls -p`: /inode/mode/uid/gid/name/size/ per entry.
    for (const line of debugfs(image, `ls -p ${dir}`).split('\n')) {
      const name = line.split('/')[5];
      if (name && name !== '.' && name !== '..') libraries.add(name);
    }
  }
  const status = debugfs(image, 'cat /var/lib/dpkg/status');
  const glibc = status.match(/^Package: libc6\n(?:[^\n]+\n)*?Version: (\S+)/m)?.[1];
  return {
    exists: (path) => /Inode:\s*\d+/.test(debugfs(image, `stat ${path}`)),
    libraries,
    ...(glibc ? { glibc } : {}),
  };
}
