/**
 * Random scenarios that build: every step is proposed against the kernel
 * mount model (plan/mount-model.ts, the one model-check.ts runs), and kept
 * only when the model, replaying the scenario so far, runs it without a
 * doubt. A proposal the model refuses or cannot follow is drawn again, so
 * what reaches a guest is a scenario whose set-up the model vouches for,
 * and a campaign spends its time on CRIU, not on scenarios that fail to
 * build. (src/plan/random-scenario.testutil.ts is the other generator:
 * it wants steps that fail, to hold the model to the kernel.)
 *
 * Three kinds of step are beyond the model and still certain to work
 * where they are put, so the generator adds them itself:
 *  - file steps that change no mount (unlink, link, mmap): the generator
 *    keeps its own book of which files are gone (by superblock and
 *    dentry, so a bind's alias of a file is gone too), and never lets
 *    a later step rely on one;
 *  - a tail at the end of the root task, once the model has stopped
 *    following: tmpfs mounts on fresh leaf directories of shared and slave
 *    mounts (the kernel propagates them; each leaf is a new name with
 *    nothing below it, so a copy landing on one leaf never hides the path
 *    to another), recursive propagation changes of mounts (never fail on
 *    a mount), and lazy unmounts of mounts (never fail on a mount; two only
 *    when neither is below the other and the first cannot propagate onto
 *    the second).
 * Deterministic: the scenario is a function of the seed and GENERATOR_VERSION.
 */
import { Document, isMap, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { MountModel, SimError, type Task } from '../plan/mount-model.js';
import type { Scenario, Step } from '../scenario/scenario.generated.js';
import { Draw, prng } from '../prng.js';
import { DIRECTORY_FD, REMOUNT, SCENARIO, STEP_WEIGHTS, TAIL, type StepKind } from './weights.js';

/**
 * Bumped whenever the same seed would draw another scenario: a finding
 * names the version it was drawn by, and `--resume` refuses a campaign of
 * another version.
 */
export const GENERATOR_VERSION = 5;

export interface GenerateOptions {
  name?: string;
  description?: string;
}

export interface Generated {
  scenario: Scenario;
  /** What the scenario exercises, for tags and the campaign's tallies (shared, set-group, lazy-umount...). */
  features: string[];
}

/** One step of one task, in the order the tasks run them (a parent waits while its child runs). */
interface Event {
  task: string;
  step: Step;
  /** What the model runs for the step: the step itself, a stand-in, or nothing (null: no mount changes). */
  model: Step | null;
}

interface Fd {
  fd: number;
  path: string;
  kind: 'dir' | 'file';
  writable: boolean;
}

interface TaskGen {
  name: string;
  steps: Step[];
  depth: number;
  fds: Fd[];
}

interface Replayed {
  k: MountModel;
  tasks: Map<string, Task>;
}

/** A mount as the generator proposes with it: its path in the task's namespace and its propagation. */
interface MountView {
  id: number;
  parentId: number;
  path: string;
  sb: number;
  root: string;
  shared: boolean;
  slave: boolean;
  /** Its per-mount flags as mountinfo's fifth field has them (rw, nosuid, relatime...). */
  flags: string[];
  /** Its path reaches it (a mount over it or over a parent hides it; mountinfo still lists it). */
  reachable: boolean;
}

const EXTERNAL_ARGS = ['--ext-mount-map=auto', '--enable-external-masters'];

class Generator {
  private readonly d: Draw;
  private readonly outside: Step[] = [];
  private readonly events: Event[] = [];
  private readonly root: TaskGen = { name: 'init', steps: [], depth: 0, fds: [] };
  private n = 0;
  private nextFd = 10;
  private readonly dirs = new Set<string>();
  /** Regular files the generator made, by path in the namespace that made them. */
  private readonly files = new Set<string>();
  /** Files (superblock:dentry) that are a mountpoint (a bind-file target): unlink fails with EBUSY. */
  private readonly pinned = new Set<string>();
  /**
   * Mounts (model ids: a replay numbers them alike) held by a task's cwd or
   * a mapping: umount fails with EBUSY, which the model does not know (it
   * knows the fds of open steps, and those are looked up in the replay).
   */
  private readonly held = new Set<number>();
  /** Mounts (model ids) with a file open for writing through them. */
  private readonly writers = new Set<number>();
  /** Inodes (superblock:dentry) whose name was unlinked; the model still believes in them. */
  private readonly gone = new Set<string>();
  readonly features = new Set<string>();
  private external = false;
  /** The host also has a file mount (of a file in /ext) that the tree binds onto a file of its own. */
  private externalFile = false;
  private relinked = false;

  constructor(seed: number) {
    this.d = new Draw(prng(seed));
  }

  generate(o: GenerateOptions): Generated {
    if (this.d.chance(SCENARIO.externalMaster)) this.externalMaster();
    this.add(this.root, { mkdir: '/f' });
    this.add(this.root, { mount: { fstype: 'tmpfs', source: 'f', target: '/f' } });
    this.dirs.add('/f');
    if (this.external) {
      this.add(this.root, { mkdir: '/f/x' });
      this.add(this.root, { bind: { source: '/ext', target: '/f/x' } });
      if (this.d.chance(0.7)) this.add(this.root, { 'make-slave': '/f/x' });
      this.dirs.add('/f/x');
      if (this.externalFile) {
        // A host file bound into the container, as runtimes bind /etc/hosts: a file mount of a file mount.
        this.add(this.root, { write: { path: '/f/hosts', content: 'container\n' } });
        const inode = this.inode(this.replay()!, 'init', '/f/hosts')!;
        this.add(this.root, { bind: { source: '/ext-hosts', target: '/f/hosts' } });
        if (this.d.chance(0.7)) this.add(this.root, { 'make-slave': '/f/hosts' });
        this.files.add('/f/hosts');
        this.pinned.add(inode);
      }
      // A container's root holds none of the host's mounts: the copies the tree inherited go, most often.
      if (this.d.chance(SCENARIO.externalUnmount)) {
        if (this.externalFile) this.add(this.root, { umount: '/ext-hosts' });
        this.add(this.root, { umount: '/ext' });
        this.features.add('external-only');
      }
    }
    this.body(this.root, this.d.int(SCENARIO.minSteps, SCENARIO.maxSteps));
    this.tail();
    const engine: NonNullable<Scenario['engine']> = {};
    const me = this.d.weighted(SCENARIO.mountEngine);
    if (me !== 'v2') engine['mount-engine'] = me;
    this.features.add(`engine-${me}`);
    // Without --link-remap CRIU refuses an open file whose name no longer leads to it while it still has links
    // (relinked, or under a mount moved or covered since): it asks for the option, which is noise, not a finding.
    if (this.relinked || this.features.has('open-file') || this.features.has('mmap')) engine['link-remap'] = true;
    if (this.d.chance(SCENARIO.restoreTwice)) {
      engine['restore-twice'] = true;
      this.features.add('restore-twice');
    }
    if (this.external) {
      engine['dump-args'] = [...EXTERNAL_ARGS];
      engine['restore-args'] = [...EXTERNAL_ARGS];
    }
    const scenario: Scenario = {
      name: o.name ?? 'fuzz',
      description: o.description ?? `Generated by mountlab fuzz (generator ${GENERATOR_VERSION}).`,
      tags: ['fuzz'],
      ...(this.outside.length ? { outside: this.outside } : {}),
      steps: this.root.steps,
      ...(Object.keys(engine).length ? { engine } : {}),
      expect: 'identical',
    };
    return { scenario, features: [...this.features].sort() };
  }

  /** A shared tmpfs of the guest's own namespace: the tree binds it, so its group has members outside. */
  private externalMaster(): void {
    this.external = true;
    this.features.add('external-master');
    this.outside.push(
      { mkdir: '/ext' },
      { mount: { fstype: 'tmpfs', source: 'ext', target: '/ext' } },
      { 'make-shared': '/ext' },
      { mkdir: '/ext/e' },
    );
    if (this.d.chance(SCENARIO.externalFile)) {
      this.externalFile = true;
      this.features.add('external-file');
      this.outside.push(
        { write: { path: '/ext/e/hosts', content: 'host\n' } },
        { write: { path: '/ext-hosts', content: '' } },
        { bind: { source: '/ext/e/hosts', target: '/ext-hosts' } },
      );
    }
  }

  // ------------------------------------------------------------ the model

  /** The scenario so far (and one more event), run through the model; undefined if it doubts any step. */
  private replay(extra?: Event): Replayed | undefined {
    try {
      const k = new MountModel({ check: true });
      if (this.outside.length) {
        const host: Task = { name: 'outside', ns: k.host, steps: this.outside, pc: 0, fds: new Map() };
        for (const [dir, fs] of [
          ['/proc', 'proc'],
          ['/sys', 'sysfs'],
          ['/dev', 'devtmpfs'],
        ] as const)
          k.provide(k.host, dir, fs);
        for (const step of this.outside) k.run(host, step, () => {});
        for (const dir of ['/proc', '/sys', '/dev']) k.withdraw(k.host, dir);
      }
      const init: Task = { name: 'init', ns: k.copyNs(k.host), steps: [], pc: 0, fds: new Map() };
      k.provide(init.ns, '/proc', 'proc');
      const tasks = new Map([['init', init]]);
      for (const e of extra ? [...this.events, extra] : this.events) {
        if (!e.model) continue;
        const t = tasks.get(e.task)!;
        const r = k.run(t, e.model, (name) => {
          tasks.set(name, {
            name,
            ns: t.ns,
            steps: [],
            pc: 0,
            fds: new Map(t.fds),
            ...(t.root ? { root: t.root } : {}),
          });
        });
        if (r !== 'ok') return undefined;
      }
      return { k, tasks };
    } catch (e) {
      if (e instanceof SimError) return undefined;
      throw e;
    }
  }

  /** Adds a step the model must follow; false (and nothing added) when it doubts it. */
  private tryAdd(t: TaskGen, step: Step, model: Step | null = step): boolean {
    const e: Event = { task: t.name, step, model };
    if (model && !this.replay(e)) return false;
    this.events.push(e);
    t.steps.push(step);
    return true;
  }

  /** Adds a step that must work: the generator's own set-up, certain by construction. */
  private add(t: TaskGen, step: Step, model: Step | null = step): void {
    if (!this.tryAdd(t, step, model)) throw new Error(`generator: the model doubts ${JSON.stringify(step)}`);
  }

  /**
   * The mounts of the scenario's own making, as a task sees them (with
   * `root`, the namespace's root mount first: the guest's, which only
   * remount touches).
   */
  private mounts(r: Replayed, task: string, root = false): MountView[] {
    const t = r.tasks.get(task)!;
    let entries: ReturnType<MountModel['mountinfo']>;
    try {
      entries = r.k.mountinfo(t.ns);
    } catch (e) {
      if (e instanceof SimError) return [];
      throw e;
    }
    return entries
      .filter(
        (m) =>
          (root && m.mountPoint === '/') ||
          m.mountPoint === '/f' ||
          m.mountPoint.startsWith('/f/') ||
          m.mountPoint.startsWith('/ext'),
      )
      .map((m) => ({
        id: m.mountId,
        parentId: m.parentId,
        path: m.mountPoint,
        sb: m.minor,
        root: m.root,
        shared: m.shared !== undefined,
        slave: m.master !== undefined,
        flags: m.mountOptions,
        reachable: this.mountAt(r, task, m.mountPoint, true) === m.mountId,
      }));
  }

  /** Where a path leads in the model, as a task sees it; undefined when the model cannot walk it. */
  private locate(r: Replayed, task: string, path: string): ReturnType<MountModel['resolve']> | undefined {
    try {
      return r.k.resolve(r.tasks.get(task)!, path);
    } catch (e) {
      if (e instanceof SimError) return undefined;
      throw e;
    }
  }

  /** The inode a path reaches in the model, "superblock:dentry". */
  private inode(r: Replayed, task: string, path: string): string | undefined {
    const l = this.locate(r, task, path);
    return l && `${l.mnt.sb.id}:${l.dentry}`;
  }

  /**
   * Whether a path's mount takes writes (not ro, nor its superblock):
   * opens for writing, unlink and link are the generator's own steps, which
   * the model does not check for EROFS.
   */
  private writable(r: Replayed, task: string, path: string): boolean {
    const l = this.locate(r, task, path);
    return !!l && !l.mnt.sb.ro && !l.mnt.flags.has('ro');
  }

  /** Whether a path is a directory in the model (a file mount's path is not: nothing goes below it). */
  private isDir(r: Replayed, task: string, path: string): boolean {
    const l = this.locate(r, task, path);
    return !!l && !l.mnt.sb.files.has(l.dentry);
  }

  /** The id of the mount a path reaches (with `root`, only when it reaches that mount's root). */
  private mountAt(r: Replayed, task: string, path: string, root = false): number | undefined {
    const l = this.locate(r, task, path);
    return !l || (root && l.dentry !== l.mnt.root) ? undefined : l.mnt.id;
  }

  /** Marks the mount under a path as held (a cwd, a mapping) for as long as the task lives: all the scenario. */
  private hold(r: Replayed, task: string, path: string): void {
    const id = this.mountAt(r, task, path);
    if (id !== undefined) this.held.add(id);
  }

  /** Mounts that umount(2) would find busy: held, or under an fd some task keeps open. */
  private busy(r: Replayed): Set<number> {
    const ids = new Set(this.held);
    for (const t of r.tasks.values()) for (const l of t.fds.values()) ids.add(l.mnt.id);
    return ids;
  }

  /** Files a model step may use: made by the generator, reachable, not unlinked (under any of their names). */
  private liveFiles(r: Replayed, task: string): string[] {
    return [...this.files].filter((p) => {
      const i = this.inode(r, task, p);
      return i !== undefined && !this.gone.has(i);
    });
  }

  // ------------------------------------------------------------ the body

  private body(t: TaskGen, count: number): void {
    for (let i = 0; i < count; i++) {
      for (let tries = 0; tries < SCENARIO.triesPerStep; tries++) if (this.step(t)) break;
    }
  }

  /** One proposal of a weighted kind; true when a step was added. */
  private step(t: TaskGen): boolean {
    const r = this.replay();
    if (!r) throw new Error('generator: the scenario so far no longer replays');
    const d = this.d;
    const kind: StepKind = d.weighted(STEP_WEIGHTS);
    const mounts = this.mounts(r, t.name);
    const mountPaths = mounts.map((m) => m.path);
    // Directories only: a file mount (the host's hosts file) has nothing below it.
    const places = [...new Set([...this.dirs, ...mountPaths])].filter((p) => this.isDir(r, t.name, p));
    const place = () => d.pick(places);
    // /f stays the scenario's base: stacking on it or binding over it hides every path the book keeps.
    const targets = places.filter((p) => p !== '/f');
    const target = () => d.pick(targets);
    const name = (p: string) => `${p}${++this.n}`;
    const feature = (f: string) => this.features.add(f);
    const notF = mountPaths.filter((p) => p !== '/f');
    switch (kind) {
      case 'mkdir': {
        const path = `${place()}/${name('d')}`;
        if (!this.tryAdd(t, { mkdir: path })) return false;
        this.dirs.add(path);
        return true;
      }
      case 'mount':
      case 'overmount': {
        const on = kind === 'mount' ? [...this.dirs].filter((p) => p !== '/f') : notF;
        if (!on.length) return false;
        const options = d.chance(0.1) ? { options: 'nosuid,nodev' } : {};
        const ok = this.tryAdd(t, { mount: { fstype: 'tmpfs', source: name('m'), target: d.pick(on), ...options } });
        if (ok && kind === 'overmount') feature('overmount');
        return ok;
      }
      case 'bind':
      case 'rbind':
      case 'open-tree': {
        if (!targets.length) return false;
        const source = place();
        const to = target();
        if (source === to && kind !== 'open-tree') return false;
        const step: Step =
          kind === 'open-tree'
            ? { 'open-tree': { source, target: to, ...(d.chance(0.5) ? { recursive: true } : {}) } }
            : { [kind]: { source, target: to } };
        const ok = this.tryAdd(t, step);
        if (ok) feature(kind === 'bind' ? (source.split('/').length > 3 ? 'bind-subdir' : 'bind') : kind);
        if (ok && mountPaths.includes(to)) feature('overmount');
        return ok;
      }
      case 'bind-file': {
        const live = this.liveFiles(r, t.name);
        if (live.length < 2) return false;
        const source = d.pick(live);
        const target = d.pick(live.filter((p) => p !== source));
        const inode = this.inode(r, t.name, target);
        if (!inode || !this.tryAdd(t, { bind: { source, target } })) return false;
        this.pinned.add(inode);
        feature('bind-file');
        return true;
      }
      case 'bind-covered': {
        const dirFds = t.fds.filter((f) => f.kind === 'dir');
        if (!dirFds.length) return false;
        const fd = d.pick(dirFds);
        if (!targets.length) return false;
        const ok = this.tryAdd(t, { bind: { source: `/proc/self/fd/${fd.fd}`, target: target() } });
        if (ok) feature('bind-through-fd');
        return ok;
      }
      case 'move': {
        if (!notF.length) return false;
        if (!targets.length) return false;
        const ok = this.tryAdd(t, { move: { from: d.pick(notF), to: target() } });
        if (ok) feature('move');
        return ok;
      }
      case 'umount': {
        if (!notF.length) return false;
        const path = d.pick(notF);
        const id = this.mountAt(r, t.name, path);
        if (id === undefined || this.busy(r).has(id)) return false;
        return this.tryAdd(t, { umount: path });
      }
      case 'make-shared':
      case 'make-slave':
      case 'make-private':
      case 'make-unbindable': {
        if (!mountPaths.length) return false;
        const ok = this.tryAdd(t, { [kind]: d.pick(mountPaths) } as Step);
        if (ok) feature(kind.slice('make-'.length));
        return ok;
      }
      case 'remount': {
        // Per-mount flags, the root mount's among them: mount ids and propagation are not all CRIU restores.
        const all = this.mounts(r, t.name, true).filter((m) => m.reachable);
        const rootMount = all.find((m) => m.path === '/');
        const pool = all.filter((m) => m !== rootMount);
        const m = rootMount && (d.chance(REMOUNT.root) || !pool.length) ? rootMount : d.pick(pool);
        if (!m) return false;
        // ro where a file is open for writing is EBUSY (mapped for writing too: held mounts).
        const canRo = !this.writers.has(m.id) && !this.held.has(m.id);
        const add = REMOUNT.flags.filter((f) => d.chance(REMOUNT.flagChance) && (f !== 'ro' || canRo));
        if (d.chance(REMOUNT.atimeChance)) add.push(d.pick(REMOUNT.atime));
        if (!add.length) add.push(d.pick(REMOUNT.flags.filter((f) => f !== 'ro' || canRo)));
        // The flags it has stay listed: util-linux versions differ in what an unlisted flag becomes.
        const keep = m.flags.filter((f) => !['rw', 'ro', 'noatime', 'relatime', 'strictatime'].includes(f));
        const options = [...new Set([...keep, ...add])].join(',');
        const ok = this.tryAdd(t, { remount: { path: m.path, options } });
        if (ok) feature(m === rootMount ? 'remount-root' : 'remount');
        if (ok && add.includes('ro')) feature('read-only');
        return ok;
      }
      case 'set-group': {
        const from = mounts.filter((m) => m.reachable && (m.shared || m.slave));
        if (!from.length) return false;
        const a = d.pick(from);
        const to = mounts.filter((b) => b.reachable && b !== a && b.sb === a.sb && !b.shared && !b.slave);
        let target = to.length && d.chance(0.5) ? d.pick(to).path : undefined;
        if (!target) {
          // A private copy to join to the group, as the importer builds sharing trees: bind, cut, join.
          const dir = `${d.pick([...this.dirs])}/${name('s')}`;
          if (!this.tryAdd(t, { mkdir: dir })) return false;
          this.dirs.add(dir);
          if (!this.tryAdd(t, { bind: { source: a.path, target: dir } })) return true;
          if (!this.tryAdd(t, { 'make-private': dir })) return true;
          target = dir;
        }
        const ok = this.tryAdd(t, { 'set-group': { from: a.path, to: target } });
        if (ok) feature('set-group');
        return true;
      }
      case 'spawn':
        return this.spawn(t);
      case 'file': {
        const path = `${d.pick([...this.dirs])}/${name('f')}`;
        if (!this.tryAdd(t, { write: { path, content: `${path}\n` } })) return false;
        this.files.add(path);
        return true;
      }
      case 'open-file': {
        const live = this.liveFiles(r, t.name);
        if (!live.length) return false;
        const path = d.pick(live);
        const fd = this.nextFd;
        const drawn = d.pick([['rdwr'], ['rdonly'], ['rdwr', 'append']] as const);
        const flags = drawn[0] === 'rdwr' && !this.writable(r, t.name, path) ? (['rdonly'] as const) : drawn;
        // The model follows opens of what exists; how the file is opened is no matter to it.
        if (!this.tryAdd(t, { open: { path, fd, flags: [...flags] } }, { open: { path, fd } })) return false;
        this.nextFd++;
        t.fds.push({ fd, path, kind: 'file', writable: flags[0] === 'rdwr' });
        // A mount with a file open for writing cannot be made ro (mount_setattr: EBUSY).
        if (flags[0] === 'rdwr') this.writers.add(this.mountAt(r, t.name, path)!);
        feature('open-file');
        return true;
      }
      case 'open-dir': {
        const path = place();
        const fd = this.nextFd;
        // O_DIRECTORY rarely (generator 3): CRIU <= 4.2.1 drops it on every restore (a corpus known bug,
        // directory-fd), which took half the executions of a trial; O_PATH holds the mount just as well.
        const flags = d.chance(DIRECTORY_FD) ? (['directory'] as const) : (['path'] as const);
        if (!this.tryAdd(t, { open: { path, fd, flags: [...flags] } })) return false;
        this.nextFd++;
        t.fds.push({ fd, path, kind: 'dir', writable: false });
        feature('open-dir');
        return true;
      }
      case 'unlink':
      case 'relink': {
        // An open file's name is the interesting one to take away.
        // A name with a file bound on it is a mountpoint (EBUSY); through the bind it reaches the source's inode.
        const live = this.liveFiles(r, t.name).filter(
          (p) =>
            !this.pinned.has(this.inode(r, t.name, p)!) &&
            this.mountAt(r, t.name, p, true) === undefined &&
            this.writable(r, t.name, p.slice(0, p.lastIndexOf('/')) || '/'),
        );
        if (!live.length) return false;
        const open = live.filter((p) => t.fds.some((f) => f.path === p));
        const path = open.length && d.chance(0.8) ? d.pick(open) : d.pick(live);
        const inode = this.inode(r, t.name, path)!;
        if (kind === 'relink') {
          // The file lives on under another name in the same directory (a link across mounts is EXDEV).
          const other = `${path.slice(0, path.lastIndexOf('/'))}/${name('g')}`;
          this.add(t, { link: { from: path, to: other } }, null);
          this.relinked = true;
          feature('relinked');
        } else feature('unlinked');
        this.add(t, { unlink: path }, null);
        this.gone.add(inode);
        // A new file where the old one was: the restore must not confuse the two (seed 004).
        if (d.chance(0.3) && this.tryAdd(t, { write: { path, content: 'new\n' } })) {
          this.gone.delete(inode);
          feature('name-reused');
        }
        return true;
      }
      case 'mmap': {
        const files = t.fds.filter((f) => f.kind === 'file');
        const live = this.liveFiles(r, t.name);
        if (files.length && d.chance(0.6)) {
          const f = d.pick(files);
          const shared = d.chance(0.5);
          const write = shared && f.writable && d.chance(0.5);
          this.add(t, { mmap: { fd: f.fd, length: 4096, ...(shared ? { shared } : {}), ...(write ? { write } : {}) } });
          this.hold(r, t.name, f.path);
        } else if (live.length) {
          const path = d.pick(live);
          this.add(t, { mmap: { path, length: 4096, ...(d.chance(0.5) ? { shared: true } : {}) } });
          this.hold(r, t.name, path);
        } else return false;
        feature('mmap');
        return true;
      }
      case 'close': {
        if (!t.fds.length) return false;
        const f = d.pick(t.fds);
        if (!this.tryAdd(t, { close: f.fd })) return false;
        t.fds.splice(t.fds.indexOf(f), 1);
        return true;
      }
    }
  }

  /**
   * A child task: it often unshares its mount namespace (copies of shared
   * mounts join their groups: namespaces sharing peer groups), runs steps
   * of its own while its parent waits, and stays alive in the checkpoint.
   */
  private spawn(parent: TaskGen): boolean {
    if (parent.depth >= SCENARIO.maxDepth) return false;
    const n = ++this.n;
    const child: TaskGen = { name: `t${n}`, steps: [], depth: parent.depth + 1, fds: [] };
    this.add(parent, { spawn: { name: child.name, steps: child.steps } }, { spawn: { name: child.name, steps: [] } });
    this.features.add('spawn');
    if (this.d.chance(SCENARIO.childUnshare)) {
      this.add(child, { unshare: ['mnt'] });
      this.features.add('nested-mntns');
    }
    this.body(child, this.d.int(1, 6));
    if (this.d.chance(0.3)) {
      // A task whose cwd is on a mount keeps it alive through a lazy unmount, and must be restored there.
      const r = this.replay()!;
      const ms = this.mounts(r, child.name).filter((m) => m.path !== '/f');
      const path = ms.length ? this.d.pick(ms).path : undefined;
      if (path && this.tryAdd(child, { chdir: path })) {
        this.hold(r, child.name, path);
        this.features.add('cwd-on-mount');
      }
    }
    this.add(child, { signal: `${child.name}-done` });
    this.add(parent, { wait: `${child.name}-done` });
    return true;
  }

  // ------------------------------------------------------------ the tail

  private tail(): void {
    const d = this.d;
    const r = this.replay()!;
    const mounts = this.mounts(r, 'init').filter((m) => m.path !== '/f' && m.reachable);
    const within = (p: string, q: string) => p === q || p.startsWith(`${q}/`);
    const wantRecursive = d.chance(TAIL.recursivePropagation.chance);
    // Lazy unmounts, chosen now: an fd opened on one before the tail keeps it alive.
    const lazy: MountView[] = [];
    if (mounts.length && d.chance(TAIL.lazyUmount.chance)) {
      lazy.push(d.pick(mounts));
      const first = lazy[0]!;
      const parent = mounts.find((m) => m.id === first.parentId);
      // A second only when the first cannot propagate (a private parent, and no make-rshared to come).
      if (TAIL.lazyUmount.max > 1 && !wantRecursive && !parent?.shared && first.path !== '/f' && d.chance(0.4)) {
        const others = mounts.filter((m) => !within(m.path, first.path) && !within(first.path, m.path));
        if (others.length) lazy.push(d.pick(others));
      }
    }
    for (const m of lazy) {
      if (!d.chance(TAIL.lazyUmount.survivor)) continue;
      const fd = this.nextFd;
      if (this.tryAdd(this.root, { open: { path: m.path, fd, flags: ['path'] } })) {
        this.nextFd++;
        this.features.add('lazy-umount-survivor');
      }
    }
    // Fresh leaves for the propagating mounts, while the model still follows.
    const leaves: string[] = [];
    if (d.chance(TAIL.propagatingMount.chance)) {
      const propagating = mounts.filter((m) => m.shared || m.slave);
      const want = d.int(1, TAIL.propagatingMount.max);
      for (let i = 0; i < want && propagating.length; i++) {
        const leaf = `${d.pick(propagating).path}/p${++this.n}`;
        if (this.tryAdd(this.root, { mkdir: leaf })) leaves.push(leaf);
      }
    }
    // From here on the model no longer follows: each step is certain by the rules in the header.
    for (const leaf of leaves) {
      this.add(
        this.root,
        { mount: { fstype: 'tmpfs', source: leaf.slice(leaf.lastIndexOf('/') + 1), target: leaf } },
        null,
      );
      this.features.add('propagated-mount');
    }
    if (wantRecursive && mounts.length) {
      const count = d.int(1, TAIL.recursivePropagation.max);
      for (let i = 0; i < count; i++) {
        const kind = d.pick(['make-shared', 'make-slave', 'make-private', 'make-unbindable'] as const);
        this.add(this.root, { [kind]: { path: d.pick(mounts).path, recursive: true } } as Step, null);
        this.features.add(`r${kind.slice('make-'.length)}`);
      }
    }
    for (const m of lazy) {
      this.add(this.root, { umount: { path: m.path, lazy: true } }, null);
      this.features.add('lazy-umount');
    }
  }
}

/** One scenario, drawn from `seed`. */
export function generateScenario(seed: number, o: GenerateOptions = {}): Generated {
  return new Generator(seed).generate(o);
}

/**
 * The scenario as YAML that `mountlab run` reads: `header` lines become the
 * comment at the top, each step on a line of its own (flow style), spawned
 * tasks' steps indented below them.
 */
export function scenarioYaml(s: Scenario, header: string[] = []): string {
  const doc = new Document(s);
  const flowSteps = (seq: unknown) => {
    if (!isSeq(seq)) return;
    for (const item of (seq as YAMLSeq).items) {
      if (!isMap(item)) continue;
      const spawn = (item as YAMLMap).get('spawn', true);
      if (isMap(spawn)) flowSteps(spawn.get('steps', true));
      else (item as YAMLMap).flow = true;
    }
  };
  flowSteps(doc.get('steps', true));
  flowSteps(doc.get('outside', true));
  const engine = doc.get('engine', true);
  if (isMap(engine)) for (const p of engine.items) if (isSeq(p.value)) p.value.flow = true;
  const tags = doc.get('tags', true);
  if (isSeq(tags)) tags.flow = true;
  const comment = header.map((l) => `# ${l}`.trimEnd()).join('\n');
  return `${comment ? `${comment}\n` : ''}${doc.toString({ lineWidth: 0 })}`;
}
