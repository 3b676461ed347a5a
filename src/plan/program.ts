import type { PropagationTarget, Scenario, Step } from '../scenario/scenario.generated.js';
import {
  isNativeFsType,
  nativeReason,
  parseOptions,
  resolveMountOptions,
  type MountOption,
  type PropagationType,
} from './mount-options.js';

/**
 * A scenario as a program for the guest helper (`mountlab-helper run-tree`,
 * vm/helper/plan-run.c): its tasks, each with its steps numbered
 * scenario-wide as compile.ts numbers them, each step a list of operations
 * with resolved arguments. No operation is shell text: what the helper
 * cannot do with a syscall it does with an argv vector (`exec`).
 *
 * Every operation builds what today's bash step builds (src/plan/steps.ts):
 * the same files, the same mounts with the same flags and propagation, the
 * same tasks and fds. Where mount(8) and the coreutils do something a bare
 * syscall would not, the operation says so and the helper does it too:
 * - mount(8) resolves mount targets, bind and move sources, with
 *   realpath(3) (libmount prepare_target, prepare_srcpath): a path through
 *   /proc/self/fd/N or a symlink names what its text names at that moment.
 *   set-group and open-tree were the helper's own syscalls and stay
 *   unresolved.
 * - mount options follow libmount 2.41; see mount-options.ts.
 * - ln puts the link inside an existing directory; mv copies across
 *   filesystems (the helper then runs mv); rm -f ignores a missing name;
 *   chroot(1) and the pivot-root step change directory to the new /.
 */
export interface Program {
  /** The scenario's name, for messages. */
  scenario: string;
  /** Inside the scenario root: where sync points live; held open as fd 8 by every task. */
  syncDir: string;
  /** init first; a task's index is its place here. */
  tasks: ProgramTask[];
  /** Run by `run-outside` in the guest's own namespaces, chrooted into the scenario root; numbered from 1. */
  outside: ProgramStep[];
  /**
   * The `uns` flavour: init is cloned into a new user namespace with these
   * maps, and its mount and pid namespaces are made with it (so owned by it).
   */
  initUser?: UserNamespace;
}

export interface ProgramTask {
  name: string;
  steps: ProgramStep[];
}

export interface ProgramStep {
  /** Scenario-wide, 1-based, in compile.ts's order (a spawned task's steps follow its spawn step). */
  n: number;
  /** steps.ts's label, without the task prefix. */
  label: string;
  ops: Op[];
}

/** Open flags travel by name: the O_* numbers differ between architectures. */
export type OpenFlag = NonNullable<NonNullable<Step['open']>['flags']>[number];
export type Namespace = NonNullable<Step['unshare']>[number];
/** A namespace an `unshare-user` step makes beside the user namespace (owned by it). */
export type OwnedNamespace = NonNullable<NonNullable<Step['unshare-user']>['namespaces']>[number];

/**
 * A user namespace's maps and setgroups, as the helper writes them into
 * /proc/PID: each map is the file's text, one `INSIDE OUTSIDE COUNT` line
 * per range, made here from the schema's integers (never from user text).
 */
export interface UserNamespace {
  setgroups: 'allow' | 'deny';
  uidMap: string;
  gidMap: string;
}

/** The unprivileged range a map defaults to: root and the next 65535 ids over 100000-165535. */
export const DEFAULT_ID_MAP = [{ inside: 0, outside: 100000, count: 65536 }];

/** zdtm's `uns` maps (test/zdtm/lib/ns.c UID_MAP, GID_MAP), which the uns flavour uses. */
export const ZDTM_USERNS: UserNamespace = {
  setgroups: 'allow',
  uidMap: '0 100000 100000\n100000 200000 50000\n',
  gidMap: '0 400000 50000\n50000 500000 100000\n',
};

export type IdMap = NonNullable<NonNullable<Step['unshare-user']>['uid-map']>;

/** A map as /proc/PID/uid_map takes it: the whole text in one write(2). */
export function idMapText(map: IdMap): string {
  return map.map((r) => `${r.inside} ${r.outside} ${r.count}\n`).join('');
}
export type SocketType = NonNullable<NonNullable<Step['socket']>['type']>;
export type NodeType = NonNullable<Step['mknod']>['type'];

export type Op =
  /** mkdir -p: parents too; an existing directory (or a symlink to one) is fine. */
  | { op: 'mkdir'; path: string }
  /** Create or truncate, then write the bytes (bash's `>`: O_CREAT|O_TRUNC, mode 0666 less the umask). */
  | { op: 'write'; path: string; content: string }
  /** ln -s -- TARGET PATH: inside PATH when PATH is an existing directory. */
  | { op: 'symlink'; target: string; path: string }
  /** ln -- FROM TO: a hard link, not following a symlink FROM; inside TO when it is a directory. */
  | { op: 'link'; from: string; to: string }
  /** mv -T -- FROM TO: rename(2); across filesystems (EXDEV) or between two names of one file, mv itself runs. */
  | { op: 'rename'; from: string; to: string }
  | { op: 'mkfifo'; path: string }
  /** rm -f: a missing name is no error. */
  | { op: 'unlink'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'chdir'; path: string }
  /**
   * A new filesystem, made as libmount makes it (fsopen, fsconfig, fsmount,
   * move_mount; mount(2) where the kernel lacks them), on the target
   * resolved by realpath(3).
   */
  | { op: 'mount'; source: string; target: string; fstype: string; flags: number; data: string }
  /**
   * A bind (rbind: with submounts) of the resolved source on the resolved
   * target. With no attributes, mount(2) MS_BIND[|MS_REC]; with some,
   * open_tree(OPEN_TREE_CLONE) + mount_setattr + move_mount, so propagated
   * copies carry them (libmount's `-o bind,ro`).
   */
  | { op: 'bind'; source: string; target: string; recursive: boolean; attrSet: number; attrClr: number }
  /** mount --move: MS_MOVE, both paths resolved. */
  | { op: 'move'; from: string; to: string }
  /** mount --make-[r]TYPE: mount(2) with MS_TYPE[|MS_REC] on the resolved path. */
  | { op: 'propagation'; path: string; type: PropagationType; recursive: boolean }
  /**
   * mount -o remount[,bind],OPTIONS PATH. `options` are the step's, as
   * written; the helper prepends what mount(8) prepends (the options of the
   * path's /etc/fstab entry, else of its mountinfo line), merges them with
   * libmount's rules and calls mount_setattr (and, for `super`, fspick +
   * fsconfig reconfigure) as libmount 2.41 does.
   */
  | { op: 'remount'; path: string; super: boolean; options: string[] }
  /** umount(8): umount2 on the resolved path; retried with UMOUNT_NOFOLLOW when the path is a symlink. */
  | { op: 'umount'; path: string; lazy: boolean }
  /** move_mount(MOVE_MOUNT_SET_GROUP): `to` joins `from`'s peer group (and master). */
  | { op: 'set-group'; from: string; to: string }
  /** open_tree(OPEN_TREE_CLONE[|AT_RECURSIVE]) + move_mount. */
  | { op: 'open-tree'; source: string; target: string; recursive: boolean }
  /** A new file of `bytes` bytes (O_EXCL: an existing file is an error, never overwritten). */
  | { op: 'create-image'; path: string; bytes: number }
  /**
   * mount -o loop: a free loop device (LOOP_CTL_GET_FREE) bound to the
   * resolved image with LO_FLAGS_AUTOCLEAR (and READ_ONLY with MS_RDONLY),
   * then mount(2) of /dev/loopN.
   */
  | { op: 'loop-mount'; image: string; target: string; fstype: string; flags: number; data: string }
  /** Run a tool (argv[0] looked up in PATH), wait for it; a non-zero exit fails the step. */
  | { op: 'exec'; argv: string[]; why: string }
  /** fork: the child runs task `task` and holds; this task goes on. */
  | { op: 'spawn'; task: number; name: string }
  | { op: 'signal'; name: string }
  | { op: 'wait'; name: string }
  /** unshare(2) in place; with `user`, the capabilities are dropped as the old re-exec dropped them. */
  | { op: 'unshare'; namespaces: Namespace[] }
  /**
   * unshare(CLONE_NEWUSER | the other namespaces) with maps: a child forked
   * first, still in the old user namespace, writes setgroups, uid_map and
   * gid_map of this task; then setresgid/setgroups/setresuid to the new
   * namespace's root where 0 is mapped. Capabilities in the new namespace are kept.
   */
  | ({ op: 'unshare-user'; namespaces: OwnedNamespace[] } & UserNamespace)
  /** open(2), lseek, dup3 to `fd`. */
  | { op: 'open'; path: string; fd: number; flags: OpenFlag[]; mode: number; offset: number }
  /**
   * socket(AF_UNIX, type), then bind(2) to `bind` and listen(2) when asked, then connect(2) to `connect`
   * when given ('' for none); dup3 to `fd`.
   */
  | { op: 'socket'; fd: number; type: SocketType; bind: string; listen: boolean; connect: string }
  /** mknod(2) of a char or block device (makedev(major, minor)) or a fifo, with `mode` less the umask. */
  | { op: 'mknod'; path: string; type: NodeType; mode: number; major: number; minor: number }
  /**
   * mmap(2) of `path` (opened read-only, or read-write for `write`, closed after) or of the task's `fd` (0: by
   * path); the mapping is kept, and the task then holds as itself instead of exec'ing sleep.
   */
  | { op: 'mmap'; path: string; fd: number; offset: number; length: number; shared: boolean; write: boolean }
  /** ftruncate(2) of `path` (O_WRONLY|O_CREAT, mode 0666 less the umask) or of the task's `fd` (0: by path). */
  | { op: 'truncate'; path: string; fd: number; size: number }
  /** pwrite(2) of `content` at `offset`, to `path` (O_WRONLY, no O_CREAT) or the task's `fd` (0: by path). */
  | { op: 'pwrite'; path: string; fd: number; offset: number; content: string }
  /** stat(2), following the path (an automount on the way is triggered); ENOENT/ENOTDIR pass with `missingOk`. */
  | { op: 'access'; path: string; missingOk: boolean }
  /** close(2); an fd that is not open is no error (bash's `exec N<&-`). */
  | { op: 'close'; fd: number }
  /** chroot(1): chroot(2) then chdir("/"). */
  | { op: 'chroot'; path: string }
  /** pivot_root(2), then chdir("/"). */
  | { op: 'pivot-root'; newRoot: string; putOld: string };

export type OpName = Op['op'];

const stepName = (step: Step): keyof Step => Object.keys(step)[0] as keyof Step;
const pathList = (p: string | string[]): string[] => ([] as string[]).concat(p);
const PROPAGATION = {
  'make-shared': 'shared',
  'make-slave': 'slave',
  'make-private': 'private',
  'make-unbindable': 'unbindable',
} as const;

/** A step's label for people and error messages; the same text steps.ts gives it. */
export function stepLabel(step: Step): string {
  const name = stepName(step);
  switch (name) {
    case 'mkdir':
    case 'mkfifo':
    case 'unlink':
    case 'rmdir':
      return `${name} ${pathList(step[name]!).join(' ')}`;
    case 'write':
      return `write ${step.write!.path}`;
    case 'symlink':
      return `symlink ${step.symlink!.path} -> ${step.symlink!.target}`;
    case 'link':
      return `link ${step.link!.from} ${step.link!.to}`;
    case 'rename':
      return `rename ${step.rename!.from} ${step.rename!.to}`;
    case 'chdir':
      return `chdir ${step.chdir!}`;
    case 'move':
      return `move ${step.move!.from} -> ${step.move!.to}`;
    case 'remount': {
      const r = step.remount!;
      return `remount ${r.path} ${r.super ? '(superblock) ' : ''}${r.options}`;
    }
    case 'mount': {
      const m = step.mount!;
      if (m.image) return `mount -t ${m.fstype} -o loop ${m.image.path} (${m.image['size-mib'] ?? 8}M) ${m.target}`;
      return `mount -t ${m.fstype} ${m.source ?? m.fstype} ${m.target}`;
    }
    case 'bind':
    case 'rbind':
      return `${name} ${step[name]!.source} -> ${step[name]!.target}`;
    case 'umount': {
      const u = step.umount!;
      const [path, lazy] = typeof u === 'string' ? [u, false] : [u.path, u.lazy ?? false];
      return `umount${lazy ? ' -l' : ''} ${path}`;
    }
    case 'set-group':
      return `set-group ${step['set-group']!.from} -> ${step['set-group']!.to}`;
    case 'open-tree': {
      const o = step['open-tree']!;
      return `open-tree ${o.source} -> ${o.target}${o.recursive ? ' (recursive)' : ''}`;
    }
    case 'make-shared':
    case 'make-slave':
    case 'make-private':
    case 'make-unbindable': {
      const { path, recursive } = propagationTarget(step[name]!);
      return `${name}${recursive ? ' (recursive)' : ''} ${path}`;
    }
    case 'spawn':
      return `spawn ${step.spawn!.name}`;
    case 'signal':
      return `signal ${step.signal!}`;
    case 'wait':
      return `wait ${step.wait!}`;
    case 'unshare':
      return `unshare ${step.unshare!.join(',')}`;
    case 'unshare-user': {
      const u = step['unshare-user']!;
      return `unshare-user${(u.namespaces ?? []).map((x) => `,${x}`).join('')}`;
    }
    case 'open': {
      const o = step.open!;
      const offset = o.offset ? `, offset ${o.offset}` : '';
      return `open ${o.path} as fd ${o.fd} (${(o.flags ?? ['rdonly']).join(',')}${offset})`;
    }
    case 'close':
      return `close fd ${step.close!}`;
    case 'socket': {
      const s = step.socket!;
      const what = [
        ...(s.bind !== undefined ? [`bound to ${s.bind}`] : []),
        ...(s.listen ? ['listening'] : []),
        ...(s.connect !== undefined ? [`connected to ${s.connect}`] : []),
      ];
      return `socket ${s.type ?? 'stream'} as fd ${s.fd}${what.length ? ` (${what.join(', ')})` : ''}`;
    }
    case 'mknod': {
      const m = step.mknod!;
      const dev = m.type === 'fifo' ? '' : ` ${m.major}:${m.minor}`;
      return `mknod ${m.path} ${m.type}${dev} mode ${m.mode ?? '0600'}`;
    }
    case 'mmap': {
      const m = step.mmap!;
      const what = m.path ?? `fd ${m.fd}`;
      const prot = m.write ? 'rw' : 'r';
      return `mmap ${what} ${m.shared ? 'shared' : 'private'} ${prot} offset ${m.offset ?? 0} length ${m.length}`;
    }
    case 'truncate': {
      const t = step.truncate!;
      const w = t.content !== undefined ? `, write ${Buffer.byteLength(t.content)} bytes at ${t.offset}` : '';
      return `truncate ${t.path ?? `fd ${t.fd}`} to ${t.size}${w}`;
    }
    case 'access': {
      const a = step.access!;
      return typeof a === 'string' ? `access ${a}` : `access ${a.path}${a['missing-ok'] ? ' (missing ok)' : ''}`;
    }
    case 'chroot':
      return `chroot ${step.chroot!}`;
    case 'pivot-root': {
      const p = step['pivot-root']!;
      return `pivot-root ${p['new-root']} (old root at ${p['put-old']})`;
    }
    default: {
      const never: never = name;
      throw new Error(`no label for step ${String(never)}`);
    }
  }
}

function propagationTarget(t: PropagationTarget): { path: string; recursive: boolean } {
  return typeof t === 'string' ? { path: t, recursive: false } : { path: t.path, recursive: t.recursive ?? false };
}

/** Strings reach syscalls as C strings; a NUL would cut them short (write content excepted: it is length-counted). */
function noNul(s: string, what: string): string {
  if (s.includes('\0')) throw new Error(`${what} ${JSON.stringify(s)} contains a NUL byte`);
  return s;
}

/** The operations of one step; `spawn` calls back to register the child task and get its index. */
export function stepOps(step: Step, spawn: (name: string, steps: Step[]) => number): Op[] {
  const name = stepName(step);
  const p = (s: string) => noNul(s, 'path');
  switch (name) {
    case 'mkdir':
      return pathList(step.mkdir!).map((path) => ({ op: 'mkdir', path: p(path) }));
    case 'write':
      return [{ op: 'write', path: p(step.write!.path), content: step.write!.content }];
    case 'symlink':
      return [{ op: 'symlink', target: p(step.symlink!.target), path: p(step.symlink!.path) }];
    case 'link':
      return [{ op: 'link', from: p(step.link!.from), to: p(step.link!.to) }];
    case 'rename':
      return [{ op: 'rename', from: p(step.rename!.from), to: p(step.rename!.to) }];
    case 'mkfifo':
      return pathList(step.mkfifo!).map((path) => ({ op: 'mkfifo', path: p(path) }));
    case 'unlink':
      return pathList(step.unlink!).map((path) => ({ op: 'unlink', path: p(path) }));
    case 'rmdir':
      return pathList(step.rmdir!).map((path) => ({ op: 'rmdir', path: p(path) }));
    case 'chdir':
      return [{ op: 'chdir', path: p(step.chdir!) }];
    case 'move':
      return [{ op: 'move', from: p(step.move!.from), to: p(step.move!.to) }];
    case 'remount':
      return remountOps(step.remount!);
    case 'mount':
      return mountOps(step.mount!);
    case 'bind':
    case 'rbind': {
      const b = step[name]!;
      return [
        { op: 'bind', source: p(b.source), target: p(b.target), recursive: name === 'rbind', attrSet: 0, attrClr: 0 },
      ];
    }
    case 'umount': {
      const u = step.umount!;
      return [
        typeof u === 'string'
          ? { op: 'umount', path: p(u), lazy: false }
          : { op: 'umount', path: p(u.path), lazy: u.lazy ?? false },
      ];
    }
    case 'set-group':
      return [{ op: 'set-group', from: p(step['set-group']!.from), to: p(step['set-group']!.to) }];
    case 'open-tree': {
      const o = step['open-tree']!;
      return [{ op: 'open-tree', source: p(o.source), target: p(o.target), recursive: o.recursive ?? false }];
    }
    case 'make-shared':
    case 'make-slave':
    case 'make-private':
    case 'make-unbindable': {
      const t = propagationTarget(step[name]!);
      return [{ op: 'propagation', path: p(t.path), type: PROPAGATION[name], recursive: t.recursive }];
    }
    case 'spawn': {
      const sp = step.spawn!;
      return [{ op: 'spawn', task: spawn(noNul(sp.name, 'task name'), sp.steps), name: sp.name }];
    }
    case 'signal':
      return [{ op: 'signal', name: noNul(step.signal!, 'sync point') }];
    case 'wait':
      return [{ op: 'wait', name: noNul(step.wait!, 'sync point') }];
    case 'unshare':
      return [{ op: 'unshare', namespaces: step.unshare! }];
    case 'unshare-user': {
      const u = step['unshare-user']!;
      return [
        {
          op: 'unshare-user',
          namespaces: u.namespaces ?? [],
          setgroups: u.setgroups ?? 'allow',
          uidMap: idMapText(u['uid-map'] ?? DEFAULT_ID_MAP),
          gidMap: idMapText(u['gid-map'] ?? DEFAULT_ID_MAP),
        },
      ];
    }
    case 'open': {
      const o = step.open!;
      return [
        {
          op: 'open',
          path: p(o.path),
          fd: o.fd,
          flags: o.flags ?? ['rdonly'],
          mode: parseInt(o.mode ?? '0644', 8),
          offset: o.offset ?? 0,
        },
      ];
    }
    case 'close':
      return [{ op: 'close', fd: step.close! }];
    case 'socket': {
      const s = step.socket!;
      return [
        {
          op: 'socket',
          fd: s.fd,
          type: s.type ?? 'stream',
          bind: p(s.bind ?? ''),
          listen: s.listen ?? false,
          connect: p(s.connect ?? ''),
        },
      ];
    }
    case 'mknod': {
      const m = step.mknod!;
      return [
        {
          op: 'mknod',
          path: p(m.path),
          type: m.type,
          mode: parseInt(m.mode ?? '0600', 8),
          major: m.major ?? 0,
          minor: m.minor ?? 0,
        },
      ];
    }
    case 'mmap': {
      const m = step.mmap!;
      return [
        {
          op: 'mmap',
          path: p(m.path ?? ''),
          fd: m.fd ?? 0,
          offset: m.offset ?? 0,
          length: m.length,
          shared: m.shared ?? false,
          write: m.write ?? false,
        },
      ];
    }
    case 'truncate': {
      const t = step.truncate!;
      const path = p(t.path ?? '');
      const fd = t.fd ?? 0;
      const ops: Op[] = [{ op: 'truncate', path, fd, size: t.size }];
      if (t.content !== undefined) ops.push({ op: 'pwrite', path, fd, offset: t.offset ?? 0, content: t.content });
      return ops;
    }
    case 'access': {
      const a = step.access!;
      return [
        typeof a === 'string'
          ? { op: 'access', path: p(a), missingOk: false }
          : { op: 'access', path: p(a.path), missingOk: a['missing-ok'] ?? false },
      ];
    }
    case 'chroot':
      return [{ op: 'chroot', path: p(step.chroot!) }];
    case 'pivot-root': {
      const pr = step['pivot-root']!;
      // As steps.ts: put-old is relative to the new root.
      return [
        { op: 'pivot-root', newRoot: p(pr['new-root']), putOld: p(pr['new-root'].replace(/\/$/, '') + pr['put-old']) },
      ];
    }
    default: {
      const never: never = name;
      throw new Error(`no operation for step ${String(never)}`);
    }
  }
}

function mountOps(m: NonNullable<Step['mount']>): Op[] {
  const target = noNul(m.target, 'path');
  const options = noNul(m.options ?? '', 'mount options');
  const fstype = noNul(m.fstype, 'fstype');
  if (m.image) {
    const image = noNul(m.image.path, 'path');
    const mib = m.image['size-mib'] ?? 8;
    const prepare: Op[] = [
      { op: 'create-image', path: image, bytes: mib * 1024 * 1024 },
      { op: 'exec', argv: [`mkfs.${fstype}`, '-q', '-F', '--', image], why: 'making a filesystem is mkfs work' },
    ];
    const why = nativeReason(options);
    const loop = why ? undefined : resolveMountOptions(options);
    if (!loop || loop.bind) {
      const mountArgv = [
        'mount',
        '-t',
        fstype,
        '-o',
        ['loop', ...(options ? [options] : [])].join(','),
        '--',
        image,
        target,
      ];
      return [...prepare, { op: 'exec', argv: mountArgv, why: why ?? 'bind in the options of a loop image' }];
    }
    const propagation: Op[] = loop.propagation.map((x) => ({
      op: 'propagation',
      path: target,
      type: x.type,
      recursive: x.recursive,
    }));
    return [
      ...prepare,
      { op: 'loop-mount', image, target, fstype, flags: loop.flags, data: loop.data },
      ...propagation,
    ];
  }
  const source = noNul(m.source ?? m.fstype, 'source');
  const fallback = (why: string): Op[] => [
    { op: 'exec', argv: ['mount', '-t', fstype, ...(options ? ['-o', options] : []), '--', source, target], why },
  ];
  const why = nativeReason(options);
  if (why) return fallback(why);
  const r = resolveMountOptions(options);
  const propagation: Op[] = r.propagation.map((x) => ({
    op: 'propagation',
    path: target,
    type: x.type,
    recursive: x.recursive,
  }));
  if (r.bind) {
    return [
      { op: 'bind', source, target, recursive: r.bind === 'rbind', attrSet: r.attrSet, attrClr: r.attrClr },
      ...propagation,
    ];
  }
  if (!isNativeFsType(fstype))
    return fallback(
      `${fstype} is not a pseudo filesystem: mount(8) may resolve its source, set up a loop device or run a helper`,
    );
  return [{ op: 'mount', source, target, fstype, flags: r.flags, data: r.data }, ...propagation];
}

function remountOps(r: NonNullable<Step['remount']>): Op[] {
  const path = noNul(r.path, 'path');
  const options = noNul(r.options, 'remount options');
  const full = `remount${r.super ? '' : ',bind'},${options}`;
  const parsed = parseOptions(options);
  const why = !parsed
    ? 'the options use quotes, backslashes or an empty name'
    : parsed.map((o) => remountRefusal(o)).find((x) => x !== undefined);
  if (why) return [{ op: 'exec', argv: ['mount', '-o', full, '--', path], why }];
  return [
    {
      op: 'remount',
      path,
      super: r.super ?? false,
      options: parsed!.map((o) => (o.value === undefined ? o.name : `${o.name}=${o.value}`)),
    },
  ];
}

function remountRefusal(o: MountOption): string | undefined {
  if (o.kind === 'userspace-action') return `'${o.name}' acts in mount(8) itself`;
  if (o.entry?.map === 'linux' && o.value !== undefined)
    return `'${o.name}=${o.value}' is a flag with a value (e.g. ro=vfs)`;
  if (o.kind === 'operation' && o.name !== 'bind' && o.name !== 'remount') return `'${o.name}' in remount options`;
  if (o.value !== undefined && Buffer.byteLength(o.value) > 255)
    return `the value of '${o.name}' is longer than fsconfig takes`;
  return undefined;
}

/**
 * Compiles a scenario into its program. `id` names the sync directory as
 * compile.ts names it (`/.mountlab-sync-ID`).
 */
export function compileProgram(s: Scenario, id: string, initUser?: UserNamespace): Program {
  if (!/^[a-z0-9-]+$/.test(id)) throw new Error(`bad plan id '${id}'`);
  const tasks: ProgramTask[] = [];
  let n = 0;
  const compileTask = (name: string, steps: Step[]): number => {
    const task: ProgramTask = { name, steps: [] };
    const index = tasks.push(task) - 1;
    for (const step of steps) {
      // Numbered before its ops are made: a spawn's child steps follow it.
      const ps: ProgramStep = { n: ++n, label: stepLabel(step), ops: [] };
      task.steps.push(ps);
      ps.ops = stepOps(step, compileTask);
    }
    return index;
  };
  compileTask('init', s.steps);
  const outside = (s.outside ?? []).map((step, i): ProgramStep => {
    const ops = stepOps(step, () => {
      throw new Error(`outside step ${i + 1} spawns a task`);
    });
    return { n: i + 1, label: stepLabel(step), ops };
  });
  return { scenario: s.name, syncDir: `/.mountlab-sync-${id}`, tasks, outside, ...(initUser ? { initUser } : {}) };
}

/** One label per step, prefixed by the task's name outside init: GuestPlan.stepLabels. */
export function programStepLabels(p: Program): string[] {
  const out: string[] = [];
  for (const t of p.tasks)
    for (const s of t.steps) out[s.n - 1] = t.name === 'init' ? s.label : `${t.name}: ${s.label}`;
  return out;
}
