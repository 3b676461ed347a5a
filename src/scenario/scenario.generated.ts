/* Generated from scenario.schema.json by scripts/gen-types.mjs. Do not edit. */

/**
 * An absolute path inside the scenario's root. `..` components are not allowed.
 *
 * This interface was referenced by `Scenario`'s JSON-Schema
 * via the `definition` "path".
 */
export type Path = string;
/**
 * A task's name: its key in captures and reports. `init` is the root task.
 *
 * This interface was referenced by `Scenario`'s JSON-Schema
 * via the `definition` "taskName".
 */
export type TaskName = string;
/**
 * The lines of /proc/PID/uid_map: ranges of user ids inside the namespace and where they map in the parent namespace. Default: [{inside: 0, outside: 100000, count: 65536}].
 *
 * @minItems 1
 * @maxItems 340
 */
export type IdMap = {
  /**
   * First id inside the new namespace.
   */
  inside: number;
  /**
   * First id it maps to in the parent namespace.
   */
  outside: number;
  /**
   * How many consecutive ids.
   */
  count: number;
}[];
/**
 * The lines of /proc/PID/gid_map, as `uid-map`. Default: [{inside: 0, outside: 100000, count: 65536}].
 *
 * @minItems 1
 * @maxItems 340
 */
export type IdMap1 = {
  /**
   * First id inside the new namespace.
   */
  inside: number;
  /**
   * First id it maps to in the parent namespace.
   */
  outside: number;
  /**
   * How many consecutive ids.
   */
  count: number;
}[];
/**
 * One path, or a list of paths.
 *
 * This interface was referenced by `Scenario`'s JSON-Schema
 * via the `definition` "pathList".
 */
export type PathList = Path | Path[];
/**
 * A mountpoint, or a mapping with the mountpoint and whether to apply recursively (the `--make-r*` form).
 *
 * This interface was referenced by `Scenario`'s JSON-Schema
 * via the `definition` "propagationTarget".
 */
export type PropagationTarget =
  | Path
  | {
      path: Path;
      /**
       * Apply to the whole subtree (mount --make-rshared and friends).
       */
      recursive?: boolean;
    };
/**
 * A sync point's name.
 *
 * This interface was referenced by `Scenario`'s JSON-Schema
 * via the `definition` "syncName".
 */
export type SyncName = string;
/**
 * Space-separated comparisons that must all hold, e.g. ">=6.1 <6.13" or ">=4.1". Versions compare numerically by dotted parts (6.12.107+deb13-amd64 reads as 6.12.107).
 *
 * This interface was referenced by `Scenario`'s JSON-Schema
 * via the `definition` "versionRange".
 */
export type VersionRange = string;
/**
 * Id ranges of a user namespace: each entry maps `count` ids from `inside` (in the new namespace) to `outside` (in the parent). At most 340 ranges (the kernel's limit); ranges must not overlap, inside or outside.
 *
 * @minItems 1
 * @maxItems 340
 *
 * This interface was referenced by `Scenario`'s JSON-Schema
 * via the `definition` "idMap".
 */
export type IdMap2 = {
  /**
   * First id inside the new namespace.
   */
  inside: number;
  /**
   * First id it maps to in the parent namespace.
   */
  outside: number;
  /**
   * How many consecutive ids.
   */
  count: number;
}[];

/**
 * A mountlab scenario: a mount topology built in fresh namespaces inside a disposable guest, checkpointed and restored by CRIU, and compared before and after.
 */
export interface Scenario {
  /**
   * Short identifier, unique in a corpus; used in reports and file names.
   */
  name: string;
  /**
   * What the scenario builds and why it matters, in a sentence or two.
   */
  description: string;
  /**
   * Where the scenario comes from: a seed thread file name, a mailing-list or bug URL.
   */
  source?: string;
  /**
   * Free-form labels for selecting scenarios.
   *
   * @maxItems 20
   */
  tags?: string[];
  /**
   * What the guest must have for the scenario to make sense; when it does not, the verdict is `skip`, with the reason.
   */
  requires?: {
    /**
     * Kernel version range, e.g. ">=5.15" (MOVE_MOUNT_SET_GROUP).
     */
    kernel?: string;
    /**
     * CRIU version range.
     */
    criu?: string;
    /**
     * Names for `criu check --feature`, e.g. move_mount_set_group, mnt_id.
     *
     * @maxItems 20
     */
    features?: string[];
    /**
     * Targets where the scenario can run, e.g. [vm, vagrant] for one that needs a kernel of its own (loop devices, kernel modules); on any other target the verdict is `skip`. Default: all.
     *
     * @minItems 1
     */
    targets?: ('vm' | 'container' | 'vagrant')[];
    /**
     * Paths that must exist in the guest's own namespace, e.g. /proc/sysrq-trigger (absent when the kernel lacks CONFIG_MAGIC_SYSRQ).
     *
     * @maxItems 20
     */
    paths?: Path[];
    /**
     * The run flavours the scenario makes sense in (`mountlab run --flavor`): `ns`, the tree as written, its init in fresh mount and pid namespaces; `uns`, the same tree whose init is also in a fresh user namespace (zdtm's maps: uids 0-99999 to 100000-199999, gids 0-49999 to 400000-449999), so that every inherited mount is locked and it has no capability outside. A scenario that needs real root (a loop-mounted ext4 image, mknod of a device, mounting filesystems a user namespace cannot) says [ns]; in other flavours its verdict is `skip`. Default: all.
     *
     * @minItems 1
     */
    flavors?: ('ns' | 'uns')[];
  };
  /**
   * Steps the lab runs in the guest's own namespaces (the "host" of the checkpointed tree) before the tree starts, with paths inside the scenario root. They make external mounts: host mounts the tree inherits, shared groups whose peers or masters stay outside the tree (seed 002). Only mount and file steps are allowed here.
   *
   * @minItems 1
   * @maxItems 200
   */
  outside?: Step[];
  /**
   * Actions run in order by the root task of the checkpointed tree, inside fresh mount and pid namespaces whose root is a private bind of the guest's root filesystem. Each step is a mapping with exactly one key, the step's name.
   *
   * @minItems 1
   * @maxItems 500
   */
  steps: Step[];
  /**
   * After the tree is built, a task outside the tree joins these namespaces of the tree's init and stays (seed 003: checkpoint with "leaks"). The lab reports every task outside the tree that shares a namespace with it.
   *
   * @minItems 1
   * @maxItems 6
   */
  leak?: ('mnt' | 'uts' | 'ipc' | 'net' | 'pid' | 'cgroup')[];
  /**
   * Time limits in seconds, enforced inside the guest.
   */
  timeouts?: {
    /**
     * Building the topology (all steps).
     */
    setup?: number;
    /**
     * criu dump.
     */
    dump?: number;
    /**
     * criu restore.
     */
    restore?: number;
  };
  /**
   * How CRIU is run for this scenario.
   */
  engine?: {
    /**
     * criu dump --link-remap: open files whose name was unlinked but that still have another link are dumped through a temporary link (seed 004).
     */
    'link-remap'?: boolean;
    /**
     * criu dump --ghost-limit, in bytes: the largest unlinked open file whose contents are copied into the image.
     */
    'ghost-limit'?: number;
    /**
     * Which CRIU mount engine restores the tree: `v2` (the default: mount-v2, which builds peer groups with MOVE_MOUNT_SET_GROUP), `compat` (criu restore --mntns-compat-mode, the old engine that builds them by inheritance), or `both`: the scenario runs twice, once per engine, and each run has its own verdict, named SCENARIO[v2] and SCENARIO[compat].
     */
    'mount-engine'?: 'v2' | 'compat' | 'both';
    /**
     * Extra criu dump options, one argv element per item: `--name`, `--name=value`, or `--name` followed by its value as the next item (`[--external, "mnt[]:s"]`). Each item reaches criu as exactly one argument, never through a shell's word splitting or globbing, so brackets, `*`, `;`, spaces and quotes are plain characters (no control characters). Refused, because the lab sets them itself or they would defeat the comparison: -D/--images-dir, -W/--work-dir, --prev-images-dir, --page-server and --lazy-pages (the lab keeps the images in its own directory and restores from there), -o/--log-file (the lab reads criu's log from its own file), --root and --pidfile (restore: the lab gives the scenario root and reads the restored pid), -d/--restore-detached (the lab always restores detached), -t/--tree (the lab names the tree's pid), --mntns-compat-mode (use engine.mount-engine: compat or both), --action-script and --exec-cmd (they would run a command in the guest), and anything not starting with `--`, such as a short option like -v4, except a value right after its option.
     *
     * @maxItems 20
     */
    'dump-args'?: string[];
    /**
     * Extra criu restore options, one argv element per item: `--name`, `--name=value`, or `--name` followed by its value as the next item (`[--external, "mnt[]:s"]`). Each item reaches criu as exactly one argument, never through a shell's word splitting or globbing, so brackets, `*`, `;`, spaces and quotes are plain characters (no control characters). Refused, because the lab sets them itself or they would defeat the comparison: -D/--images-dir, -W/--work-dir, --prev-images-dir, --page-server and --lazy-pages (the lab keeps the images in its own directory and restores from there), -o/--log-file (the lab reads criu's log from its own file), --root and --pidfile (restore: the lab gives the scenario root and reads the restored pid), -d/--restore-detached (the lab always restores detached), -t/--tree (the lab names the tree's pid), --mntns-compat-mode (use engine.mount-engine: compat or both), --action-script and --exec-cmd (they would run a command in the guest), and anything not starting with `--`, such as a short option like -v4, except a value right after its option.
     *
     * @maxItems 20
     */
    'restore-args'?: string[];
    /**
     * Mounts and devices CRIU treats as external (zdtm's mnt_ext_* tests), one entry each. A mount entry (`path`) is dumped as `--external mnt[PATH]:KEY` and restored from `source`, a mount the outside steps made in the guest's own namespace: `--external mnt[KEY]:SOURCE`. `auto: true` asks criu dump to detect external mounts itself (`--external mnt[]`, or `mnt[]:FLAGS` with `flags`). A device entry (`device`) is given on both sides as `--external dev[MAJOR/MINOR]:KEY`, e.g. the loop device under an ext4 mount (zdtm mnt_ext_dev); its `key` is required, since a device has no path to name it by.
     *
     * @maxItems 20
     */
    external?: {
      /**
       * An absolute path inside the scenario's root. `..` components are not allowed.
       */
      path?: string;
      /**
       * CRIU's name for it; default for a mount: the path with / replaced by _. Required for a device.
       */
      key?: string;
      /**
       * An absolute path inside the scenario's root. `..` components are not allowed.
       */
      source?: string;
      /**
       * `true`: let criu dump find the external bind mounts itself, `--external mnt[]` (dump side only: give the restore side in restore-args, `[--external, "mnt[KEY]:@ROOT@/PATH"]`).
       */
      auto?: true;
      /**
       * With `auto`: what else criu dump may treat as external, `--external mnt[]:FLAGS` as zdtm writes `mnt[]:s`: `s` also shared mounts, `m` also slave (master) mounts; criu's man page: without flags both.
       */
      flags?: string;
      /**
       * A device as MAJOR/MINOR (decimal): dumped as `--external dev[MAJOR/MINOR]:KEY` and restored as `--external dev[KEY]:SOURCE` (zdtm mnt_ext_dev), SOURCE being its device node (`source`, required).
       */
      device?: string;
    }[];
    /**
     * After the first restore is captured and compared, kill the restored tree and restore the same images a second time; the second restore must match the original too (seed 004: restoring must not use up what the next restore needs, e.g. link-remap files).
     */
    'restore-twice'?: boolean;
  };
  /**
   * What should happen. `identical`: dump and restore succeed and the restored topology equals the original up to renumbering. A fail-expectation, exactly one of `dump-fails`, `restore-fails` or `fails` (either phase), with optional `kernel`/`criu` ranges: that phase fails with a log line matching the pattern; outside the ranges the scenario is expected to be identical. `dropped`: identical except for the listed mounts, which CRIU skips on purpose. `known-bug`: a failure that is expected (xfail) until it is fixed (xpass). Patterns are RE2 (linear time).
   */
  expect:
    | 'identical'
    | {
        /**
         * An RE2 regular expression (a linear-time engine: no backreferences or lookaround; ^ and $ match at each line) that must match a line of the dump log or its error output: criu dump is expected to fail.
         */
        'dump-fails'?: string;
        /**
         * An RE2 regular expression (a linear-time engine: no backreferences or lookaround; ^ and $ match at each line) that must match a line of the restore log or its error output: dump is expected to succeed and criu restore to fail.
         */
        'restore-fails'?: string;
        /**
         * An RE2 regular expression (a linear-time engine: no backreferences or lookaround; ^ and $ match at each line) that must match a line of the log of whichever phase fails: criu dump or criu restore is expected to fail (zdtm's crfail). A failing dump is judged by its log, a failing restore by its own.
         */
        fails?: string;
        /**
         * Kernel versions where the failure is expected; elsewhere the scenario is expected to be identical.
         */
        kernel?: string;
        /**
         * CRIU versions where the failure is expected; elsewhere the scenario is expected to be identical.
         */
        criu?: string;
      }
    | {
        /**
         * The scenario is expected to fail because of a known bug: `xfail` while it does (and the reason matches), `xpass` once it no longer does. Outside the version ranges the scenario is expected to be identical. It links the upstream report (`url`: an issue, pull request, commit or list message) or says that none was found (`upstream: none-found` with `searched`); exactly one of the two.
         */
        'known-bug': {
          /**
           * The upstream report: an http(s) link to an issue, pull request, commit or mailing-list message. Not a source file (a GitHub /blob/ or /tree/ page, raw.githubusercontent.com) and not a local path such as a seed file: a link to code is not a bug report. Give either `url` or `upstream: none-found` with `searched`.
           */
          url?: string;
          /**
           * `none-found`: no upstream issue, pull request, commit or list message about this failure was found; `searched` says where and when it was looked for. Instead of `url`.
           */
          upstream?: 'none-found';
          /**
           * With `upstream: none-found`: what was searched, for what, and when, e.g. "criu issues and commits for 'doesn't have a proper root mount', 2026-12-03".
           */
          searched?: string;
          /**
           * An RE2 regular expression (linear time: no backreferences or lookaround) that the failure must match (the error headline, or any difference sentence), so that another failure is not mistaken for this bug.
           */
          reason: string;
          /**
           * Kernel versions where the bug is expected.
           */
          kernel?: string;
          /**
           * CRIU versions where the bug is expected.
           */
          criu?: string;
          /**
           * The upstream CRIU commit that fixes the bug (7 to 40 hex digits). A CRIU built from a git checkout (--criu PATH) is expected to have the bug exactly when that commit is not in its history, or was reverted there; for that build it decides instead of `criu`. Other builds (Debian's, tarballs, binaries) use the `criu` range.
           */
          'fixed-by'?: string;
          /**
           * Only under this mount engine (see engine.mount-engine); elsewhere the scenario is expected to be identical.
           */
          'mount-engine'?: 'v2' | 'compat';
        };
      }
    | {
        /**
         * Mounts CRIU leaves out on purpose (`--skip-mnt PATH` in dump-args: criu logs "skip FS @ ./PATH" and drops the mountpoint while it reads mountinfo): dump and restore succeed and the restored topology equals the original except that exactly these mountpoints (and the mounts on them) are missing. A listed mount that is still there after restore is a difference of its own, and so is every other difference. Paths are mountpoints as the comparison names them: inside the scenario root, in any of the tree's mount namespaces.
         *
         * @minItems 1
         * @maxItems 100
         */
        dropped: Path[];
      };
}
/**
 * One action. Exactly one key: the step's name.
 *
 * This interface was referenced by `Scenario`'s JSON-Schema
 * via the `definition` "step".
 */
export interface Step {
  /**
   * mkdir -p: create directories (and parents).
   */
  mkdir?: Path | Path[];
  /**
   * Create or truncate a regular file with the given content.
   */
  write?: {
    path: Path;
    /**
     * File content, written as given.
     */
    content: string;
  };
  /**
   * ln -s: make a symbolic link at `path` pointing to `target`.
   */
  symlink?: {
    /**
     * What the link points to, stored as given (may be relative).
     */
    target: string;
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    path: string;
  };
  /**
   * ln: a hard link `to` of the existing file `from`.
   */
  link?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    from: string;
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    to: string;
  };
  /**
   * mv -T: rename `from` to `to` (replacing `to` if it is a file).
   */
  rename?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    from: string;
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    to: string;
  };
  /**
   * mkfifo: make named pipes. Opening one for reading blocks until a writer opens it (open it `rdwr` to hold it without blocking); CRIU dumps fifo fds with their queued data.
   */
  mkfifo?: Path | Path[];
  /**
   * rm -f: remove a file's name (an fd still holding it keeps the inode alive).
   */
  unlink?: Path | Path[];
  /**
   * rmdir: remove empty directories.
   */
  rmdir?: Path | Path[];
  /**
   * An absolute path inside the scenario's root. `..` components are not allowed.
   */
  chdir?: string;
  /**
   * mount -t FSTYPE [-o OPTIONS] SOURCE TARGET: a new filesystem instance.
   */
  mount?: {
    /**
     * Filesystem type, e.g. tmpfs, ramfs, proc, sysfs, devpts, mqueue; ext2, ext3 or ext4 with `image`.
     */
    fstype: string;
    /**
     * The source field shown in mountinfo; defaults to the fstype.
     */
    source?: string;
    target: Path;
    /**
     * Comma-separated mount options, as for mount -o.
     */
    options?: string;
    /**
     * Make a filesystem image file first and mount it through a loop device (`mkfs.FSTYPE` then `mount -o loop`); only for ext2, ext3 and ext4. The source shown in mountinfo is then /dev/loopN.
     */
    image?: {
      /**
       * An absolute path inside the scenario's root. `..` components are not allowed.
       */
      path: string;
      /**
       * Size of the image in MiB; default 8.
       */
      'size-mib'?: number;
    };
  };
  bind?: BindArgs;
  rbind?: BindArgs1;
  /**
   * mount --move FROM TO: move a mount (with its submounts) to another mountpoint.
   */
  move?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    from: string;
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    to: string;
  };
  /**
   * umount a mountpoint; `lazy` detaches it (umount -l).
   */
  umount?:
    | Path
    | {
        path: Path;
        /**
         * Detach now, clean up when no longer busy (MNT_DETACH).
         */
        lazy?: boolean;
      };
  /**
   * Change flags of a mounted filesystem. By default only this mount's flags (mount -o remount,bind,OPTIONS); with `super: true` the filesystem's own options (mount -o remount,OPTIONS).
   */
  remount?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    path: string;
    /**
     * Comma-separated options, e.g. ro, rw, nosuid, nodev, noexec, noatime.
     */
    options: string;
    /**
     * Remount the superblock (all mounts of this filesystem) instead of just this mount.
     */
    super?: boolean;
  };
  /**
   * mount --make-shared: the mount joins (or starts) a peer group.
   */
  'make-shared'?:
    | Path
    | {
        path: Path;
        /**
         * Apply to the whole subtree (mount --make-rshared and friends).
         */
        recursive?: boolean;
      };
  /**
   * mount --make-slave: the mount receives propagation from its former peer group but does not send.
   */
  'make-slave'?:
    | Path
    | {
        path: Path;
        /**
         * Apply to the whole subtree (mount --make-rshared and friends).
         */
        recursive?: boolean;
      };
  /**
   * mount --make-private: no propagation in or out.
   */
  'make-private'?:
    | Path
    | {
        path: Path;
        /**
         * Apply to the whole subtree (mount --make-rshared and friends).
         */
        recursive?: boolean;
      };
  /**
   * mount --make-unbindable: private, and cannot be bind-mounted.
   */
  'make-unbindable'?:
    | Path
    | {
        path: Path;
        /**
         * Apply to the whole subtree (mount --make-rshared and friends).
         */
        recursive?: boolean;
      };
  /**
   * move_mount(MOVE_MOUNT_SET_GROUP) (Linux 5.15+): the mount at `to` joins the peer group of the mount at `from`, and gets its master. `to` must be private. This is how sharing-group trees are built in any order (seed 001).
   */
  'set-group'?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    from: string;
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    to: string;
  };
  /**
   * open_tree(OPEN_TREE_CLONE) of `source` then move_mount to `target`: a bind made from a detached copy (with `recursive`, of the whole subtree).
   */
  'open-tree'?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    source: string;
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    target: string;
    /**
     * Clone the submounts too (AT_RECURSIVE).
     */
    recursive?: boolean;
  };
  /**
   * Fork a child task that runs its own steps, concurrently with the rest of this task, and then stays alive (as part of the checkpointed tree). It starts in this task's namespaces; use `unshare` inside it for nested namespaces. Order between tasks is only what `signal`/`wait` say.
   */
  spawn?: {
    name: TaskName;
    /**
     * The child's steps.
     *
     * @minItems 1
     * @maxItems 500
     */
    steps: Step[];
  };
  /**
   * Mark a sync point as reached; every task waiting for it continues.
   */
  signal?: string;
  /**
   * Block until another task signals this sync point.
   */
  wait?: string;
  /**
   * unshare(2) this task's namespaces (no fork, propagation left as it is). With `pid`, the task's later children are in the new pid namespace.
   *
   * @minItems 1
   * @maxItems 7
   */
  unshare?: ('mnt' | 'uts' | 'ipc' | 'net' | 'user' | 'pid' | 'cgroup')[];
  /**
   * unshare(2) a new user namespace with uid and gid maps, as an unprivileged container runtime (LXC, rootless podman) makes one: a helper forked before the unshare stays in the old user namespace and writes `setgroups`, `uid_map` and `gid_map` of the task; the task then becomes the new namespace's root (setresgid/setresuid 0 where 0 is mapped, setgroups([]) where allowed) and keeps its capabilities there. Namespaces listed in `namespaces` are made in the same unshare(2) call, so they are owned by the new user namespace: with `mnt`, every mount copied into the new mount namespace is locked (MNT_LOCKED: it cannot be unmounted or moved apart from its parent, its ro, nodev, nosuid, noexec and atime flags cannot be changed) and shared mounts become slaves. Without maps, both default to root over the unprivileged range 100000-165535 (`0 100000 65536`). The plain `unshare: [user]` step makes no maps and drops every capability.
   */
  'unshare-user'?: {
    /**
     * Other namespaces created by the same unshare(2) call, owned by the new user namespace.
     *
     * @maxItems 6
     */
    namespaces?: ('mnt' | 'uts' | 'ipc' | 'net' | 'pid' | 'cgroup')[];
    'uid-map'?: IdMap;
    'gid-map'?: IdMap1;
    /**
     * What is written to /proc/PID/setgroups before the gid map: `deny` as an unprivileged writer of its own gid map must (setgroups(2) then fails with EPERM in the namespace; the task keeps the supplementary groups it had), `allow` (the default) as a privileged one may.
     */
    setgroups?: 'allow' | 'deny';
  };
  /**
   * Open a file or directory and keep it open as fd `fd` in this task, through the checkpoint (seed 004: open files that are later unlinked, over-mounted or renamed).
   */
  open?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    path: string;
    /**
     * The fd number the task holds it as. 8 and 9 are the lab's own.
     */
    fd: number;
    /**
     * open(2) flags; default [rdonly].
     *
     * @maxItems 15
     */
    flags?: (
      | 'rdonly'
      | 'wronly'
      | 'rdwr'
      | 'creat'
      | 'trunc'
      | 'append'
      | 'excl'
      | 'directory'
      | 'path'
      | 'nofollow'
      | 'cloexec'
      | 'noatime'
      | 'tmpfile'
      | 'sync'
      | 'nonblock'
    )[];
    /**
     * Mode for creat/tmpfile, octal as a string, e.g. "0644".
     */
    mode?: string;
    /**
     * lseek to this offset after opening.
     */
    offset?: number;
  };
  /**
   * Close fd N in this task (one kept by `open`), e.g. a handle on a mount that is over-mounted once it has served its purpose.
   */
  close?: number;
  /**
   * socket(AF_UNIX): a unix socket kept open as fd `fd` in this task, optionally bound to a path (which creates the socket file there), listening, or connected to another socket's bound path (zdtm sk-unix-mntns, overmount_sock). A stream connect to a listening socket stays in its backlog, never accepted. Needs the helper executor.
   */
  socket?: {
    /**
     * The fd number the task holds the socket as. 8 and 9 are the lab's own.
     */
    fd: number;
    /**
     * The socket type; default stream.
     */
    type?: 'stream' | 'dgram' | 'seqpacket';
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    bind?: string;
    /**
     * listen(2) after binding (stream and seqpacket only; needs `bind`).
     */
    listen?: boolean;
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    connect?: string;
  };
  /**
   * mknod(2): a character or block device node, or a fifo, at a path (zdtm overmount_dev). Opening a device node opens the device itself; CRIU dumps such an fd by its path and rdev. Needs the helper executor.
   */
  mknod?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    path: string;
    /**
     * `char`, `block` or `fifo`.
     */
    type: 'char' | 'block' | 'fifo';
    /**
     * Device major number (char and block only; required there).
     */
    major?: number;
    /**
     * Device minor number (char and block only; required there).
     */
    minor?: number;
    /**
     * Permission bits, octal as a string; default "0600" (the umask applies).
     */
    mode?: string;
  };
  /**
   * mmap(2) a file into this task and keep it mapped through the checkpoint: by `path` (opened for the mapping and closed again, so only the mapping holds it; unlink it afterwards for a mapped ghost file) or by an `fd` an `open` step keeps. A task holding a mapping stays the helper process itself when its steps end (an exec would unmap it) instead of becoming `sleep`. Needs the helper executor.
   */
  mmap?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    path?: string;
    /**
     * An fd this task holds open (exactly one of `path` and `fd`).
     */
    fd?: number;
    /**
     * Offset in the file, a multiple of the page size (4096); default 0.
     */
    offset?: number;
    /**
     * Bytes to map.
     */
    length: number;
    /**
     * MAP_SHARED (writes reach the file) instead of MAP_PRIVATE (copy on write); default false.
     */
    shared?: boolean;
    /**
     * PROT_WRITE too (a `path` is then opened read-write; an `fd` must be open for writing if `shared`); default read-only.
     */
    write?: boolean;
  };
  /**
   * truncate(1) -s: set a file's size (ftruncate(2); the file is created when `path` does not exist), which leaves a hole where it grows, then optionally write `content` at `offset` (pwrite(2)) to make a sparse file with data after the hole. Needs the helper executor.
   */
  truncate?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    path?: string;
    /**
     * An fd this task holds open for writing (exactly one of `path` and `fd`).
     */
    fd?: number;
    /**
     * The new size in bytes.
     */
    size: number;
    /**
     * Where `content` is written (needs `content`); it may lie past `size`, which grows the file again.
     */
    offset?: number;
    /**
     * Bytes written at `offset` after the size is set.
     */
    content?: string;
  };
  /**
   * stat(2) a path, following it, as `ls` or `stat` would: the walk triggers an automount on the way. The step fails when the path does not exist, unless `missing-ok`. Needs the helper executor.
   */
  access?:
    | Path
    | {
        path: Path;
        /**
         * A missing path (ENOENT, ENOTDIR) is no error.
         */
        'missing-ok'?: boolean;
      };
  /**
   * An absolute path inside the scenario's root. `..` components are not allowed.
   */
  chroot?: string;
  /**
   * pivot_root(8): make `new-root` the root of this task's mount namespace, moving the old root to `put-old` (relative to the new root).
   */
  'pivot-root'?: {
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    'new-root': string;
    /**
     * An absolute path inside the scenario's root. `..` components are not allowed.
     */
    'put-old': string;
  };
}
/**
 * mount --bind SOURCE TARGET.
 */
export interface BindArgs {
  /**
   * An absolute path inside the scenario's root. `..` components are not allowed.
   */
  source: string;
  /**
   * An absolute path inside the scenario's root. `..` components are not allowed.
   */
  target: string;
}
/**
 * mount --rbind SOURCE TARGET: the source with all its submounts.
 */
export interface BindArgs1 {
  /**
   * An absolute path inside the scenario's root. `..` components are not allowed.
   */
  source: string;
  /**
   * An absolute path inside the scenario's root. `..` components are not allowed.
   */
  target: string;
}
/**
 * This interface was referenced by `Scenario`'s JSON-Schema
 * via the `definition` "bindArgs".
 */
export interface BindArgs2 {
  /**
   * An absolute path inside the scenario's root. `..` components are not allowed.
   */
  source: string;
  /**
   * An absolute path inside the scenario's root. `..` components are not allowed.
   */
  target: string;
}
