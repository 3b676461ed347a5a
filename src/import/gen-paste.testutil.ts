/**
 * Random mount tables that Linux could print, for the import property
 * tests: peers share a superblock and a master, masters are groups of the
 * same superblock (or outside the table), unbindable mounts are private,
 * no two mounts sit side by side on one mountpoint. Unlike the comparator's
 * generator (src/compare/gen.testutil.ts), which must also make nonsense,
 * everything here must be rebuildable.
 *
 * And the ways people paste them: mail quoting, wrapping at 72 columns,
 * task headers.
 */
import { formatMountinfoLine, type MountEntry } from '../capture/mountinfo.js';
import { chance, pick, shuffle, type Rand } from '../compare/gen.testutil.js';

interface GSb {
  fsType: string;
  major: number;
  minor: number;
  source: string;
  superOptions: string[];
  roots: string[];
}

export interface GTable {
  tasks: { name: string; mounts: MountEntry[] }[];
}

const KINDS: { w: number; make: (r: Rand, minor: number) => GSb }[] = [
  {
    w: 6,
    make: (r, minor) => ({
      fsType: 'tmpfs',
      major: 0,
      minor,
      source: pick(r, ['tmpfs', 'none', 'w', 'src dir']),
      superOptions: pick(r, [['rw'], ['rw', 'size=1024k', 'mode=755'], ['rw', 'inode64'], ['ro']]),
      roots: ['/', '/sub', '/d i r', '/a/b', '/caf\u00c3\u00a9'],
    }),
  },
  {
    w: 1,
    make: (_r, minor) => ({
      fsType: 'proc',
      major: 0,
      minor,
      source: 'proc',
      superOptions: ['rw'],
      roots: ['/', '/sys', '/sys/net', '/sys/kernel'],
    }),
  },
  {
    w: 1,
    make: (_r, minor) => ({
      fsType: 'sysfs',
      major: 0,
      minor,
      source: 'sysfs',
      superOptions: ['rw'],
      roots: ['/', '/devices/virtual/net', '/kernel'],
    }),
  },
  {
    w: 1,
    make: (_r, minor) => ({
      fsType: 'devpts',
      major: 0,
      minor,
      source: 'devpts',
      superOptions: ['rw', 'gid=5', 'mode=620', 'ptmxmode=666'],
      roots: ['/'],
    }),
  },
  {
    w: 1,
    make: (r, minor) => ({
      fsType: 'ext4',
      major: 254,
      minor,
      source: pick(r, ['/dev/vda1', '/dev/disk/by-uuid/6c5a78e0']),
      superOptions: ['rw', 'data=ordered'],
      roots: ['/', '/var/lib/x', '/home'],
    }),
  },
  {
    w: 1,
    make: (_r, minor) => ({
      fsType: 'overlay',
      major: 0,
      minor,
      source: 'overlay',
      superOptions: ['rw', 'lowerdir=/l', 'upperdir=/u', 'workdir=/w'],
      roots: ['/', '/etc'],
    }),
  },
  {
    w: 1,
    make: (_r, minor) => ({
      fsType: 'cgroup2',
      major: 0,
      minor,
      source: 'cgroup2',
      superOptions: ['rw', 'nsdelegate'],
      roots: ['/', '/system.slice'],
    }),
  },
  {
    w: 1,
    make: (_r, minor) => ({
      fsType: 'nsfs',
      major: 0,
      minor,
      source: 'nsfs',
      superOptions: ['rw'],
      roots: ['net:[4026531992]', 'uts:[4026531838]'],
    }),
  },
  {
    w: 1,
    make: (_r, minor) => ({
      fsType: 'ramfs',
      major: 0,
      minor,
      source: 'ramfs',
      superOptions: ['rw'],
      roots: ['/', '/r'],
    }),
  },
];

// Names that take the escapes (space, tab, backslash) and UTF-8 bytes (latin1 strings carry bytes).
const NAMES = ['a', 'b', 'sub', 'data', 'my dir', 'tab\there', 'back\\slash', 'caf\u00c3\u00a9', 'x', 'tmp', 'run'];

export function genTable(r: Rand): GTable {
  const supers: GSb[] = [];
  const newSb = (): number => {
    const total = KINDS.reduce((s, k) => s + k.w, 0);
    let x = r.int(0, total - 1);
    const kind = KINDS.find((k) => (x -= k.w) < 0)!;
    supers.push(kind.make(r, 20 + supers.length));
    return supers.length - 1;
  };
  interface M {
    ns: number;
    sb: number;
    e: MountEntry;
    parent: M | undefined;
  }
  const mounts: M[] = [];
  const ids = shuffle(r, increasing(r, 200, 20));
  let nextId = 0;
  const mountOptions = () => {
    const o = [chance(r, 80) ? 'rw' : 'ro'];
    for (const f of ['nosuid', 'nodev', 'noexec']) if (chance(r, 25)) o.push(f);
    const a = pick(r, ['relatime', 'relatime', 'noatime', '']);
    if (a) o.push(a);
    return o;
  };
  const make = (ns: number, parent: M | undefined, mountPoint: string): M => {
    const sb = supers.length && chance(r, 40) ? r.int(0, supers.length - 1) : newSb();
    const s = supers[sb]!;
    const e: MountEntry = {
      line: 0,
      mountId: ids[nextId++]!,
      parentId: parent ? parent.e.mountId : 1,
      major: s.major,
      minor: s.minor,
      root: pick(r, s.roots),
      mountPoint,
      mountOptions: mountOptions(),
      unbindable: false,
      fsType: s.fsType,
      source: s.source,
      superOptions: s.superOptions,
    };
    const m: M = { ns, sb, e, parent };
    mounts.push(m);
    return m;
  };
  const nsCount = pick(r, [1, 1, 1, 1, 2, 2, 3]);
  for (let ns = 0; ns < nsCount; ns++) {
    const mine = [make(ns, undefined, '/')];
    const n = r.int(0, 9);
    for (let i = 0; i < n; i++) {
      const parents = mine.filter((p) => p.e.fsType !== 'nsfs');
      if (!parents.length) break;
      const parent = pick(r, parents);
      const kids = mounts.filter((k) => k.parent === parent);
      let mp: string;
      if (chance(r, 15) && !kids.some((k) => k.e.mountPoint === parent.e.mountPoint)) {
        mp = parent.e.mountPoint;
      } else {
        const depth = r.int(1, 2);
        mp = parent.e.mountPoint;
        for (let d = 0; d < depth; d++) mp = `${mp === '/' ? '' : mp}/${pick(r, NAMES)}`;
        if (kids.some((k) => k.e.mountPoint === mp)) mp = `${mp}-${nextId}`;
      }
      mine.push(make(ns, parent, mp));
    }
  }

  // Peer groups and masters, per superblock.
  const gids = shuffle(r, increasing(r, 60, 1));
  let nextGid = 0;
  supers.forEach((_, sb) => {
    const on = mounts.filter((m) => m.sb === sb);
    const groups: { id: number; master?: number }[] = [];
    const externals: number[] = [];
    const masterFor = (): number | undefined => {
      const p = r.int(0, 99);
      if (groups.length && p < 35) return pick(r, groups).id;
      if (p < 55) {
        if (!externals.length || chance(r, 50)) externals.push(gids[nextGid++]!);
        return pick(r, externals);
      }
      return undefined;
    };
    let free = shuffle(r, on);
    const groupCount = r.int(0, Math.min(2, free.length));
    for (let g = 0; g < groupCount; g++) {
      const group: { id: number; master?: number } = { id: gids[nextGid++]! };
      const master = masterFor();
      if (master !== undefined) group.master = master;
      const take = r.int(1, Math.max(1, Math.min(3, free.length)));
      for (const m of free.slice(0, take)) {
        m.e.shared = group.id;
        if (group.master !== undefined) m.e.master = group.master;
      }
      free = free.slice(take);
      groups.push(group);
    }
    for (const m of free) {
      if (chance(r, 25)) {
        const master = masterFor();
        if (master !== undefined) m.e.master = master;
      } else if (chance(r, 12)) {
        m.e.unbindable = true;
      }
    }
  });

  return {
    tasks: Array.from({ length: nsCount }, (_, ns) => ({
      name: ns === 0 ? 'init' : `task${ns + 1}`,
      mounts: mounts.filter((m) => m.ns === ns).map((m) => m.e),
    })),
  };
}

/** n distinct numbers from `from` on, with random gaps (ids are renumbered on every boot; gaps are normal). */
function increasing(r: Rand, n: number, from: number): number[] {
  const out: number[] = [];
  let x = from;
  for (let i = 0; i < n; i++) out.push((x += r.int(1, 3)));
  return out;
}

export interface PasteStyle {
  /** Quote markers before every line, e.g. '> ' or '>> '. */
  quote: string;
  /** Wrap lines longer than this at a space (0: no wrapping). */
  wrap: number;
  headers: 'pid' | 'capture' | 'none';
  /** Prose around the table. */
  prose: boolean;
}

export function randomStyle(r: Rand, tasks: number): PasteStyle {
  return {
    quote: pick(r, ['', '', '> ', '>> ', '> > ', '>']),
    wrap: pick(r, [0, 0, 72, 76, 78]),
    headers: tasks > 1 || chance(r, 30) ? pick(r, ['pid', 'capture'] as const) : 'none',
    prose: chance(r, 50),
  };
}

/**
 * The table as someone would paste it; each task's lines in a random order (the kernel's is not one the importer
 * may rely on).
 */
export function renderPaste(t: GTable, style: PasteStyle, r: Rand): string {
  const lines: string[] = [];
  if (style.prose) lines.push('On Tue, someone wrote:', 'here is what the container sees:', '');
  t.tasks.forEach((task, i) => {
    if (style.headers === 'pid') lines.push(`== pid ${100 + i} (${task.name}) ==`);
    if (style.headers === 'capture') lines.push(`@task ${task.name} pid=${100 + i} mntns=${4026532000 + i}`);
    for (const e of shuffle(r, task.mounts)) lines.push(...wrapLine(formatMountinfoLine(e), style.wrap));
  });
  if (style.prose) lines.push('', 'Thanks,', '-- ', 'a reporter');
  return `${lines.map((l) => style.quote + l).join('\n')}\n`;
}

/** A mail client's word wrap: break at the last space before `width`, never before column 30. */
export function wrapLine(line: string, width: number): string[] {
  if (!width) return [line];
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    if (cut < 30) break;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut + 1);
  }
  out.push(rest);
  return out;
}
