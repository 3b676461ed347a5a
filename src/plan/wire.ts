import type { Op, OpName, Program, ProgramStep } from './program.js';

/**
 * The program as the guest helper reads it (vm/helper/plan-wire.c): line
 * records of space-separated arguments, parseable without a JSON library.
 *
 *   mountlab-plan 1                 version; the helper refuses any other
 *   scenario NAME
 *   sync-dir PATH
 *   init-user SETGROUPS UIDMAP GIDMAP   optional (the uns flavour): init in a new user namespace
 *   task NAME                       a task; its index is its place (init first)
 *   step N LABEL                    a step of the last task
 *   op NAME ARG...                  an operation of the last step
 *   outside N LABEL                 an outside step (its ops follow)
 *   end                             nothing after it; a plan without it is cut short
 *
 * Every argument is escaped, so that any byte string travels as data:
 * bytes 0x21-0x7e other than backslash and double quote stand for
 * themselves, every other byte (space, newline, quotes, non-UTF-8) is
 * \ooo, three octal digits; the empty string is "". The plan is therefore
 * printable ASCII with one record per line. Numbers are decimal, flags
 * hexadecimal (0x...), modes octal (0...), booleans 0 or 1.
 */
export const WIRE_VERSION = 1;
export const WIRE_MAGIC = 'mountlab-plan';

/** How one argument of an op is written; `rest` takes the remaining arguments as a list of strings. */
export type FieldType = 'string' | 'decimal' | 'hex' | 'octal' | 'bool' | 'rest';

/** The arguments of each op, in order (the helper's table in plan-wire.c must match). */
export const OP_FIELDS: { [K in OpName]: [keyof Extract<Op, { op: K }>, FieldType][] } = {
  mkdir: [['path', 'string']],
  write: [
    ['path', 'string'],
    ['content', 'string'],
  ],
  symlink: [
    ['target', 'string'],
    ['path', 'string'],
  ],
  link: [
    ['from', 'string'],
    ['to', 'string'],
  ],
  rename: [
    ['from', 'string'],
    ['to', 'string'],
  ],
  mkfifo: [['path', 'string']],
  unlink: [['path', 'string']],
  rmdir: [['path', 'string']],
  chdir: [['path', 'string']],
  mount: [
    ['source', 'string'],
    ['target', 'string'],
    ['fstype', 'string'],
    ['flags', 'hex'],
    ['data', 'string'],
  ],
  bind: [
    ['source', 'string'],
    ['target', 'string'],
    ['recursive', 'bool'],
    ['attrSet', 'hex'],
    ['attrClr', 'hex'],
  ],
  move: [
    ['from', 'string'],
    ['to', 'string'],
  ],
  propagation: [
    ['path', 'string'],
    ['type', 'string'],
    ['recursive', 'bool'],
  ],
  remount: [
    ['path', 'string'],
    ['super', 'bool'],
    ['options', 'rest'],
  ],
  umount: [
    ['path', 'string'],
    ['lazy', 'bool'],
  ],
  'set-group': [
    ['from', 'string'],
    ['to', 'string'],
  ],
  'open-tree': [
    ['source', 'string'],
    ['target', 'string'],
    ['recursive', 'bool'],
  ],
  'create-image': [
    ['path', 'string'],
    ['bytes', 'decimal'],
  ],
  'loop-mount': [
    ['image', 'string'],
    ['target', 'string'],
    ['fstype', 'string'],
    ['flags', 'hex'],
    ['data', 'string'],
  ],
  exec: [
    ['why', 'string'],
    ['argv', 'rest'],
  ],
  spawn: [
    ['task', 'decimal'],
    ['name', 'string'],
  ],
  signal: [['name', 'string']],
  wait: [['name', 'string']],
  unshare: [['namespaces', 'rest']],
  'unshare-user': [
    ['setgroups', 'string'],
    ['uidMap', 'string'],
    ['gidMap', 'string'],
    ['namespaces', 'rest'],
  ],
  open: [
    ['path', 'string'],
    ['fd', 'decimal'],
    ['mode', 'octal'],
    ['offset', 'decimal'],
    ['flags', 'rest'],
  ],
  close: [['fd', 'decimal']],
  socket: [
    ['fd', 'decimal'],
    ['type', 'string'],
    ['bind', 'string'],
    ['listen', 'bool'],
    ['connect', 'string'],
  ],
  mknod: [
    ['path', 'string'],
    ['type', 'string'],
    ['mode', 'octal'],
    ['major', 'decimal'],
    ['minor', 'decimal'],
  ],
  mmap: [
    ['path', 'string'],
    ['fd', 'decimal'],
    ['offset', 'decimal'],
    ['length', 'decimal'],
    ['shared', 'bool'],
    ['write', 'bool'],
  ],
  truncate: [
    ['path', 'string'],
    ['fd', 'decimal'],
    ['size', 'decimal'],
  ],
  pwrite: [
    ['path', 'string'],
    ['fd', 'decimal'],
    ['offset', 'decimal'],
    ['content', 'string'],
  ],
  access: [
    ['path', 'string'],
    ['missingOk', 'bool'],
  ],
  chroot: [['path', 'string']],
  'pivot-root': [
    ['newRoot', 'string'],
    ['putOld', 'string'],
  ],
};

/** Escapes one argument: a JS string travels as its UTF-8 bytes, a Buffer as itself. */
export function escapeArg(value: string | Buffer): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length === 0) return '""';
  let out = '';
  for (const b of bytes) {
    out +=
      b >= 0x21 && b <= 0x7e && b !== 0x5c && b !== 0x22
        ? String.fromCharCode(b)
        : `\\${b.toString(8).padStart(3, '0')}`;
  }
  return out;
}

function field(value: unknown, type: FieldType): string[] {
  switch (type) {
    case 'string':
      return [escapeArg(value as string)];
    case 'decimal':
      return [String(value as number)];
    case 'hex':
      return [`0x${(value as number).toString(16)}`];
    case 'octal':
      return [`0${(value as number).toString(8)}`];
    case 'bool':
      return [value ? '1' : '0'];
    case 'rest':
      return (value as string[]).map((v) => escapeArg(v));
  }
}

function opRecord(op: Op): string {
  const fields = OP_FIELDS[op.op] as [string, FieldType][];
  const args = fields.flatMap(([k, t]) => field((op as unknown as Record<string, unknown>)[k], t));
  return ['op', op.op, ...args].join(' ');
}

function stepRecords(kind: 'step' | 'outside', s: ProgramStep): string[] {
  return [`${kind} ${s.n} ${escapeArg(s.label)}`, ...s.ops.map(opRecord)];
}

/** The program in the wire format, ending with a newline. */
export function serialiseProgram(p: Program): string {
  const lines = [
    `${WIRE_MAGIC} ${WIRE_VERSION}`,
    `scenario ${escapeArg(p.scenario)}`,
    `sync-dir ${escapeArg(p.syncDir)}`,
  ];
  const u = p.initUser;
  if (u) lines.push(`init-user ${[u.setgroups, u.uidMap, u.gidMap].map((x) => escapeArg(x)).join(' ')}`);
  for (const t of p.tasks) {
    lines.push(`task ${escapeArg(t.name)}`);
    for (const s of t.steps) lines.push(...stepRecords('step', s));
  }
  for (const s of p.outside) lines.push(...stepRecords('outside', s));
  lines.push('end');
  return lines.join('\n') + '\n';
}
