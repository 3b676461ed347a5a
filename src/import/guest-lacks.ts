/**
 * What a pasting machine has and the lab's guest may not: filesystems that
 * are modules the guest does not load, or belong to a security module it
 * does not enable, or to firmware it does not boot with; the directories in
 * sysfs and proc that only they create; and the super options only a
 * security module gives. A paste that needs them is rebuilt with stand-ins
 * (plan-import.ts), so the scenario builds on any guest instead of stopping
 * with "needs /sys/kernel/config, which this guest does not have".
 *
 * What the guest surely has is what vm/kernel/mountlab.config asks for
 * (debugfs, securityfs, pstore, fusectl, cgroups, ...); those stay real.
 */

/** Filesystem types the guest may lack, with why. */
const FILESYSTEMS: Record<string, string> = {
  configfs: "configfs is a module in Debian's kernels, which the guest does not load",
  selinuxfs: 'SELinux is not enabled in the guest',
  smackfs: 'Smack is not enabled in the guest',
  efivarfs: 'the guest does not boot with EFI',
  binfmt_misc: "binfmt_misc is a module in Debian's kernels, which the guest does not load",
  bpf: "the lab's kernel config does not ask for it (CONFIG_BPF_SYSCALL)",
  tracefs: "the lab's kernel config does not ask for it (CONFIG_TRACING)",
  rpc_pipefs: 'the guest runs no NFS',
  nfsd: 'the guest runs no NFS',
};

/** Directories of the guest's own sysfs and proc that exist only with one of those filesystems. */
const DIRECTORIES: Record<string, string> = {
  '/sys/kernel/config': 'configfs',
  '/sys/fs/selinux': 'selinuxfs',
  '/sys/fs/smackfs': 'smackfs',
  '/sys/firmware/efi': 'efivarfs',
  '/sys/fs/bpf': 'bpf',
  '/sys/kernel/tracing': 'tracefs',
  '/proc/sys/fs/binfmt_misc': 'binfmt_misc',
  '/proc/fs/nfsd': 'nfsd',
};

/** Why the guest may not have this filesystem type; undefined when it surely has it (or it is stood in anyway). */
export function guestMayLackFs(fsType: string): string | undefined {
  return Object.hasOwn(FILESYSTEMS, fsType) ? FILESYSTEMS[fsType] : undefined;
}

/**
 * For a path in the guest's own sysfs or proc: the directory of it that the
 * guest may lack and why, or undefined.
 */
export function guestMayLackDir(path: string): { dir: string; why: string } | undefined {
  for (const [dir, fs] of Object.entries(DIRECTORIES)) {
    if (path === dir || path.startsWith(`${dir}/`)) return { dir, why: `it is made by ${fs}, and ${FILESYSTEMS[fs]}` };
  }
  return undefined;
}

/**
 * A super option only a security module gives (SELinux's `seclabel` and
 * contexts, Smack's labels): a kernel without that module refuses it at
 * mount time, and shows none.
 */
export function isSecurityOption(option: string): boolean {
  return /^(?:seclabel|(?:context|fscontext|defcontext|rootcontext)=|smackfs[a-z]*=)/.test(option);
}
