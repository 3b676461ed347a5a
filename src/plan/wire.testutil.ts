import type { Op, OpName, Program, ProgramStep } from './program.js';
import { OP_FIELDS, WIRE_MAGIC, WIRE_VERSION, type FieldType } from './wire.js';

/**
 * A decoder of the wire format for tests only: the guest's real reader is
 * vm/helper/plan-wire.c. It is strict where that one is, so a test can tell
 * a well-formed plan from one that merely looks right.
 */
export function unescapeArg(token: string): Buffer {
  if (token === '""') return Buffer.alloc(0);
  const out: number[] = [];
  for (let i = 0; i < token.length; ) {
    const c = token.charCodeAt(i);
    if (c === 0x5c) {
      const oct = token.slice(i + 1, i + 4);
      if (!/^[0-3][0-7]{2}$/.test(oct)) throw new Error(`bad escape at ${i} in ${JSON.stringify(token)}`);
      out.push(parseInt(oct, 8));
      i += 4;
    } else {
      if (c < 0x21 || c > 0x7e || c === 0x22) throw new Error(`unescaped byte ${c} in ${JSON.stringify(token)}`);
      out.push(c);
      i++;
    }
  }
  return Buffer.from(out);
}

const text = (token: string) => unescapeArg(token).toString('utf8');

function number(token: string, type: FieldType): number {
  const re = type === 'hex' ? /^0x[0-9a-f]+$/ : type === 'octal' ? /^0[0-7]*$/ : /^(0|[1-9][0-9]*)$/;
  if (!re.test(token)) throw new Error(`bad ${type} number ${JSON.stringify(token)}`);
  return type === 'octal' ? parseInt(token, 8) : Number(token);
}

function decodeOp(args: string[]): Op {
  const [name, ...rest] = args;
  const fields = OP_FIELDS[name as OpName] as [string, FieldType][] | undefined;
  if (!fields) throw new Error(`unknown op ${JSON.stringify(name)}`);
  const op: Record<string, unknown> = { op: name };
  let i = 0;
  for (const [key, type] of fields) {
    if (type === 'rest') {
      op[key] = rest.slice(i).map(text);
      i = rest.length;
      continue;
    }
    const token = rest[i++];
    if (token === undefined) throw new Error(`op ${name}: missing ${key}`);
    if (type === 'string') op[key] = text(token);
    else if (type === 'bool') {
      if (token !== '0' && token !== '1') throw new Error(`op ${name}: bad boolean ${token}`);
      op[key] = token === '1';
    } else op[key] = number(token, type);
  }
  if (i !== rest.length) throw new Error(`op ${name}: ${rest.length - i} extra argument(s)`);
  return op as unknown as Op;
}

export function parseProgramWire(wire: string): Program {
  if (!wire.endsWith('\n')) throw new Error('the plan does not end with a newline');
  const lines = wire.slice(0, -1).split('\n');
  if (lines[0] !== `${WIRE_MAGIC} ${WIRE_VERSION}`) throw new Error(`bad first line ${JSON.stringify(lines[0])}`);
  const p: Program = { scenario: '', syncDir: '', tasks: [], outside: [] };
  let step: ProgramStep | undefined;
  let ended = false;
  for (const line of lines.slice(1)) {
    if (ended) throw new Error('a record after end');
    const [kind, ...args] = line.split(' ');
    switch (kind) {
      case 'scenario':
        p.scenario = text(args[0]!);
        break;
      case 'sync-dir':
        p.syncDir = text(args[0]!);
        break;
      case 'init-user': {
        if (args.length !== 3) throw new Error(`init-user takes 3 arguments, not ${args.length}`);
        const setgroups = text(args[0]!);
        if (setgroups !== 'allow' && setgroups !== 'deny') throw new Error(`bad setgroups ${setgroups}`);
        p.initUser = { setgroups, uidMap: text(args[1]!), gidMap: text(args[2]!) };
        break;
      }
      case 'task':
        p.tasks.push({ name: text(args[0]!), steps: [] });
        step = undefined;
        break;
      case 'step':
      case 'outside': {
        step = { n: number(args[0]!, 'decimal'), label: text(args[1]!), ops: [] };
        if (kind === 'outside') p.outside.push(step);
        else p.tasks[p.tasks.length - 1]!.steps.push(step);
        break;
      }
      case 'op':
        if (!step) throw new Error('an op outside a step');
        step.ops.push(decodeOp(args));
        break;
      case 'end':
        ended = true;
        break;
      default:
        throw new Error(`unknown record ${JSON.stringify(kind)}`);
    }
  }
  if (!ended) throw new Error('no end record: the plan is cut short');
  return p;
}

/** Strings a scenario may hold, each of which would have meant something to a shell or a line parser. */
export const HOSTILE = [
  '/w/$(touch /tmp/pwned)',
  '/w/`touch /tmp/pwned`',
  `/w/it's "quoted"`,
  '/w/a;b && c || d | e > f < g',
  '/w/literal\\040backslash',
  '/w/ünïcødé 日本語 😀',
  '/w/-rf',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion meant literally, as hostile data
  '/w/$HOME ${IFS} * ? [a] ~ ! # %',
  '/w/new\nline\r\ttab',
  '/w/""',
  '/w/trailing space ',
  '/w/op mkdir /etc',
  '/w/\nend\nop mkdir /pwned',
];

/**
 * A program built by hand, beyond what the scenario loader admits (a name
 * with a newline, a NUL in content), with one op of every kind: the wire
 * must carry whatever a program holds.
 */
export function hostileProgram(): Program {
  const [a, b, c, d] = [HOSTILE[0]!, HOSTILE[8]!, HOSTILE[12]!, HOSTILE[5]!];
  const ops: Op[] = [
    ...HOSTILE.map((path): Op => ({ op: 'mkdir', path })),
    { op: 'write', path: `${c}/f`, content: '$(id)\n`x`\\ \0 end\n' },
    { op: 'write', path: '/w/empty', content: '' },
    { op: 'symlink', target: b, path: c },
    { op: 'link', from: a, to: b },
    { op: 'rename', from: c, to: d },
    { op: 'mkfifo', path: b },
    { op: 'unlink', path: c },
    { op: 'rmdir', path: d },
    { op: 'chdir', path: a },
    { op: 'mount', source: b, target: c, fstype: 'tmp fs', flags: 0xffffffff, data: 'mode=0755,x=a b' },
    { op: 'bind', source: a, target: b, recursive: true, attrSet: 0x200001, attrClr: 0x70 },
    { op: 'move', from: c, to: d },
    { op: 'propagation', path: b, type: 'unbindable', recursive: true },
    { op: 'remount', path: c, super: true, options: ['ro', 'x=a b', ''] },
    { op: 'remount', path: c, super: false, options: [] },
    { op: 'umount', path: b, lazy: true },
    { op: 'set-group', from: a, to: c },
    { op: 'open-tree', source: c, target: a, recursive: false },
    { op: 'create-image', path: b, bytes: 8 * 1024 * 1024 },
    { op: 'loop-mount', image: c, target: b, fstype: 'ext4', flags: 1, data: '' },
    { op: 'exec', argv: ['mkfs.ext4', '-q', '--', c, ''], why: 'a reason; with "quotes"' },
    { op: 'spawn', task: 1, name: 'kid $(x)\nnext' },
    { op: 'wait', name: 'sync\npoint' },
    { op: 'unshare', namespaces: ['mnt', 'pid'] },
    { op: 'unshare-user', namespaces: ['mnt'], setgroups: 'deny', uidMap: '0 1000 1\n', gidMap: '0 1000 1\n' },
    { op: 'unshare-user', namespaces: [], setgroups: 'allow', uidMap: 'x y\n$(id)', gidMap: '' },
    { op: 'open', path: b, fd: 1023, flags: ['rdwr', 'creat'], mode: 0o600, offset: 2 ** 40 },
    { op: 'close', fd: 3 },
    { op: 'chroot', path: c },
    { op: 'pivot-root', newRoot: a, putOld: `${a}/old` },
  ];
  return {
    scenario: 'hostile $(x)\n',
    syncDir: '/.mountlab-sync-h1',
    tasks: [
      { name: 'init', steps: [{ n: 1, label: `mkdir ${HOSTILE.join(' ')}`, ops }] },
      {
        name: 'kid $(x)\nnext',
        steps: [{ n: 2, label: 'signal sync\npoint', ops: [{ op: 'signal', name: 'sync\npoint' }] }],
      },
    ],
    outside: [{ n: 1, label: 'outside \n', ops: [{ op: 'mkdir', path: b }] }],
    initUser: { setgroups: 'deny', uidMap: '0 100000 100000\n$(x)', gidMap: '' },
  };
}
