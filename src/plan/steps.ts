import type { PropagationTarget, Step } from '../scenario/scenario.generated.js';
import { stepName } from '../scenario/semantics.js';
import { shJoin, shq } from './shell.js';
import { stepLabel } from './program.js';

/** The image's static helper (vm/helper/mountlab-helper.c). */
export const HELPER = '/usr/local/bin/mountlab-helper';

/**
 * A step compiled for the task script, with a label a human recognises:
 * a shell line; an exec prefix (the step must replace the task's process,
 * e.g. unshare(2) or an fd at a chosen number, so the script re-executes
 * itself behind it); or a child task.
 */
export type CompiledStep =
  | { kind: 'shell'; label: string; shell: string }
  | { kind: 'reexec'; label: string; prefix: string[] }
  | { kind: 'spawn'; label: string; name: string; steps: Step[] };

const PROPAGATION = {
  'make-shared': 'shared',
  'make-slave': 'slave',
  'make-private': 'private',
  'make-unbindable': 'unbindable',
} as const;

export function compileStep(step: Step): CompiledStep {
  const name = stepName(step);
  switch (name) {
    case 'mkdir': {
      const paths = ([] as string[]).concat(step.mkdir!);
      return { kind: 'shell', label: `mkdir ${paths.join(' ')}`, shell: shJoin(['mkdir', '-p', '--', ...paths]) };
    }
    case 'write': {
      const w = step.write!;
      return { kind: 'shell', label: `write ${w.path}`, shell: `printf '%s' ${shq(w.content)} > ${shq(w.path)}` };
    }
    case 'symlink': {
      const l = step.symlink!;
      return {
        kind: 'shell',
        label: `symlink ${l.path} -> ${l.target}`,
        shell: shJoin(['ln', '-s', '--', l.target, l.path]),
      };
    }
    case 'link': {
      const l = step.link!;
      return { kind: 'shell', label: `link ${l.from} ${l.to}`, shell: shJoin(['ln', '--', l.from, l.to]) };
    }
    case 'rename': {
      const r = step.rename!;
      return { kind: 'shell', label: `rename ${r.from} ${r.to}`, shell: shJoin(['mv', '-T', '--', r.from, r.to]) };
    }
    case 'mkfifo': {
      const paths = ([] as string[]).concat(step.mkfifo!);
      return { kind: 'shell', label: `mkfifo ${paths.join(' ')}`, shell: shJoin(['mkfifo', '--', ...paths]) };
    }
    case 'unlink':
    case 'rmdir': {
      const paths = ([] as string[]).concat(step[name]!);
      return {
        kind: 'shell',
        label: `${name} ${paths.join(' ')}`,
        shell: shJoin(name === 'unlink' ? ['rm', '-f', '--', ...paths] : ['rmdir', '--', ...paths]),
      };
    }
    case 'chdir':
      return { kind: 'shell', label: `chdir ${step.chdir!}`, shell: shJoin(['cd', '--', step.chdir!]) };
    case 'move': {
      const m = step.move!;
      return {
        kind: 'shell',
        label: `move ${m.from} -> ${m.to}`,
        shell: shJoin(['mount', '--move', '--', m.from, m.to]),
      };
    }
    case 'remount': {
      const r = step.remount!;
      const opts = `remount${r.super ? '' : ',bind'},${r.options}`;
      return {
        kind: 'shell',
        label: `remount ${r.path} ${r.super ? '(superblock) ' : ''}${r.options}`,
        shell: shJoin(['mount', '-o', opts, '--', r.path]),
      };
    }
    case 'mount': {
      const m = step.mount!;
      if (m.image) {
        // A fresh image each time: mkfs refuses nothing with -F, so an
        // existing file would be silently overwritten; fail instead.
        const img = m.image.path;
        const size = `${m.image['size-mib'] ?? 8}M`;
        const opts = ['loop', ...(m.options ? [m.options] : [])].join(',');
        const shell = [
          `[ ! -e ${shq(img)} ] || { echo ${shq(`image ${img} exists already`)} >&2; false; }`,
          shJoin(['truncate', '-s', size, '--', img]),
          shJoin([`mkfs.${m.fstype}`, '-q', '-F', '--', img]),
          shJoin(['mount', '-t', m.fstype, '-o', opts, '--', img, m.target]),
        ].join(' && ');
        return { kind: 'shell', label: `mount -t ${m.fstype} -o loop ${img} (${size}) ${m.target}`, shell };
      }
      const argv = [
        'mount',
        '-t',
        m.fstype,
        ...(m.options ? ['-o', m.options] : []),
        '--',
        m.source ?? m.fstype,
        m.target,
      ];
      return { kind: 'shell', label: `mount -t ${m.fstype} ${m.source ?? m.fstype} ${m.target}`, shell: shJoin(argv) };
    }
    case 'bind':
    case 'rbind': {
      const b = step[name]!;
      return {
        kind: 'shell',
        label: `${name} ${b.source} -> ${b.target}`,
        shell: shJoin(['mount', `--${name}`, '--', b.source, b.target]),
      };
    }
    case 'umount': {
      const u = step.umount!;
      const [path, lazy] = typeof u === 'string' ? [u, false] : [u.path, u.lazy ?? false];
      return {
        kind: 'shell',
        label: `umount${lazy ? ' -l' : ''} ${path}`,
        shell: shJoin(['umount', ...(lazy ? ['-l'] : []), '--', path]),
      };
    }
    case 'set-group': {
      const g = step['set-group']!;
      return {
        kind: 'shell',
        label: `set-group ${g.from} -> ${g.to}`,
        shell: shJoin([HELPER, 'set-group', g.from, g.to]),
      };
    }
    case 'open-tree': {
      const o = step['open-tree']!;
      return {
        kind: 'shell',
        label: `open-tree ${o.source} -> ${o.target}${o.recursive ? ' (recursive)' : ''}`,
        shell: shJoin([HELPER, 'open-tree', o.source, o.target, ...(o.recursive ? ['-r'] : [])]),
      };
    }
    case 'make-shared':
    case 'make-slave':
    case 'make-private':
    case 'make-unbindable': {
      const t = step[name] as PropagationTarget;
      const [path, rec] = typeof t === 'string' ? [t, false] : [t.path, t.recursive ?? false];
      const flag = `--make-${rec ? 'r' : ''}${PROPAGATION[name]}`;
      return {
        kind: 'shell',
        label: `${name}${rec ? ' (recursive)' : ''} ${path}`,
        shell: shJoin(['mount', flag, '--', path]),
      };
    }
    case 'spawn': {
      const sp = step.spawn!;
      return { kind: 'spawn', label: `spawn ${sp.name}`, name: sp.name, steps: sp.steps };
    }
    case 'signal':
      return { kind: 'shell', label: `signal ${step.signal!}`, shell: `ml_signal ${shq(step.signal!)}` };
    case 'wait':
      return { kind: 'shell', label: `wait ${step.wait!}`, shell: `ml_wait ${shq(step.wait!)}` };
    case 'unshare': {
      const ns = step.unshare!;
      return { kind: 'reexec', label: `unshare ${ns.join(',')}`, prefix: [HELPER, 'unshare', ns.join(','), '--'] };
    }
    case 'open': {
      const o = step.open!;
      const flags = (o.flags ?? ['rdonly']).join(',');
      return {
        kind: 'reexec',
        label: `open ${o.path} as fd ${o.fd} (${flags}${o.offset ? `, offset ${o.offset}` : ''})`,
        prefix: [HELPER, 'open', String(o.fd), flags, o.mode ?? '0644', String(o.offset ?? 0), o.path, '--'],
      };
    }
    case 'close':
      return { kind: 'shell', label: `close fd ${step.close!}`, shell: `exec ${step.close!}<&-` };
    case 'unshare-user':
    case 'socket':
    case 'mknod':
    case 'mmap':
    case 'truncate':
    case 'access': {
      // The bash executor is being retired: these steps exist only in the helper's program.
      const why = `the ${name} step needs the helper executor (MOUNTLAB_EXECUTOR=helper, the default)`;
      return { kind: 'shell', label: stepLabel(step), shell: `{ echo ${shq(`mountlab: ${why}`)} >&2; false; }` };
    }
    case 'chroot':
      return { kind: 'reexec', label: `chroot ${step.chroot!}`, prefix: ['chroot', '--', step.chroot!] };
    case 'pivot-root': {
      const p = step['pivot-root']!;
      const putOld = p['new-root'].replace(/\/$/, '') + p['put-old'];
      return {
        kind: 'shell',
        label: `pivot-root ${p['new-root']} (old root at ${p['put-old']})`,
        shell: `${shJoin([HELPER, 'pivot-root', p['new-root'], putOld])} && cd /`,
      };
    }
    default: {
      const never: never = name;
      throw new Error(`no compiler for step ${String(never)}`);
    }
  }
}
