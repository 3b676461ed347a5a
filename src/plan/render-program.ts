import { atimeName, attrNames, MOUNT_ATTR, MS } from './mount-options.js';
import type { Op, Program, ProgramStep } from './program.js';

/**
 * The program in words, step by step, for people and for the report: what
 * tree.sh's comments said, plus what each step really does (which flags,
 * which syscall or tool). Pure text; `mountlab plan SCENARIO` prints it.
 */
export function renderProgram(p: Program): string {
  const spawnedBy = new Map<number, number>();
  for (const t of p.tasks)
    for (const s of t.steps) for (const op of s.ops) if (op.op === 'spawn') spawnedBy.set(op.task, s.n);
  const others = p.tasks.slice(1).map((t) => `done-${t.name}`);
  const out: string[] = [`program for scenario ${show(p.scenario)}; sync points in ${show(p.syncDir)}`];
  if (p.outside.length) {
    out.push('', "outside: in the guest's own namespaces, chrooted into the scenario root, before the tree");
    for (const s of p.outside) out.push(...renderStep(s));
  }
  p.tasks.forEach((t, i) => {
    out.push('');
    if (i === 0 && p.initUser) {
      const u = p.initUser;
      out.push(
        'task init: the init of new user, mount and pid namespaces (the uns flavour), cloned together',
        `  first: run-tree writes uid_map ${mapWords(u.uidMap)}, gid_map ${mapWords(u.gidMap)}, ` +
          `setgroups ${u.setgroups}; init becomes the namespace's root`,
        `  then: bind the root on itself (a new, unlocked mount: pivot_root refuses a locked one), chown it to root`,
        `  then: pivot_root into it, mount /proc, detach the old root, fd 8 on ${show(p.syncDir)}, setsid`,
      );
    } else if (i === 0) {
      out.push(
        'task init: the init of new mount and pid namespaces',
        `  first: pivot_root into the root, mount /proc, detach the old root, fd 8 on ${show(p.syncDir)}, setsid`,
      );
    } else {
      out.push(`task ${show(t.name)}: forked by step ${spawnedBy.get(i) ?? '?'}`);
    }
    for (const s of t.steps) out.push(...renderStep(s));
    const hold = "hold (exec sleep 1000000, the lab's fds closed)";
    if (i === 0)
      out.push(`  then: ${others.length ? `wait for ${others.map(show).join(', ')}, ` : ''}report ready, ${hold}`);
    else out.push(`  then: signal ${show(`done-${t.name}`)}, ${hold}`);
  });
  return out.join('\n') + '\n';
}

/** A map file's text as `0 100000 65536; ...`. */
function mapWords(text: string): string {
  return `[${text.trim().split('\n').join('; ')}]`;
}

function renderStep(s: ProgramStep): string[] {
  return [`  step ${s.n}: ${oneLine(s.label)}`, ...s.ops.map((op) => `    ${renderOp(op)}`)];
}

/** A string as it reads unambiguously on one line: bare when plain, else JSON-quoted. */
function show(s: string): string {
  return /^[\x21-\x7e]+$/.test(s) && !/["\\]/.test(s) ? s : JSON.stringify(s);
}

/** A label may hold any character of the scenario's strings; control characters would break the layout. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** mount(2) flags as the option words they came from. */
function flagWords(flags: number): string {
  const words: [number, string][] = [
    [MS.RDONLY, 'ro'],
    [MS.NOSUID, 'nosuid'],
    [MS.NODEV, 'nodev'],
    [MS.NOEXEC, 'noexec'],
    [MS.NOATIME, 'noatime'],
    [MS.NODIRATIME, 'nodiratime'],
    [MS.RELATIME, 'relatime'],
    [MS.STRICTATIME, 'strictatime'],
    [MS.NOSYMFOLLOW, 'nosymfollow'],
    [MS.SYNCHRONOUS, 'sync'],
    [MS.DIRSYNC, 'dirsync'],
    [MS.MANDLOCK, 'mand'],
    [MS.LAZYTIME, 'lazytime'],
  ];
  const named = words.filter(([v]) => flags & v).map(([, w]) => w);
  return named.length ? named.join(',') : 'rw';
}

function flagsAndData(op: { flags: number; data: string }): string {
  return `${flagWords(op.flags)}${op.data ? `, data ${show(op.data)}` : ''}`;
}

function attrWords(set: number, clr: number): string {
  const parts: string[] = [];
  const setNames = attrNames(set);
  if (clr & MOUNT_ATTR.ATIME_MASK) setNames.push(atimeName(set));
  if (setNames.length) parts.push(`set ${setNames.join(',')}`);
  const clrNames = attrNames(clr);
  if (clrNames.length) parts.push(`clear ${clrNames.join(',')}`);
  return parts.join(', ');
}

function renderOp(op: Op): string {
  switch (op.op) {
    case 'mkdir':
      return `mkdir -p ${show(op.path)}`;
    case 'write':
      return `write ${Buffer.byteLength(op.content)} byte(s) to ${show(op.path)} (created or truncated)`;
    case 'symlink':
      return `symlink ${show(op.path)} -> ${show(op.target)} (ln -s: inside it if it is a directory)`;
    case 'link':
      return `hard link ${show(op.to)} to ${show(op.from)} (ln: inside it if it is a directory)`;
    case 'rename':
      return `rename ${show(op.from)} to ${show(op.to)} (mv -T: mv itself across filesystems)`;
    case 'mkfifo':
      return `mkfifo ${show(op.path)}`;
    case 'unlink':
      return `unlink ${show(op.path)} (rm -f: a missing name is fine)`;
    case 'rmdir':
      return `rmdir ${show(op.path)}`;
    case 'chdir':
      return `chdir ${show(op.path)}`;
    case 'mount':
      return `mount a new ${show(op.fstype)} from ${show(op.source)} on ${show(op.target)}: ${flagsAndData(op)}`;
    case 'bind': {
      const what = op.recursive ? 'rbind (with submounts)' : 'bind';
      const attrs =
        op.attrSet || op.attrClr ? `; on the clone before it is attached: ${attrWords(op.attrSet, op.attrClr)}` : '';
      return `${what} ${show(op.source)} on ${show(op.target)}${attrs}`;
    }
    case 'move':
      return `move the mount at ${show(op.from)} to ${show(op.to)}`;
    case 'propagation':
      return `make ${show(op.path)} ${op.type}${op.recursive ? ', recursively' : ''}`;
    case 'remount': {
      const what = op.super ? 'the superblock and this mount' : "this mount's flags";
      const options = show(op.options.join(','));
      return `remount ${show(op.path)} (${what}) with ${options}, after those mount(8) reads from fstab or mountinfo`;
    }
    case 'umount':
      return op.lazy ? `umount -l ${show(op.path)} (detach)` : `umount ${show(op.path)}`;
    case 'set-group':
      return `${show(op.to)} joins the peer group of ${show(op.from)} (move_mount SET_GROUP)`;
    case 'open-tree': {
      const what = `${show(op.source)}${op.recursive ? ' with submounts' : ''}`;
      return `clone ${what} and attach it on ${show(op.target)} (open_tree + move_mount)`;
    }
    case 'create-image':
      return `create ${show(op.path)}, ${op.bytes / (1024 * 1024)} MiB (it must not exist)`;
    case 'loop-mount': {
      const via = `${show(op.image)} through a loop device`;
      return `mount ${show(op.fstype)} image ${via} on ${show(op.target)}: ${flagsAndData(op)}`;
    }
    case 'exec':
      return `run ${op.argv.map(show).join(' ')} (${op.why})`;
    case 'spawn':
      return `fork task ${show(op.name)}`;
    case 'signal':
      return `signal sync point ${show(op.name)}`;
    case 'wait':
      return `wait for sync point ${show(op.name)}`;
    case 'unshare':
      return `unshare ${op.namespaces.join(',')}`;
    case 'unshare-user': {
      const also = op.namespaces.length ? ` with ${op.namespaces.join(',')} owned by it` : '';
      const maps = `uid_map ${mapWords(op.uidMap)}, gid_map ${mapWords(op.gidMap)}, setgroups ${op.setgroups}`;
      return `unshare a user namespace${also}; a child left in the old one writes ${maps}; become its root`;
    }
    case 'open': {
      const creates = op.flags.includes('creat') || op.flags.includes('tmpfile');
      const extra = [
        ...(creates ? [`mode 0${op.mode.toString(8)}`] : []),
        ...(op.offset ? [`then seek to ${op.offset}`] : []),
      ];
      const tail = extra.length ? ` (${extra.join(', ')})` : '';
      return `open ${show(op.path)} ${op.flags.join(',')} as fd ${op.fd}${tail}`;
    }
    case 'close':
      return `close fd ${op.fd}`;
    case 'socket': {
      const what = [
        ...(op.bind ? [`bind ${show(op.bind)}`] : []),
        ...(op.listen ? ['listen'] : []),
        ...(op.connect ? [`connect to ${show(op.connect)}`] : []),
      ];
      return `unix ${op.type} socket as fd ${op.fd}${what.length ? `: ${what.join(', ')}` : ''}`;
    }
    case 'mknod': {
      const dev = op.type === 'fifo' ? '' : ` ${op.major}:${op.minor}`;
      return `mknod ${show(op.path)} ${op.type}${dev} mode 0${op.mode.toString(8)}`;
    }
    case 'mmap':
      return (
        `mmap ${op.fd ? `fd ${op.fd}` : show(op.path)} ${op.shared ? 'MAP_SHARED' : 'MAP_PRIVATE'} ` +
        `${op.write ? 'PROT_READ|PROT_WRITE' : 'PROT_READ'} offset ${op.offset} length ${op.length}, kept mapped`
      );
    case 'truncate':
      return `ftruncate ${op.fd ? `fd ${op.fd}` : show(op.path)} to ${op.size} bytes`;
    case 'pwrite': {
      const to = op.fd ? `fd ${op.fd}` : show(op.path);
      return `pwrite ${Buffer.byteLength(op.content)} bytes to ${to} at ${op.offset}`;
    }
    case 'access':
      return `stat ${show(op.path)}${op.missingOk ? ' (missing is fine)' : ''}`;
    case 'chroot':
      return `chroot ${show(op.path)}, chdir /`;
    case 'pivot-root':
      return `pivot_root to ${show(op.newRoot)}, the old root at ${show(op.putOld)}; chdir /`;
  }
}
