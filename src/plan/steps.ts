import type { PropagationTarget, Step } from '../scenario/scenario.generated.js';
import { stepName } from '../scenario/semantics.js';
import { shJoin, shq } from './shell.js';

/** A step compiled to shell, with a label a human recognises. */
/** The image's static helper (vm/helper/mountlab-helper.c). */
export const HELPER = '/usr/local/bin/mountlab-helper';

export interface CompiledStep {
  label: string;
  shell: string;
}

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
      return { label: `mkdir ${paths.join(' ')}`, shell: shJoin(['mkdir', '-p', '--', ...paths]) };
    }
    case 'write': {
      const w = step.write!;
      return { label: `write ${w.path}`, shell: `printf '%s' ${shq(w.content)} > ${shq(w.path)}` };
    }
    case 'symlink': {
      const l = step.symlink!;
      return { label: `symlink ${l.path} -> ${l.target}`, shell: shJoin(['ln', '-s', '--', l.target, l.path]) };
    }
    case 'link': {
      const l = step.link!;
      return { label: `link ${l.from} ${l.to}`, shell: shJoin(['ln', '--', l.from, l.to]) };
    }
    case 'rename': {
      const r = step.rename!;
      return { label: `rename ${r.from} ${r.to}`, shell: shJoin(['mv', '-T', '--', r.from, r.to]) };
    }
    case 'unlink':
    case 'rmdir': {
      const paths = ([] as string[]).concat(step[name]!);
      return { label: `${name} ${paths.join(' ')}`, shell: shJoin(name === 'unlink' ? ['rm', '-f', '--', ...paths] : ['rmdir', '--', ...paths]) };
    }
    case 'chdir':
      return { label: `chdir ${step.chdir!}`, shell: shJoin(['cd', '--', step.chdir!]) };
    case 'move': {
      const m = step.move!;
      return { label: `move ${m.from} -> ${m.to}`, shell: shJoin(['mount', '--move', '--', m.from, m.to]) };
    }
    case 'remount': {
      const r = step.remount!;
      const opts = `remount${r.super ? '' : ',bind'},${r.options}`;
      return { label: `remount ${r.path} ${r.super ? '(superblock) ' : ''}${r.options}`, shell: shJoin(['mount', '-o', opts, '--', r.path]) };
    }
    case 'mount': {
      const m = step.mount!;
      const argv = ['mount', '-t', m.fstype, ...(m.options ? ['-o', m.options] : []), '--', m.source ?? m.fstype, m.target];
      return { label: `mount -t ${m.fstype} ${m.source ?? m.fstype} ${m.target}`, shell: shJoin(argv) };
    }
    case 'bind':
    case 'rbind': {
      const b = step[name]!;
      return { label: `${name} ${b.source} -> ${b.target}`, shell: shJoin(['mount', `--${name}`, '--', b.source, b.target]) };
    }
    case 'umount': {
      const u = step.umount!;
      const [path, lazy] = typeof u === 'string' ? [u, false] : [u.path, u.lazy ?? false];
      return { label: `umount${lazy ? ' -l' : ''} ${path}`, shell: shJoin(['umount', ...(lazy ? ['-l'] : []), '--', path]) };
    }
    case 'set-group': {
      const g = step['set-group']!;
      return { label: `set-group ${g.from} -> ${g.to}`, shell: shJoin([HELPER, 'set-group', g.from, g.to]) };
    }
    case 'open-tree': {
      const o = step['open-tree']!;
      return {
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
      return { label: `${name}${rec ? ' (recursive)' : ''} ${path}`, shell: shJoin(['mount', flag, '--', path]) };
    }
    default: {
      const never: never = name;
      throw new Error(`no compiler for step ${String(never)}`);
    }
  }
}
