import type { Scenario, Step } from './scenario.generated.js';
import { closest } from './suggest.js';
import { expectationProblems } from './expectation-rules.js';
import { criuArgProblems, externalProblems } from './criu-option-rules.js';

/** Problems the schema cannot express: they need the whole document. */
export interface SemanticProblem {
  path: string;
  message: string;
  suggestion?: string;
}

/** The name of a step: its only key. The schema guarantees exactly one. */
export function stepName(step: Step): keyof Step {
  return Object.keys(step)[0] as keyof Step;
}

/** Steps that need the tree's task machinery and so cannot run outside it. */
const TREE_ONLY = new Set([
  'spawn',
  'signal',
  'wait',
  'unshare',
  'unshare-user',
  'open',
  'close',
  'chroot',
  'pivot-root',
  'chdir',
  'socket',
  'mmap',
]);

/** sun_path holds 108 bytes, the last one the NUL the kernel wants for a path. */
const SUN_PATH_MAX = 107;

/** What `mkfs.FSTYPE` exists for in the guest (e2fsprogs). */
const IMAGE_FSTYPES = ['ext2', 'ext3', 'ext4'];

export function semanticProblems(s: Scenario): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  (s.outside ?? []).forEach((step, i) => {
    const name = stepName(step);
    if (TREE_ONLY.has(name)) {
      problems.push({
        path: `/outside/${i}/${name}`,
        message: `'${name}' runs only inside the tree; outside steps make mounts and files`,
        suggestion: 'move it to steps (or into a spawn)',
      });
    }
  });
  checkTasks(s, problems);
  const walkFiles = (steps: Step[], base: string) => {
    steps.forEach((step, i) => {
      fileStepProblems(step, `${base}/${i}`, problems);
      if (step.spawn) walkFiles(step.spawn.steps, `${base}/${i}/spawn/steps`);
    });
  };
  walkFiles(s.steps, '/steps');
  walkFiles(s.outside ?? [], '/outside');
  (s.outside ?? []).forEach((step, i) => {
    if (step.truncate?.fd !== undefined)
      problems.push({
        path: `/outside/${i}/truncate/fd`,
        message: 'outside steps hold no fds',
        suggestion: 'give `path`, or move the step into steps',
      });
  });
  const mounts = (steps: Step[], base: string) => {
    steps.forEach((step, i) => {
      const m = step.mount;
      if (m?.image) {
        if (!IMAGE_FSTYPES.includes(m.fstype)) {
          const p: SemanticProblem = {
            path: `${base}/${i}/mount/fstype`,
            message: `an image can be made for ${IMAGE_FSTYPES.join(', ')}, not '${m.fstype}'`,
          };
          const guess = closest(m.fstype, IMAGE_FSTYPES);
          if (guess) p.suggestion = `did you mean '${guess}'?`;
          problems.push(p);
        }
        if (m.source !== undefined) {
          problems.push({
            path: `${base}/${i}/mount/source`,
            message: 'with `image` the source is the loop device',
            suggestion: 'drop `source`',
          });
        }
      }
      if (step.spawn) mounts(step.spawn.steps, `${base}/${i}/spawn/steps`);
    });
  };
  mounts(s.steps, '/steps');
  mounts(s.outside ?? [], '/outside');
  const engineChoice = s.engine?.['mount-engine'] ?? 'v2';
  const bug = typeof s.expect === 'object' && 'known-bug' in s.expect ? s.expect['known-bug'] : undefined;
  if (bug?.['mount-engine'] && engineChoice !== 'both' && engineChoice !== bug['mount-engine']) {
    problems.push({
      path: '/expect/known-bug/mount-engine',
      message: `the bug is tied to the ${bug['mount-engine']} engine, but the scenario only runs under ${engineChoice}`,
      suggestion: `set engine.mount-engine to ${bug['mount-engine']} or both`,
    });
  }
  problems.push(...criuArgProblems(s.engine), ...externalProblems(s.engine));
  problems.push(...expectationProblems(s.expect));
  return problems;
}

/** The rules of socket, mknod, mmap and truncate that the schema cannot say. */
function fileStepProblems(step: Step, at: string, problems: SemanticProblem[]): void {
  const add = (path: string, message: string, suggestion?: string) =>
    problems.push(suggestion ? { path: `${at}/${path}`, message, suggestion } : { path: `${at}/${path}`, message });
  const sk = step.socket;
  if (sk) {
    for (const k of ['bind', 'connect'] as const) {
      const p = sk[k];
      if (p !== undefined && Buffer.byteLength(p) > SUN_PATH_MAX)
        add(`socket/${k}`, `${Buffer.byteLength(p)} bytes; a unix socket path holds at most ${SUN_PATH_MAX}`);
    }
    if (sk.listen && sk.bind === undefined)
      add('socket/listen', 'a socket listens at the path it is bound to', 'add `bind`');
    if (sk.listen && sk.type === 'dgram') add('socket/listen', 'a dgram socket cannot listen (EOPNOTSUPP)');
    if (sk.listen && sk.connect !== undefined)
      add('socket/connect', 'a listening socket cannot also connect (EINVAL)', 'use a second socket step');
  }
  const mk = step.mknod;
  if (mk) {
    const dev = mk.type !== 'fifo';
    for (const k of ['major', 'minor'] as const) {
      if (dev && mk[k] === undefined) add(`mknod/${k}`, `a ${mk.type} device needs its ${k} number`);
      if (!dev && mk[k] !== undefined) add(`mknod/${k}`, 'a fifo has no device number', `drop \`${k}\``);
    }
  }
  for (const name of ['mmap', 'truncate'] as const) {
    const x = step[name];
    if (!x) continue;
    if ((x.path === undefined) === (x.fd === undefined))
      add(name, `give exactly one of \`path\` and \`fd\`: what to ${name === 'mmap' ? 'map' : 'truncate'}`);
  }
  const tr = step.truncate;
  if (tr && (tr.offset === undefined) !== (tr.content === undefined))
    add(`truncate/${tr.offset === undefined ? 'content' : 'offset'}`, '`offset` and `content` go together');
  const uu = step['unshare-user'];
  for (const k of ['uid-map', 'gid-map'] as const) {
    const m = uu?.[k];
    if (m) for (const p of idMapProblems(m)) add(`unshare-user/${k}/${p.index}`, p.message);
  }
}

/**
 * kernel/user_namespace.c map_write(): a range that runs past 2^32 - 1, or
 * that overlaps another inside or outside, makes the write fail with EINVAL.
 */
export function idMapProblems(
  map: { inside: number; outside: number; count: number }[],
): { index: number; message: string }[] {
  const out: { index: number; message: string }[] = [];
  const LIMIT = 2 ** 32 - 1;
  map.forEach((r, i) => {
    for (const side of ['inside', 'outside'] as const) {
      if (r[side] + r.count > LIMIT) {
        out.push({ index: i, message: `${side} ${r[side]} + count ${r.count} runs past ${LIMIT} (EINVAL)` });
        return;
      }
    }
    for (let j = 0; j < i; j++) {
      for (const side of ['inside', 'outside'] as const) {
        const o = map[j]!;
        if (r[side] < o[side] + o.count && o[side] < r[side] + r.count) {
          out.push({ index: i, message: `its ${side} ids overlap range ${j}'s (EINVAL)` });
          return;
        }
      }
    }
  });
  return out;
}

/**
 * Task names unique and not `init`; every wait has a signal somewhere (or
 * setup would hang until its time limit); every signal is waited for or
 * harmless.
 */
function checkTasks(s: Scenario, problems: SemanticProblem[]): void {
  const names = new Map<string, string>();
  const signals = new Set<string>();
  const waits: { name: string; path: string }[] = [];
  const walk = (steps: Step[], base: string, depth: number) => {
    steps.forEach((step, i) => {
      const at = `${base}/${i}`;
      if (step.spawn) {
        const n = step.spawn.name;
        if (n === 'init')
          problems.push({ path: `${at}/spawn/name`, message: "'init' is the root task's name; pick another" });
        else if (names.has(n))
          problems.push({ path: `${at}/spawn/name`, message: `task name '${n}' is already used at ${names.get(n)}` });
        else names.set(n, at);
        if (depth >= 8) problems.push({ path: `${at}/spawn`, message: 'spawns nest more than 8 deep' });
        walk(step.spawn.steps, `${at}/spawn/steps`, depth + 1);
      }
      if (step.signal) signals.add(step.signal);
      if (step.wait) waits.push({ name: step.wait, path: `${at}/wait` });
    });
  };
  walk(s.steps, '/steps', 0);
  if (names.size > 32) problems.push({ path: '/steps', message: `${names.size} tasks; at most 32` });
  for (const w of waits) {
    if (!signals.has(w.name)) {
      const known = [...signals];
      const p: SemanticProblem = {
        path: w.path,
        message: `waits for '${w.name}', but no step signals it (setup would hang)`,
      };
      const guess = closest(w.name, known);
      if (guess) p.suggestion = `did you mean '${guess}'?`;
      problems.push(p);
    }
  }
}
