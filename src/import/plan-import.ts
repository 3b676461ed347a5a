/**
 * Turns a pasted mount table into the steps of a scenario that rebuilds the
 * same topology in the lab, up to renumbering.
 *
 * Where the pasted tree goes: the scenario root is the lab's overlay, so the
 * pasted "/" cannot be the tree's own root. Every pasted mountpoint P is
 * rebuilt at BASE+P (BASE is /pasted unless told): the pasted root mount
 * becomes a mount at /pasted, its /proc a proc at /pasted/proc, and so on; a
 * paste whose top mount is not "/" (part of a table) keeps its path below
 * BASE. verify.ts compares the subtree at BASE, rebased to "/", with the
 * paste.
 *
 * The recipe (each choice is there so that creation order never matters):
 *
 * 1. Every superblock is made once, at a scratch source /.import/sb/MAJ-MIN
 *    that nothing is ever mounted over: the filesystem itself where the
 *    guest can make one, a stand-in otherwise (a tmpfs, or a loop-backed
 *    image of the same ext type with --loop-images), each stand-in said in
 *    a comment and in the summary. Every directory the tree needs inside it
 *    (bind roots, mountpoints) is made through the source, before any mount
 *    of the tree exists, so read-only and covered mounts need no writes.
 * 2. Every pasted mount is a private bind from its superblock's source with
 *    its root (superblock sharing and roots kept), made in depth-first
 *    order, children before their parent is stacked on, deeper mountpoints
 *    before the ones that cover them, so that each bind lands on the right
 *    parent. Its per-mount flags and `unbindable` are set at once, while
 *    its path still reaches it. A mount that a later one will cover and
 *    that must join a group is kept as an fd (/proc/self/fd/N/ reaches a
 *    covered mount; a path does not).
 * 3. Sharing is assigned last, with MOVE_MOUNT_SET_GROUP only, so nothing
 *    propagates: one helper per peer group (/.import/peers/N, a bind of the
 *    superblock's root, so its root holds every member's) is made shared
 *    in master-before-slave order, joining its master group first and
 *    turning slave (set-group, make-slave, make-shared); one helper per
 *    master group with plain slaves (/.import/slaves/N) is made a slave of
 *    it. Each pasted mount then takes its whole state (group and master, or
 *    master alone) from one helper with one set-group. Groups whose master
 *    is not in the paste are external: their superblock and a shared
 *    anchor (/.import/host/master-N) are made by `outside` steps, in the
 *    guest's own namespace, as scenarios/seed-002/external-master-auto.yaml
 *    does.
 * 4. The helpers and sources are unmounted: their parent is private, so
 *    nothing propagates, and slaves of a helper pass to a peer.
 *
 * Further mount namespaces (tasks whose tables share no mount) are spawned
 * tasks that unshare after the helpers exist, so their copies of the
 * helpers are peers of the originals: cross-namespace peer groups come out
 * of the same recipe.
 */
import { BadInputError } from '../errors.js';
import type { Capture, TaskCapture } from '../capture/capture-file.js';
import type { MountEntry } from '../capture/mountinfo.js';
import { displayPath } from '../compare/text.js';
import { buildTopology, type PeerGroup, type Superblock, type Topology, type TopoMount } from '../compare/topology.js';
import type { Step } from '../scenario/scenario.generated.js';
import { TABLE_SOURCE, type Paste } from './parse-paste.js';
import { addStandInParents } from './stand-in-parents.js';
import { guestMayLackDir, guestMayLackFs, isSecurityOption } from './guest-lacks.js';

/** A step with the comment that goes above it in the YAML. */
export type PlanStep =
  | { step: Step; comment?: string }
  | { spawn: { name: string; steps: PlanStep[] }; comment?: string };

export interface ImportOptions {
  /** Where the pasted "/" is rebuilt; default DEFAULT_BASE. */
  base?: string;
  /** ext2/3/4 on a block device become loop-backed images of that type instead of tmpfs stand-ins. */
  loopImages?: boolean;
}

export const DEFAULT_BASE = '/pasted';
/** The schema's limit on a step list (scenario.schema.json, steps.maxItems). */
export const MAX_STEPS = 500;

/** A table too big for one scenario: a limit of the scenario language, not a fault of the paste. */
export class TooManySteps extends BadInputError {}
/** Scratch mounts live here while the scenario builds; all are unmounted at the end. */
export const SCRATCH = '/.import';

export interface ImportPlan {
  base: string;
  outside: PlanStep[];
  steps: PlanStep[];
  engine?: { 'dump-args': string[]; 'restore-args': string[] };
  requires: { kernel: string; paths?: string[] };
  /**
   * The topology the scenario must build: the paste as pasted (mountpoints
   * not rebased), with each stand-in's filesystem type, source and super
   * options as the guest will show them. One task per mount namespace,
   * keyed by the scenario's task names.
   */
  expected: Capture;
  /**
   * Superblocks (as 'major:minor' in `expected`) whose source the guest
   * picks (a loop device): a different source there is the stand-in, not a
   * difference.
   */
  looseSources: string[];
  /** One sentence per substitution (stand-ins, dropped options, what is not reproduced). */
  substitutions: string[];
  /** How the paste was read and mapped. */
  notes: string[];
  counts: {
    mounts: number;
    namespaces: number;
    superblocks: number;
    peerGroups: number;
    slaves: number;
    external: number;
    standIns: number;
  };
  /** Scenario task per namespace: 'init' first, then spawned tasks. */
  tasks: { name: string; pasted: string }[];
}

/** Filesystems the guest makes a new superblock of on every mount. */
const MULTI_INSTANCE = new Set(['tmpfs', 'ramfs', 'proc', 'devpts', 'bpf']);
/** Filesystems with one superblock per namespace or per system: the first pasted one is real, more would merge. */
const SINGLE_INSTANCE = new Set([
  'sysfs',
  'mqueue',
  'debugfs',
  'tracefs',
  'securityfs',
  'pstore',
  'fusectl',
  'configfs',
]);
/** Where mkdir works, so mountpoints and bind roots can be made. */
const WRITABLE = new Set(['tmpfs', 'ramfs', 'ext2', 'ext3', 'ext4']);
/** The guest's own mount of these shows what exists inside them: `requires.paths` checks it there. */
const GUEST_MOUNT: Record<string, string> = { proc: '/proc', sysfs: '/sys' };
const IMAGE_TYPES = new Set(['ext2', 'ext3', 'ext4']);
/** Per-mount flags that `remount` sets. */
const MOUNT_FLAGS = new Set([
  'ro',
  'rw',
  'nosuid',
  'nodev',
  'noexec',
  'noatime',
  'nodiratime',
  'relatime',
  'strictatime',
  'nosymfollow',
]);
const OPTION = /^[A-Za-z0-9_.=:+/-]+$/;
/** The schema's limit on a mount step's options (scenario.schema.json, mount.options.maxLength). */
const MAX_OPTIONS = 1024;
const SOURCE = /^[^\u0000\n]+$/;
const FIRST_FD = 10;
const MAX_FD = 1023;

interface SbPlan {
  sb: Superblock;
  /** Path-safe name: 'MAJ-MIN'. */
  id: string;
  /** The scratch source, the same path outside and in the tree. */
  src: string;
  step: Step;
  /** Made by outside steps (it carries an external group). */
  outside: boolean;
  writable: boolean;
  standIn?: string;
  superRo: boolean;
  expected: { fsType: string; source: string; superOptions: string[] };
  looseSource: boolean;
  /** Where the guest shows this filesystem's own contents, for requires.paths. */
  guestMount?: string;
  /** Maps a pasted root to the root the stand-in uses (roots that are not paths, e.g. nsfs's 'net:[N]'). */
  rootOf: (root: string) => string;
}

interface Ns {
  name: string;
  pasted: string;
  mounts: TopoMount[];
  roots: TopoMount[];
}

/** What every stage shares: the paste, where it is rebuilt, and the notes and substitutions the summary lists. */
interface Planning {
  paste: Paste;
  opts: ImportOptions;
  base: string;
  notes: string[];
  substitutions: string[];
  /** Refuses the paste at one of its lines: what is wrong; what to do. */
  fail: (line: number, what: string, todo: string) => never;
}

/** Peer groups and masters, as the helpers rebuild them. */
interface Propagation {
  groupOf: Map<number, PeerGroup>;
  /** The superblock of each external group (a master not in the paste), by its id. */
  externalSb: Map<number, Superblock>;
  /** The external groups' ids, ascending. */
  externalIds: number[];
  /** Master before slave. */
  groupOrder: PeerGroup[];
  /** The masters of plain slaves (a master and no group of their own), ascending. */
  slaveMasters: number[];
}

/** Where each pasted mount goes in the scenario; every path it gives was checked as scenario text. */
interface Placement {
  sbOf: (m: TopoMount) => SbPlan;
  /** BASE + the pasted mountpoint. */
  target: (m: TopoMount) => string;
  /** The mount's root in its superblock's source. */
  rootOf: (m: TopoMount) => string;
  rootText: (m: TopoMount) => string;
  /** Directories made through the sources while nothing covers them. */
  sbDirs: string[];
  /** Paths inside the guest's own proc and sysfs that must exist (requires.paths). */
  requirePaths: Set<string>;
}

/** The stages in order; the first that finds the paste cannot be rebuilt refuses it at its line. */
export function planImport(pasted: Paste, opts: ImportOptions = {}): ImportPlan {
  const paste = addStandInParents(pasted);
  const file = paste.file;
  const planning: Planning = {
    paste,
    opts,
    base: checkBase(opts.base ?? DEFAULT_BASE),
    notes: [...paste.notes],
    substitutions: [],
    fail: (line, what, todo) => {
      throw new BadInputError([{ file, line: Math.max(1, line), col: 1, path: '', message: `${what}; ${todo}` }]);
    },
  };
  const { topo, nss } = mountNamespaces(planning);
  refuseImpossible(topo, nss, planning);
  const prop = propagationOf(topo, planning);
  const sbPlans = planSuperblocks(topo, prop, planning);
  const place = placeMounts(topo, sbPlans, planning);
  const outside = outsideSteps(sbPlans, prop);
  const steps = [
    ...setupSteps(nss, sbPlans, prop, place, planning.base),
    ...namespaceSteps(nss, sbPlans, prop, place, planning),
  ];
  const expected = expectedCapture(nss, place);

  const countSteps = (l: PlanStep[]): number =>
    l.reduce((n, s) => n + 1 + ('spawn' in s ? countSteps(s.spawn.steps) : 0), 0);
  if (countSteps(steps) > MAX_STEPS) {
    throw new TooManySteps([
      {
        file,
        line: paste.lines[0],
        col: 1,
        path: '',
        message:
          `the scenario would need ${countSteps(steps)} steps; a scenario has at most ${MAX_STEPS}; ` +
          'import a smaller part of the table',
      },
    ]);
  }
  if (paste.kind === 'table') {
    planning.notes.push(
      `a table names no filesystem: every mount is a bind of one tmpfs (source ${JSON.stringify(TABLE_SOURCE)}), ` +
        'which peers and masters need anyway',
    );
  }
  const paths = [...place.requirePaths].sort();
  if (paths.length > 20)
    planning.notes.push(
      `${paths.length} paths inside proc and sysfs must exist in the guest; requires.paths lists the first 20`,
    );
  const plan: ImportPlan = {
    base: planning.base,
    outside,
    steps,
    requires: { kernel: '>=5.15', ...(paths.length ? { paths: paths.slice(0, 20) } : {}) },
    expected,
    looseSources: [...sbPlans.values()].filter((sp) => sp.looseSource).map((sp) => sp.sb.device),
    substitutions: planning.substitutions,
    notes: planning.notes,
    counts: {
      mounts: topo.mounts.length,
      namespaces: nss.length,
      superblocks: topo.superblocks.length,
      peerGroups: topo.peerGroups.length,
      slaves: topo.mounts.filter((m) => m.master).length,
      external: prop.externalIds.length,
      standIns: [...sbPlans.values()].filter((sp) => sp.standIn).length,
    },
    tasks: nss.map((ns) => ({ name: ns.name, pasted: ns.pasted })),
  };
  if (prop.externalIds.length) {
    // CRIU refuses a slave whose master is outside the tree unless told (seed 002).
    const args = ['--ext-mount-map=auto', '--enable-external-masters'];
    plan.engine = { 'dump-args': args, 'restore-args': args };
  }
  return plan;
}

/** The namespaces (tasks whose tables share mounts are one) and their topology. */
function mountNamespaces(planning: Planning): { topo: Topology; nss: Ns[] } {
  const { fail } = planning;
  const groups = namespacesOf(planning.paste, planning.notes);
  const taskNames = nameTasks(groups.map((g) => g.name));
  const capture: Capture = {
    tasks: groups.map((g, i) => ({ key: taskNames[i]!, pid: 0, mntNs: `ns${i + 1}`, mounts: g.mounts, fds: [] })),
  };
  for (const g of groups) {
    const seen = new Map<number, number>();
    for (const m of g.mounts) {
      const prev = seen.get(m.mountId);
      if (prev !== undefined)
        fail(
          m.line,
          `mount id ${m.mountId} appears twice (also on line ${prev})`,
          'a mount table lists each mount once: remove the duplicate',
        );
      seen.set(m.mountId, m.line);
    }
  }
  const topo = buildTopology(capture);
  const cycle = topo.notes.find((n) => n.includes('form a cycle'));
  if (cycle)
    fail(
      Number(/line (\d+) is taken/.exec(cycle)?.[1] ?? 1),
      `parent ids form a cycle (${/lines [\d, ]+/.exec(cycle)?.[0] ?? cycle})`,
      'check the parent ids: a mount table is a tree',
    );
  const nss: Ns[] = taskNames.map((name, i) => {
    const tn = topo.namespaces.find((n) => n.tasks[0]!.key === name)!;
    return { name, pasted: groups[i]!.name, mounts: tn.mounts, roots: tn.roots };
  });
  return { topo, nss };
}

/** Refuses what the kernel never prints, and what the lab cannot build. */
function refuseImpossible(topo: Topology, nss: Ns[], planning: Planning): void {
  const { fail } = planning;
  for (const m of topo.mounts) {
    if (m.sibling > 0 && !m.parent) {
      // Roots have no parent to stack on: two on one path are two trees claiming the same place.
      const other = m.ns.roots.find((c) => c !== m && c.mountPoint === m.mountPoint)!;
      fail(
        m.entry.line,
        `mount ${m.entry.mountId} and mount ${other.entry.mountId} (line ${other.entry.line}) ` +
          `are both on ${show(m.mountPoint)} and neither's parent is in the paste: a table has one root there`,
        `remove one of them, or set its parent id to the other's (${other.entry.mountId}) if it is stacked on it`,
      );
    }
    if (m.sibling > 0) {
      // Named by their lines: which of them the topology numbers first is its own business.
      const siblings = m.parent ? m.parent.children : m.ns.roots;
      const side = siblings
        .filter((c) => c.mountPoint === m.mountPoint && c.sibling > 0)
        .sort((x, y) => x.entry.line - y.entry.line);
      const [first, second] = [side[0]!, side[1]!];
      fail(
        second.entry.line,
        `mount ${second.entry.mountId} and mount ${first.entry.mountId} (line ${first.entry.line}) ` +
          `are both on ${show(m.mountPoint)} with the same parent`,
        'mountlab can rebuild mounts stacked on one another, not side by side; remove one of them',
      );
    }
    if (m.parent && m.component.startsWith('\0')) {
      fail(
        m.entry.line,
        `mount ${m.entry.mountId}'s mountpoint ${show(m.mountPoint)} is not below its parent's ` +
          `(${show(m.parent.mountPoint)}, line ${m.parent.entry.line})`,
        'check the parent id',
      );
    }
    if (m.unbindable && (m.peerGroup || m.master)) {
      fail(
        m.entry.line,
        `mount ${m.entry.mountId} is unbindable and also shared or a slave, which Linux never shows`,
        'drop the unbindable flag or the shared/master field',
      );
    }
    if (m.entry.extraFields?.length)
      planning.notes.push(
        `line ${m.entry.line}: optional fields ${m.entry.extraFields.join(' ')} ` +
          'are not known to mountlab and were ignored',
      );
    if (!m.mountPoint.startsWith('/'))
      fail(
        m.entry.line,
        `the mountpoint ${show(m.mountPoint)} is not an absolute path`,
        'paste the table as the kernel prints it',
      );
  }
  for (const ns of nss) {
    for (const r of ns.roots) {
      const over = ns.roots.find((o) => o !== r && within(o.mountPoint, r.mountPoint));
      if (over) {
        fail(
          r.entry.line,
          `mount ${r.entry.mountId} on ${show(r.mountPoint)} and mount ${over.entry.mountId} ` +
            `on ${show(over.mountPoint)} (line ${over.entry.line}) ` +
            'both have parents outside the paste, and one lies within the other',
          'paste the mounts that connect them, or import them separately',
        );
      }
    }
  }
}

/** Peer groups, masters and external groups, checked as the kernel would have them. */
function propagationOf(topo: Topology, planning: Planning): Propagation {
  const { fail } = planning;
  const groupOf = new Map<number, PeerGroup>(topo.peerGroups.map((g) => [g.id, g]));
  const externalSb = new Map<number, Superblock>();
  for (const m of topo.mounts) {
    if (m.master?.kind === 'external') {
      const sb = externalSb.get(m.master.id);
      if (sb && sb !== m.superblock) {
        fail(
          m.entry.line,
          `master:${m.master.id} has slaves on two superblocks (${sb.device} and ${m.superblock.device})`,
          'propagation only joins mounts of one filesystem; check the master and device fields',
        );
      }
      externalSb.set(m.master.id, m.superblock);
    }
    if (m.propagateFrom)
      planning.substitutions.push(
        `line ${m.entry.line}: propagate_from:${m.propagateFrom.id} is not rebuilt ` +
          '(the kernel derives it from a master chain outside the paste)',
      );
  }
  for (const g of topo.peerGroups) {
    const first = g.members[0]!;
    for (const m of g.members) {
      if (m.superblock !== first.superblock) {
        fail(
          m.entry.line,
          `shared:${g.id} has members on two superblocks ` +
            `(${first.superblock.device}, line ${first.entry.line}, and ${m.superblock.device})`,
          'peers are always mounts of one filesystem; check the device and shared fields',
        );
      }
      if (refId(m.master) !== refId(first.master)) {
        fail(
          m.entry.line,
          `the peers of shared:${g.id} have different masters ` +
            `(${refText(first.master)} on line ${first.entry.line}, ${refText(m.master)} here)`,
          'peers share their master; check the master fields',
        );
      }
    }
    const master = first.master;
    if (master?.kind === 'group' && master.group.members[0]!.superblock !== first.superblock) {
      fail(
        first.entry.line,
        `shared:${g.id} is a slave of shared:${master.id}, which is on another superblock`,
        'a master and its slaves are always mounts of one filesystem; check the device fields',
      );
    }
  }
  for (const m of topo.mounts) {
    if (!m.peerGroup && m.master?.kind === 'group' && m.master.group.members[0]!.superblock !== m.superblock) {
      fail(
        m.entry.line,
        `mount ${m.entry.mountId} is a slave of shared:${m.master.id}, which is on another superblock`,
        'a master and its slaves are always mounts of one filesystem; check the device fields',
      );
    }
  }
  const groupOrder = orderGroups(topo.peerGroups, (line, what) =>
    fail(line, what, 'a master chain cannot loop; check the master fields'),
  );
  const slaveMasters = [...new Set(topo.mounts.filter((m) => !m.peerGroup && m.master).map((m) => m.master!.id))].sort(
    (a, b) => a - b,
  );
  const externalIds = [...externalSb.keys()].sort((a, b) => a - b);
  return { groupOf, externalSb, externalIds, groupOrder, slaveMasters };
}

/** Each superblock made once, real or a stand-in; those that carry external groups are made outside. */
function planSuperblocks(topo: Topology, prop: Propagation, planning: Planning): Map<Superblock, SbPlan> {
  const singleTaken = new Set<string>();
  const sbPlans = new Map<Superblock, SbPlan>();
  const outsideSbs = new Set([...prop.externalSb.values()]);
  const lacking = lackingDirs(topo);
  for (const sb of topo.superblocks) {
    const fail = (line: number, what: string) => planning.fail(line, what, 'a superblock has one filesystem type');
    const sp = planSuperblock(
      sb,
      planning.paste,
      planning.opts,
      singleTaken,
      outsideSbs.has(sb),
      planning.notes,
      fail,
      {
        lacks: lacking.get(sb),
      },
    );
    sbPlans.set(sb, sp);
    if (sp.standIn) planning.substitutions.push(sp.standIn);
  }
  return sbPlans;
}

/**
 * The guest's own sysfs and proc show what exists inside them: a real one
 * whose mounts need a directory the guest may lack (guest-lacks.ts), by the
 * first such path.
 */
function lackingDirs(topo: Topology): Map<Superblock, string> {
  const out = new Map<Superblock, string>();
  const need = (m: TopoMount, dir: string) => {
    const guest = GUEST_MOUNT[m.fsType];
    if (!guest || m.entry.major !== 0 || out.has(m.superblock)) return;
    const path = dir === '/' ? guest : guest + dir;
    const lack = guestMayLackDir(path);
    if (lack) out.set(m.superblock, `${lack.dir}, which the guest may not have (${lack.why})`);
  };
  for (const m of topo.mounts) {
    need(m, m.root);
    if (m.parent) need(m.parent, joinPath(m.parent.root, relative(m.parent.mountPoint, m.mountPoint)));
  }
  return out;
}

/** Paths and directories: every mountpoint and root checked as scenario text, the directories each needs. */
function placeMounts(topo: Topology, sbPlans: Map<Superblock, SbPlan>, planning: Planning): Placement {
  const { base, fail } = planning;
  const sbOf = (m: TopoMount) => sbPlans.get(m.superblock)!;
  // Paths are bytes in mountinfo (latin1 here) and text in a scenario (YAML is UTF-8).
  const text = (path: string, m: TopoMount, what: string): string => {
    const u = toUnicode(path);
    if (u === undefined)
      fail(
        m.entry.line,
        `the ${what} ${show(path)} is not UTF-8, and a scenario file is UTF-8 text`,
        'rename it in the paste, or leave the mount out',
      );
    const bad = /[\n\u0000]/.exec(u!)?.[0];
    if (bad)
      fail(
        m.entry.line,
        `the ${what} ${show(path)} holds ${bad === '\n' ? 'a newline' : 'a NUL'}, which scenario paths cannot`,
        'rename it in the paste, or leave the mount out',
      );
    // The kernel prints resolved paths; a scenario path may not climb out of the scenario root.
    const dots = path.split('/').find((c) => c === '.' || c === '..');
    if (dots)
      fail(
        m.entry.line,
        `the ${what} ${show(path)} has a '${dots}' component, ` +
          'which the kernel never prints and a scenario path cannot hold',
        'paste the table as the kernel prints it',
      );
    if (u!.length > 900)
      fail(
        m.entry.line,
        `the ${what} is ${u!.length} characters long; scenario paths stop at 1024 with the scratch prefix`,
        'shorten it in the paste',
      );
    return u!;
  };
  const target = (m: TopoMount) => text(m.mountPoint === '/' ? base : base + m.mountPoint, m, 'mountpoint');
  const rootOf = (m: TopoMount) => sbOf(m).rootOf(m.root);
  const rootText = (m: TopoMount) => text(rootOf(m), m, 'mount root');
  const requirePaths = new Set<string>();
  const sbDirs: string[] = [];
  const addDir = (sp: SbPlan, dir: string, m: TopoMount) => {
    if (dir === '/') return;
    const d = text(dir, m, 'directory');
    if (sp.writable) sbDirs.push(sp.src + d);
    else if (sp.guestMount) requirePaths.add(sp.guestMount + d);
  };
  for (const m of topo.mounts) {
    target(m);
    rootText(m);
    addDir(sbOf(m), rootOf(m), m);
    if (m.parent) addDir(sbOf(m.parent), joinPath(rootOf(m.parent), relative(m.parent.mountPoint, m.mountPoint)), m);
  }
  return { sbOf, target, rootOf, rootText, sbDirs, requirePaths };
}

const peersPath = (id: number) => `${SCRATCH}/peers/${id}`;
const slavesPath = (id: number) => `${SCRATCH}/slaves/${id}`;
const anchorPath = (id: number) => `${SCRATCH}/host/master-${id}`;
const groupSource = (ref: { kind: 'group' | 'external'; id: number }) =>
  ref.kind === 'group' ? peersPath(ref.id) : anchorPath(ref.id);

/** Outside: the superblocks that carry external groups, and their anchors. */
function outsideSteps(sbPlans: Map<Superblock, SbPlan>, prop: Propagation): PlanStep[] {
  const { externalIds } = prop;
  const outside: PlanStep[] = [];
  const outsideSbPlans = [...sbPlans.values()].filter((sp) => sp.outside);
  if (outsideSbPlans.length) {
    outside.push(
      ...mkdirs(
        [...outsideSbPlans.map((sp) => sp.src), ...externalIds.map(anchorPath)],
        `The host's side: ${externalIds.map((e) => `master:${e}`).join(', ')} ` +
          `${externalIds.length === 1 ? 'is a peer group' : 'are peer groups'} outside the pasted namespace. ` +
          "Each gets a shared anchor here, in the guest's own namespace, so the tree's mounts can be its slaves.",
      ),
    );
    for (const sp of outsideSbPlans)
      outside.push(sp.standIn ? { step: sp.step, comment: `stand-in: ${sp.standIn}` } : { step: sp.step });
    for (const e of externalIds) {
      const sp = sbPlans.get(prop.externalSb.get(e)!)!;
      outside.push({ step: { bind: { source: sp.src, target: anchorPath(e) } } });
      outside.push({ step: { 'make-shared': anchorPath(e) }, comment: `master:${e}` });
    }
  }
  return outside;
}

/** Init, part 1: sources, directories, helpers. */
function setupSteps(
  nss: Ns[],
  sbPlans: Map<Superblock, SbPlan>,
  prop: Propagation,
  place: Placement,
  base: string,
): PlanStep[] {
  const { groupOf, externalSb, groupOrder, slaveMasters } = prop;
  const steps: PlanStep[] = [];
  const insideSbs = [...sbPlans.values()].filter((sp) => !sp.outside);
  const helperDirs = [
    ...groupOrder.map((g) => peersPath(g.id)),
    ...slaveMasters.map(slavesPath),
    ...insideSbs.map((sp) => sp.src),
  ];
  const rootDirs = nss.flatMap((ns) => ns.roots.map(place.target));
  steps.push(
    ...mkdirs(
      unique([...rootDirs, ...helperDirs]),
      `The pasted tree is rebuilt under ${base} (its "/" at ${base}); ` +
        `scratch mounts live under ${SCRATCH} until the end.`,
    ),
  );
  for (const sp of insideSbs)
    steps.push(sp.standIn ? { step: sp.step, comment: `stand-in: ${sp.standIn}` } : { step: sp.step });
  if (place.sbDirs.length)
    steps.push(
      ...mkdirs(
        unique(place.sbDirs),
        'Directories the tree needs (bind roots, mountpoints), made through the sources while nothing covers them.',
      ),
    );
  for (const sp of sbPlans.values()) {
    if (sp.superRo)
      steps.push({
        step: { remount: { path: sp.src, options: 'ro', super: true } },
        comment: `${sp.sb.device} is a read-only filesystem`,
      });
  }
  const helperSteps: PlanStep[] = [];
  for (const g of groupOrder) {
    const sp = place.sbOf(g.members[0]!);
    helperSteps.push({ step: { bind: { source: sp.src, target: peersPath(g.id) } } });
  }
  for (const id of slaveMasters) {
    const group = groupOf.get(id);
    const sb = group ? group.members[0]!.superblock : externalSb.get(id)!;
    helperSteps.push({ step: { bind: { source: sbPlans.get(sb)!.src, target: slavesPath(id) } } });
  }
  for (const g of groupOrder) {
    const master = g.members[0]!.master;
    const at = peersPath(g.id);
    if (master) {
      helperSteps.push({
        step: { 'set-group': { from: groupSource(master), to: at } },
        comment: `shared:${g.id}, a slave of ${master.kind === 'external' ? 'the external ' : ''}master:${master.id}`,
      });
      helperSteps.push({ step: { 'make-slave': at } });
      helperSteps.push({ step: { 'make-shared': at } });
    } else {
      helperSteps.push({ step: { 'make-shared': at }, comment: `shared:${g.id}` });
    }
  }
  for (const id of slaveMasters) {
    const ref = groupOf.has(id) ? ({ kind: 'group', id } as const) : ({ kind: 'external', id } as const);
    helperSteps.push({
      step: { 'set-group': { from: groupSource(ref), to: slavesPath(id) } },
      comment: `a plain slave of master:${id}, for the mounts that are one`,
    });
    helperSteps.push({ step: { 'make-slave': slavesPath(id) } });
  }
  if (helperSteps.length) {
    helperSteps[0] = {
      ...helperSteps[0]!,
      comment:
        'One helper per peer group and per master of plain slaves, configured master first; ' +
        'the mounts take their state from these.',
    };
    steps.push(...helperSteps);
  }
  return steps;
}

/** The trees, one per namespace: the other namespaces spawned first, init's last, then the clean-up. */
function namespaceSteps(
  nss: Ns[],
  sbPlans: Map<Superblock, SbPlan>,
  prop: Propagation,
  place: Placement,
  planning: Planning,
): PlanStep[] {
  const cleanup: Step[] = [
    ...prop.slaveMasters.map((id): Step => ({ umount: slavesPath(id) })),
    ...[...prop.groupOrder].reverse().map((g): Step => ({ umount: peersPath(g.id) })),
    ...prop.externalIds.map((id): Step => ({ umount: anchorPath(id) })),
    ...[...sbPlans.values()].map((sp): Step => ({ umount: sp.src })),
  ];
  const steps: PlanStep[] = [];
  const [first, ...others] = nss;
  for (const ns of others) {
    const child: PlanStep[] = [
      {
        step: { unshare: ['mnt'] },
        comment: `its namespace starts as a copy of init's: the helpers' copies are peers of theirs`,
      },
      { step: { signal: `${ns.name}-unshared` } },
      ...treeSteps(ns, place, planning),
      ...cleanup.map((step) => ({ step })),
    ];
    steps.push({
      spawn: { name: ns.name, steps: child },
      comment: `mount namespace ${ns.name} (pasted task ${show(ns.pasted)})`,
    });
  }
  for (const ns of others) steps.push({ step: { wait: `${ns.name}-unshared` } });
  steps.push(...treeSteps(first!, place, planning));
  if (cleanup.length) {
    steps.push({
      step: cleanup[0]!,
      comment: 'Drop the helpers and sources: their parent is private, so no unmount propagates.',
    });
    steps.push(...cleanup.slice(1).map((step) => ({ step })));
  }
  return steps;
}

/** One namespace's tree: every mount a private bind, then its sharing from the helpers. */
function treeSteps(ns: Ns, place: Placement, planning: Planning): PlanStep[] {
  const { target, sbOf, rootText } = place;
  const out: PlanStep[] = [];
  const fds = new Map<TopoMount, number>();
  const covered = coveredMounts(ns);
  const standInParents = new Set(planning.paste.standInParents ?? []);
  let nextFd = FIRST_FD;
  for (const m of creationOrder(ns)) {
    const t = target(m);
    const sp = sbOf(m);
    const r = rootText(m);
    const sharedField = m.peerGroup ? ` shared:${m.peerGroup.id}` : '';
    const masterField = m.master ? ` master:${m.master.id}` : '';
    const rootShown = m.root === '/' ? '' : `${toUnicode(m.root) ?? m.root} `;
    const what =
      `${m.entry.mountId}${sharedField}${masterField}: ${m.fsType} ${rootShown}` +
      `on ${toUnicode(m.mountPoint) ?? m.mountPoint} ` +
      (standInParents.has(m.entry.mountId)
        ? `(stand-in: not in the paste, the parent of line ${m.entry.line})`
        : `(line ${m.entry.line})`);
    out.push({ step: { bind: { source: r === '/' ? sp.src : sp.src + r, target: t } }, comment: what });
    const flags = m.mountOptions.filter((o) => MOUNT_FLAGS.has(o));
    // mountinfo shows no atime flag for strictatime, and a remount without one keeps the bind's relatime.
    if (!flags.some((o) => o === 'relatime' || o === 'noatime' || o === 'strictatime')) flags.push('strictatime');
    const odd = m.mountOptions.filter((o) => !MOUNT_FLAGS.has(o));
    if (odd.length)
      planning.substitutions.push(
        `line ${m.entry.line}: per-mount options ${odd.join(',')} are not set ` +
          `(remount knows ${[...MOUNT_FLAGS].join(', ')})`,
      );
    if (!sameSet(flags, ['rw', 'relatime']))
      out.push({ step: { remount: { path: t, options: flags.join(',') || 'rw' } } });
    if (m.unbindable) out.push({ step: { 'make-unbindable': t } });
    if ((m.peerGroup || m.master) && covered.has(m)) {
      if (nextFd > MAX_FD)
        planning.fail(
          m.entry.line,
          `more than ${MAX_FD - FIRST_FD + 1} covered mounts are shared or slaves`,
          'import a smaller part of the table',
        );
      fds.set(m, nextFd);
      out.push({
        step: { open: { path: t, fd: nextFd, flags: ['path', 'directory'] } },
        comment: `kept as fd ${nextFd}: a later mount covers it`,
      });
      nextFd++;
    }
  }
  const assign: PlanStep[] = [];
  for (const m of ns.mounts) {
    if (!m.peerGroup && !m.master) continue;
    const fd = fds.get(m);
    const to = fd !== undefined ? `/proc/self/fd/${fd}/` : target(m);
    const from = m.peerGroup ? peersPath(m.peerGroup.id) : slavesPath(m.master!.id);
    assign.push({ step: { 'set-group': { from, to } } });
  }
  if (assign.length) {
    assign[0] = {
      ...assign[0]!,
      comment: 'Sharing last: each mount joins its group (and master) from its helper; nothing propagates.',
    };
    out.push(...assign);
  }
  for (const fd of fds.values()) out.push({ step: { close: fd } });
  return out;
}

/** The topology this builds: the paste as pasted, with each stand-in as the guest will show it. */
function expectedCapture(nss: Ns[], place: Placement): Capture {
  return {
    tasks: nss.map(
      (ns, i): TaskCapture => ({
        key: ns.name,
        pid: 0,
        mntNs: `ns${i + 1}`,
        mounts: ns.mounts.map((m): MountEntry => {
          const sp = place.sbOf(m);
          return {
            ...m.entry,
            root: place.rootOf(m),
            fsType: sp.expected.fsType,
            source: sp.expected.source,
            superOptions: sp.expected.superOptions,
          };
        }),
        fds: [],
      }),
    ),
  };
}

function planSuperblock(
  sb: Superblock,
  paste: Paste,
  opts: ImportOptions,
  singleTaken: Set<string>,
  outside: boolean,
  notes: string[],
  fail: (line: number, what: string) => never,
  guest: { lacks: string | undefined },
): SbPlan {
  const m0 = sb.members[0]!;
  const fsType = m0.fsType;
  for (const m of sb.members) {
    if (m.fsType !== fsType)
      fail(m.entry.line, `device ${sb.device} is ${show(fsType)} on line ${m0.entry.line} and ${show(m.fsType)} here`);
  }
  const id = sb.device.replace(':', '-');
  const src = `${SCRATCH}/sb/${id}`;
  const line = Math.min(...sb.members.map((m) => m.entry.line));
  const where = `${show(fsType)} ${show(m0.source)} (device ${sb.device}, line ${line})`;
  const superRo = m0.superOptions.includes('ro');
  const rw = superRo ? 'ro' : 'rw';
  const sourceText = toUnicode(m0.source);
  const source =
    sourceText !== undefined && SOURCE.test(sourceText) && sourceText.length <= 255 ? sourceText : undefined;
  if (source === undefined)
    notes.push(`${where}: its source cannot be written in a scenario; the rebuilt one says "none"`);
  const shownSource = source === undefined ? 'none' : m0.source;
  const identity = (r: string) => r;

  let standIn: string | undefined;
  if (paste.kind === 'table') {
    // Not a substitution: the table never named a filesystem.
  } else if (m0.entry.major !== 0) {
    standIn = `${where} is a disk of the pasting machine`;
  } else if (guestMayLackFs(fsType)) {
    standIn = `${where} is a filesystem the guest may not have (${guestMayLackFs(fsType)})`;
  } else if (guest.lacks) {
    standIn = `${where} would need ${guest.lacks}, so this one`;
  } else if (MULTI_INSTANCE.has(fsType)) {
    // Real.
  } else if (SINGLE_INSTANCE.has(fsType)) {
    if (singleTaken.has(fsType)) standIn = `${where} is a second ${fsType} superblock; the guest has one, so this one`;
    singleTaken.add(fsType);
  } else {
    standIn = `${where} is not a filesystem the lab makes (${standInWhy(fsType)})`;
  }

  if (standIn && !(opts.loopImages && IMAGE_TYPES.has(fsType) && m0.entry.major !== 0)) {
    // nsfs roots are 'net:[N]', not paths: a directory of that name stands for each.
    const rootOf = (r: string) => (r.startsWith('/') ? r : `/${r}`);
    return {
      sb,
      id,
      src,
      outside,
      writable: true,
      superRo,
      looseSource: false,
      rootOf,
      standIn: `${standIn}: a tmpfs here${source === undefined ? '' : ` with the same source`}`,
      step: { mount: { fstype: 'tmpfs', ...(source !== undefined ? { source } : { source: 'none' }), target: src } },
      expected: { fsType: 'tmpfs', source: shownSource, superOptions: [rw] },
    };
  }
  if (standIn) {
    return {
      sb,
      id,
      src,
      outside,
      writable: true,
      superRo,
      looseSource: true,
      rootOf: identity,
      standIn: `${standIn}: a loop-backed ${fsType} image here (its source is the loop device)`,
      step: { mount: { fstype: fsType, image: { path: `${SCRATCH}/img-${id}`, 'size-mib': 16 }, target: src } },
      expected: { fsType, source: m0.source, superOptions: [rw] },
    };
  }
  const security = m0.superOptions.filter(isSecurityOption);
  if (security.length)
    notes.push(
      `${where}: super options ${security.join(',')} come from a security module the guest does not enable; ` +
        'they are left out, and the guest shows none',
    );
  const kept = m0.superOptions.filter((o) => o !== 'rw' && o !== 'ro' && !isSecurityOption(o));
  const passable = kept.filter((o) => OPTION.test(o));
  const dropped = kept.filter((o) => !OPTION.test(o));
  if (dropped.length)
    notes.push(`${where}: super options ${dropped.join(',')} cannot be passed from a scenario and are left out`);
  const options = passable.join(',');
  if (options.length > MAX_OPTIONS) {
    throw new BadInputError([
      {
        file: paste.file,
        line,
        col: 1,
        path: '',
        message:
          `the super options of ${where} are ${options.length} characters; ` +
          `a scenario's mount options stop at ${MAX_OPTIONS}; shorten them in the paste`,
      },
    ]);
  }
  return {
    sb,
    id,
    src,
    outside,
    writable: WRITABLE.has(fsType),
    superRo,
    looseSource: false,
    rootOf: identity,
    ...(GUEST_MOUNT[fsType] ? { guestMount: GUEST_MOUNT[fsType] } : {}),
    step: { mount: { fstype: fsType, source: source ?? 'none', target: src, ...(options ? { options } : {}) } },
    expected: { fsType, source: shownSource, superOptions: m0.superOptions.filter((o) => !isSecurityOption(o)) },
  };
}

function standInWhy(fsType: string): string {
  if (fsType.startsWith('cgroup')) return "a cgroup hierarchy is the guest's own";
  if (fsType === 'overlay' || fsType === 'aufs') return 'it needs its layers';
  if (fsType.startsWith('fuse')) return 'it needs its FUSE daemon';
  if (fsType === 'autofs') return 'it needs its automount daemon';
  if (fsType === 'nsfs') return 'it is a bind of a namespace file';
  if (fsType === 'devtmpfs') return "it is the guest's one /dev";
  return 'the guest has no such filesystem to spare';
}

interface NsGroup {
  name: string;
  mounts: MountEntry[];
}

function namespacesOf(paste: Paste, notes: string[]): NsGroup[] {
  // Mount ids are unique system-wide, so tables that share one are views of one namespace.
  const parent = paste.tasks.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const byId = new Map<number, number>();
  const byNs = new Map<string, number>();
  paste.tasks.forEach((t, i) => {
    if (t.mntNs !== undefined) {
      const j = byNs.get(t.mntNs);
      if (j !== undefined) parent[find(i)] = find(j);
      else byNs.set(t.mntNs, i);
    }
    for (const m of t.mounts) {
      const j = byId.get(m.mountId);
      if (j !== undefined) parent[find(i)] = find(j);
      else byId.set(m.mountId, i);
    }
  });
  const out = new Map<number, number[]>();
  paste.tasks.forEach((_, i) => {
    const r = find(i);
    out.set(r, [...(out.get(r) ?? []), i]);
  });
  return [...out.values()].map((members) => {
    // The widest table shows the namespace best (a chrooted task sees a part).
    const view = members.reduce((a, b) => (paste.tasks[b]!.mounts.length > paste.tasks[a]!.mounts.length ? b : a));
    const t = paste.tasks[view]!;
    if (members.length > 1) {
      notes.push(
        `tasks ${members.map((i) => show(paste.tasks[i]!.name)).join(', ')} share a mount namespace; ` +
          `it is rebuilt from ${show(t.name)}'s table`,
      );
    }
    return { name: t.name, mounts: t.mounts };
  });
}

/** Scenario task names: 'init' for the first namespace, then the pasted names made valid. */
function nameTasks(pasted: string[]): string[] {
  const used = new Set<string>(['init']);
  return pasted.map((p, i) => {
    if (i === 0) return 'init';
    let n = p
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^[^a-z]+/, '')
      .replace(/-+$/, '')
      .slice(0, 30);
    if (!n || used.has(n)) n = `ns${i + 1}`;
    for (let k = 2; used.has(n); k++) n = `ns${i + 1}-${k}`;
    used.add(n);
    return n;
  });
}

/** Master before slave; a loop is an error. */
function orderGroups(groups: PeerGroup[], fail: (line: number, what: string) => never): PeerGroup[] {
  const out: PeerGroup[] = [];
  const state = new Map<PeerGroup, 1 | 2>();
  const visit = (g: PeerGroup, path: PeerGroup[]) => {
    const s = state.get(g);
    if (s === 2) return;
    if (s === 1)
      fail(
        g.members[0]!.entry.line,
        `master links loop: ${[...path.slice(path.indexOf(g)), g].map((x) => `shared:${x.id}`).join(' -> ')}`,
      );
    state.set(g, 1);
    const m = g.members[0]!.master;
    if (m?.kind === 'group') visit(m.group, [...path, g]);
    state.set(g, 2);
    out.push(g);
  };
  for (const g of [...groups].sort((a, b) => a.id - b.id)) visit(g, []);
  return out;
}

/**
 * Depth first from the roots. Among siblings, the deeper mountpoint first:
 * a mount on /a covers one on /a/b under the same parent, so /a/b (and all
 * of its subtree) must be in place before /a arrives; a mount stacked on
 * its parent comes last of all, for the same reason.
 */
function creationOrder(ns: Ns): TopoMount[] {
  const out: TopoMount[] = [];
  const depth = (m: TopoMount) =>
    m.parent ? relative(m.parent.mountPoint, m.mountPoint).split('/').filter(Boolean).length : 0;
  const visit = (m: TopoMount) => {
    out.push(m);
    const kids = [...m.children].sort((a, b) => depth(b) - depth(a) || a.entry.line - b.entry.line);
    for (const c of kids) visit(c);
  };
  for (const r of [...ns.roots].sort((a, b) => a.entry.line - b.entry.line)) visit(r);
  return out;
}

/** Mounts that a path no longer reaches once the whole tree is built. */
function coveredMounts(ns: Ns): Set<TopoMount> {
  const top = (m: TopoMount): TopoMount => {
    let t = m;
    for (;;) {
      const s = t.children.find((c) => c.mountPoint === t.mountPoint);
      if (!s) return t;
      t = s;
    }
  };
  const resolve = (mp: string): TopoMount | undefined => {
    const parts = mp.split('/').filter(Boolean);
    let cur: TopoMount | undefined;
    for (let i = 0; i <= parts.length; i++) {
      const p = `/${parts.slice(0, i).join('/')}`;
      const next = cur
        ? cur.children.find((c) => c.mountPoint === p && c !== cur)
        : ns.roots.find((r) => r.mountPoint === p);
      if (next) cur = top(next);
    }
    return cur;
  };
  return new Set(ns.mounts.filter((m) => resolve(m.mountPoint) !== m));
}

function checkBase(base: string): string {
  const b = base.replace(/\/+$/, '');
  const bad = (why: string): never => {
    throw new BadInputError([
      {
        file: '--base',
        line: 1,
        col: 1,
        path: '',
        message: `${JSON.stringify(base)}: ${why}; pick an absolute directory such as ${DEFAULT_BASE}`,
      },
    ]);
  };
  if (!b.startsWith('/') || b === '') bad('not an absolute path below /');
  if (b.split('/').some((c) => c === '..' || c === '.')) bad("'.' and '..' are not allowed");
  for (const reserved of ['/proc', '/sys', '/dev', '/run', SCRATCH])
    if (within(b, reserved)) bad(`${reserved} is the lab's own`);
  if (!/^[A-Za-z0-9_./-]+$/.test(b)) bad('use letters, digits, _ . - and /');
  return b;
}

function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/** mp relative to parentMp ('' when equal); both absolute, mp within parentMp. */
function relative(parentMp: string, mp: string): string {
  if (mp === parentMp) return '';
  return parentMp === '/' ? mp.slice(1) : mp.slice(parentMp.length + 1);
}

function joinPath(dir: string, rel: string): string {
  if (!rel) return dir;
  return dir === '/' ? `/${rel}` : `${dir}/${rel}`;
}

/** The schema's limit on one mkdir list (scenario.schema.json, pathList.maxItems). */
const MAX_MKDIR_PATHS = 100;

/** One mkdir step per MAX_MKDIR_PATHS paths, the comment on the first. */
function mkdirs(paths: string[], comment: string): PlanStep[] {
  const out: PlanStep[] = [];
  for (let i = 0; i < paths.length; i += MAX_MKDIR_PATHS)
    out.push({ step: { mkdir: paths.slice(i, i + MAX_MKDIR_PATHS) } });
  if (out.length) out[0] = { ...out[0]!, comment };
  return out;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function sameSet(a: string[], b: string[]): boolean {
  const x = new Set(a);
  return x.size === new Set(b).size && b.every((o) => x.has(o));
}

function refId(r: TopoMount['master']): string {
  return r ? `${r.kind}:${r.id}` : '-';
}

function refText(r: TopoMount['master']): string {
  return r ? `master:${r.id}` : 'no master';
}

/**
 * A pasted string (bytes, latin1) quoted for a message: UTF-8 shown as text, other bytes and controls as octal
 * escapes.
 */
function show(s: string): string {
  return `"${displayPath(s)}"`;
}

/** A latin1-decoded string (bytes) as the text it is, when the bytes are UTF-8; undefined otherwise. */
export function toUnicode(s: string): string | undefined {
  const b = Buffer.from(s, 'latin1');
  const u = b.toString('utf8');
  return Buffer.from(u, 'utf8').equals(b) ? u : undefined;
}
