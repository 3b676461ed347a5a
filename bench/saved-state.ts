/**
 * Experiment: start a guest from a saved VM state instead of a cold boot.
 * Not wired into the runner; this measures whether it would pay.
 *
 *   npx tsc -p . && node dist/bench/saved-state.js [--clones 3] [--cold 2] [--warm] [--no-scenario] [--scenario PATH]
 *
 * 1. Boot a source VM with the lab's qemu arguments except: the root disk is
 *    a qcow2 overlay file in a private temp dir (not snapshot=on, whose
 *    temporary overlay is gone when qemu exits), and a QMP socket
 *    (QemuSpec.qmpSocket) in that dir. Wait until ssh and facts are ready
 *    (labctl installed in /run, a tmpfs, so it is part of the saved RAM).
 *    --warm also runs one scenario first, so the saved page cache is warm.
 * 2. Close ssh, `stop`, `migrate exec:cat > state` (this qemu, 7.2, has no
 *    file: URI), measure the save and the file's size, quit.
 * 3. Per clone: the same arguments, a new host port for ssh (the guest never
 *    sees it), the overlay opened with snapshot=on (clones never write it,
 *    so any number can share it), `-incoming "exec:cat state"`; poll
 *    query-migrate until completed, `cont`, ssh in with the same key (the
 *    guest kept the authorized key from the source's kernel command line),
 *    run a command. Measure each step, the guest's clock lag (it resumes at
 *    the time of the save), fix it with `date -s`, and run one scenario
 *    through runCorpus in the clone (CRIU works there?).
 * 4. --cold N lab cold boots (VmTarget) right after, for a same-load comparison.
 *
 * Waits while 2+ qemu-system processes run; one VM at a time. Prints
 * figures; asserts nothing.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';
import { qemuArgs, hostTscKhz, type QemuSpec } from '../src/target/vm/qemu.js';
import { ConsoleLog } from '../src/target/vm/console.js';
import { SshSession } from '../src/target/vm/ssh.js';
import { freeLoopbackPort } from '../src/target/vm/port.js';
import { VmTarget } from '../src/target/vm/vm-target.js';
import type { VmImage } from '../src/target/vm/image.js';
import { installLabctl, targetFacts } from '../src/target/guest-facts.js';
import type { ExecOptions, ExecResult } from '../src/target/exec.js';
import type { StartedTarget } from '../src/target/target.js';
import type { TargetFacts } from '../src/results/result.js';
import { runCorpus } from '../src/run/runner.js';
import type { ScenarioResult } from '../src/results/result.js';
import {
  KeptTarget,
  defaultGuest,
  fmtStats,
  loadContext,
  loadScenarios,
  parseArgs,
  sec,
  stats,
  waitForVmSlot,
} from './lib.js';

const { opts } = parseArgs(process.argv.slice(2), ['warm', 'no-scenario']);
const clones = Number(opts.get('clones') ?? 3);
const colds = Number(opts.get('cold') ?? 2);
const warm = opts.has('warm');
const scenarioPath = opts.has('no-scenario') ? undefined : (opts.get('scenario') ?? 'scenarios/binds/rbind-tree.yaml');
const memoryMiB = 1024;

/** A minimal QMP client: one command at a time, replies matched by id. */
class Qmp implements AsyncDisposable {
  private buf = '';
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly events: { event: string; at: number }[] = [];
  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { id?: number; return?: unknown; error?: { desc: string }; event?: string };
        if (msg.event) this.events.push({ event: msg.event, at: Date.now() });
        if (msg.id !== undefined) {
          const w = this.waiting.get(msg.id);
          this.waiting.delete(msg.id);
          if (msg.error) w?.reject(new Error(`QMP: ${msg.error.desc}`));
          else w?.resolve(msg.return);
        }
      }
    });
    sock.on('error', (e) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    });
  }

  /** Connects (retrying until qemu has made the socket) and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 30_000): Promise<Qmp> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const q = new Qmp(sock);
        await q.cmd('qmp_capabilities');
        return q;
      } catch (e) {
        if (Date.now() > until) throw e;
        await sleep(10);
      }
    }
  }

  cmd<T = unknown>(execute: string, args?: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(`${JSON.stringify({ execute, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  /** Polls query-migrate until completed (or failed); returns the final status object. */
  async waitMigration(
    pollMs = 20,
    timeoutMs = 300_000,
  ): Promise<{
    status: string;
    'total-time'?: number;
    ram?: { transferred: number; total: number; duplicate: number; normal: number };
  }> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.cmd<{ status?: string; 'total-time'?: number }>('query-migrate');
      if (r.status === 'completed' || r.status === 'failed' || r.status === 'cancelled') return r as never;
      if (Date.now() > until) throw new Error(`migration still ${r.status} after ${timeoutMs} ms`);
      await sleep(pollMs);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.sock.destroy();
  }
}

/** A qemu this bench starts itself (the lab's QemuProcess takes no extra arguments), killed with us via pdeathsig. */
class BenchQemu implements AsyncDisposable {
  readonly console: ConsoleLog;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stderr = '';
  constructor(args: string[], dir: string, name: string) {
    this.console = new ConsoleLog(join(dir, `${name}.console.log`));
    this.child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', 'qemu-system-x86_64', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: dir },
    });
    this.child.stdout!.on('data', (d: Buffer) => this.console.append(d));
    this.child.stderr!.on('data', (d: Buffer) => void (this.stderr += d.toString()));
    this.exited = new Promise((r) => {
      this.child.on('exit', () => r());
      this.child.on('error', () => r());
    });
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(t);
    }
    await this.console.close();
  }
}

/** A running guest as the runner sees one, over this bench's qemu and ssh. */
class BenchVm implements StartedTarget {
  constructor(
    readonly facts: TargetFacts,
    private readonly qemu: BenchQemu,
    private readonly ssh: SshSession,
  ) {}
  get alive(): boolean {
    return this.qemu.running && !this.ssh.isBroken;
  }
  exec(argv: readonly string[] | string, o: ExecOptions): Promise<ExecResult> {
    return this.ssh.exec(argv, o);
  }
  writeFile(path: string, content: string | Buffer, mode?: string): Promise<void> {
    return this.ssh.writeFile(path, content, mode);
  }
  consoleMark(): number {
    return this.qemu.console.length;
  }
  consoleSince(mark: number): string {
    return this.qemu.console.since(mark);
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.ssh[Symbol.asyncDispose]();
  }
}

/** The lab's argv with the root disk swapped for `drive` (same id and device). */
function argsWithDisk(spec: QemuSpec, drive: string, extra: string[] = []): string[] {
  const args = qemuArgs(spec);
  const i = args.findIndex((a) => a.startsWith(`file=${spec.image.rootfs},`) && a.includes('id=disk0'));
  if (i < 0) throw new Error('cannot find the root drive in qemuArgs');
  args[i] = drive;
  return [...args, ...extra];
}

/** Bytes the guest wrote to the overlay: the data clusters qemu-img maps at depth 0. */
function overlayWrittenBytes(overlay: string): number {
  const map = JSON.parse(execFileSync('qemu-img', ['map', '--output=json', overlay], { encoding: 'utf8' })) as {
    length: number;
    depth: number;
    data: boolean;
  }[];
  return map.filter((m) => m.depth === 0 && m.data).reduce((a, m) => a + m.length, 0);
}

async function guestClockLagMs(vm: BenchVm): Promise<number> {
  const before = Date.now();
  const r = await vm.exec('date +%s.%N', { timeoutMs: 30_000, label: 'date' });
  const after = Date.now();
  return (before + after) / 2 - Number(r.stdout.trim()) * 1000;
}

async function runOne(vm: BenchVm, path: string, runDir: string): Promise<ScenarioResult | undefined> {
  const results: ScenarioResult[] = [];
  await runCorpus(await loadScenarios([path]), [{ id: 'clone', target: new KeptTarget(vm) }], {
    runId: 'bench-saved',
    runDir,
    signal: new AbortController().signal,
    probes: true,
    reporter: { onScenarioEnd: (r) => void results.push(r) },
  });
  return results[0];
}

const dir = mkdtempSync(join(tmpdir(), 'mountlab-bench-saved-'));
try {
  const qv = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  console.log(`${qv}; migration to a file via exec:cat (the file: URI arrived in qemu 8.2)`);
  console.log(`load: ${loadContext()}`);
  const image: VmImage = await defaultGuest();
  const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'mountlab-bench-saved' });
  const authkey = Buffer.from(`${keys.public.trim()}\n`).toString('base64');
  const overlay = join(dir, 'root-overlay.qcow2');
  const state = join(dir, 'state');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.rootfs, '-F', 'raw', overlay]);
  const tscKhz = hostTscKhz();
  const specFor = async (name: string): Promise<QemuSpec> => ({
    image,
    accel: 'tcg',
    machine: 'microvm',
    memoryMiB,
    sshPort: await freeLoopbackPort(),
    append: [`mountlab.authkey=${authkey}`],
    ...(tscKhz ? { tscKhz } : {}),
    runDir: dir,
    name: `mountlab-bench-${name}`,
    qmpSocket: join(dir, `${name}.qmp`),
  });
  const connectSsh = (port: number) =>
    SshSession.connect({
      host: '127.0.0.1',
      port,
      privateKey: keys.private,
      hostKey: image.manifest.hostKey,
      readyTimeoutMs: 30_000,
    });

  // ---- the source VM ---------------------------------------------------------
  await waitForVmSlot();
  const srcSpec = await specFor('source');
  let src: {
    consoleMs: number;
    sshMs: number;
    readyMs: number;
    saveMs: number;
    migrateTotalMs?: number;
    bytes: number;
    writtenBefore: number;
    warmDump?: number;
  };
  {
    const t0 = Date.now();
    await using qemu = new BenchQemu(
      argsWithDisk(srcSpec, `file=${overlay},format=qcow2,if=none,id=disk0`),
      dir,
      'source',
    );
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('source did not boot in 180 s')), 180_000);
    void qemu.exited.then(() => ac.abort(new Error(`source qemu exited: ${qemu.stderr}`)));
    await qemu.console.waitFor([/MOUNTLAB-READY/], 0, ac.signal);
    clearTimeout(timer);
    const consoleMs = Date.now() - t0;
    const ssh = await connectSsh(srcSpec.sshPort);
    const sshMs = Date.now() - t0;
    const facts = targetFacts('vm', await installLabctl(ssh, image), { readyMs: 0, accel: 'tcg' });
    const readyMs = Date.now() - t0;
    const vm = new BenchVm(facts, qemu, ssh);
    let warmDump: number | undefined;
    if (warm) {
      const r = await runOne(vm, 'scenarios/propagation/slave-chain-3.yaml', join(dir, 'warm'));
      warmDump = r?.phases.find((p) => p.phase === 'dump')?.ms;
      console.log(`warm-up scenario on the source: ${r?.scenario} ${r?.outcome}, dump ${sec(warmDump ?? NaN)}`);
    }
    // Close ssh before saving: the clones' slirp knows nothing of this connection.
    await vm[Symbol.asyncDispose]();
    await sleep(1000);
    await using qmp = await Qmp.connect(srcSpec.qmpSocket!);
    const s0 = Date.now();
    await qmp.cmd('stop');
    await qmp.cmd('migrate', { uri: `exec:cat > ${state}` });
    const m = await qmp.waitMigration();
    const saveMs = Date.now() - s0;
    if (m.status !== 'completed') throw new Error(`migration ${m.status}`);
    await qmp.cmd('quit').catch(() => {});
    await qemu.exited;
    const bytes = statSync(state).size;
    src = {
      consoleMs,
      sshMs,
      readyMs,
      saveMs,
      ...(m['total-time'] !== undefined ? { migrateTotalMs: m['total-time'] } : {}),
      bytes,
      writtenBefore: overlayWrittenBytes(overlay),
      ...(warmDump !== undefined ? { warmDump } : {}),
    };
    const ram = m.ram
      ? `, RAM: ${(m.ram.transferred / 2 ** 20).toFixed(0)} MiB transferred, ` +
        `${m.ram.normal} normal pages, ${m.ram.duplicate} zero/duplicate pages`
      : '';
    console.log(
      `source (cold boot, qcow2 overlay): console ${sec(consoleMs)}, ssh ${sec(sshMs)}, ready ${sec(readyMs)}`,
    );
    console.log(
      `save (stop + migrate to file): ${sec(saveMs)} (qemu total-time ${m['total-time'] ?? '?'} ms), ` +
        `state file ${(bytes / 2 ** 20).toFixed(1)} MiB${ram}`,
    );
    const diskWritten = src.writtenBefore
      ? 'IS written (ext4 mounted rw: superblock, journal, sshd), ' +
        'so a clone needs this exact overlay, not the raw image'
      : 'is not written';
    console.log(
      `guest writes to its root disk during boot (+ warm-up): ${(src.writtenBefore / 1024).toFixed(0)} KiB ` +
        `in the overlay -> the disk ${diskWritten}`,
    );
  }

  // ---- clones -------------------------------------------------------------------
  const rows: {
    spawnToQmp: number;
    loadMs: number;
    contMs: number;
    sshMs: number;
    cmdMs: number;
    lagMs: number;
    fixMs: number;
    scenario?: ScenarioResult;
  }[] = [];
  for (let i = 0; i < clones; i++) {
    await waitForVmSlot();
    const ctx = loadContext();
    const spec = await specFor(`clone${i + 1}`);
    const t0 = Date.now();
    await using qemu = new BenchQemu(
      argsWithDisk(spec, `file=${overlay},format=qcow2,if=none,id=disk0,snapshot=on`, [
        '-incoming',
        `exec:cat ${state}`,
      ]),
      dir,
      `clone${i + 1}`,
    );
    await using qmp = await Qmp.connect(spec.qmpSocket!);
    const spawnToQmp = Date.now() - t0;
    const m = await qmp.waitMigration(10);
    if (m.status !== 'completed') throw new Error(`incoming migration ${m.status}: ${qemu.stderr}`);
    const loadMs = Date.now() - t0;
    const st = await qmp.cmd<{ status: string }>('query-status');
    if (st.status !== 'running') await qmp.cmd('cont');
    const contMs = Date.now() - t0;
    const ssh = await connectSsh(spec.sshPort);
    const sshMs = Date.now() - t0;
    const vm = new BenchVm(
      {
        target: 'vm',
        kernel: image.manifest.kernelRelease,
        criu: image.manifest.criuVersion,
        criuCheck: 'ok',
        utilLinux: image.manifest.utilLinuxVersion ?? '?',
        accel: 'tcg',
        readyMs: 0,
      },
      qemu,
      ssh,
    );
    try {
      const r = await vm.exec('/run/mountlab/labctl info', { timeoutMs: 30_000, label: 'first command' });
      const cmdMs = Date.now() - t0;
      const f = /kernel=(\S+)[\s\S]*criu=(\S+)/.exec(r.stdout);
      if (f) Object.assign(vm.facts, { kernel: f[1], criu: f[2] });
      vm.facts.readyMs = cmdMs;
      const lagMs = await guestClockLagMs(vm);
      const f0 = Date.now();
      await vm.exec(`date -s @${(Date.now() / 1000).toFixed(3)} >/dev/null`, { timeoutMs: 30_000, label: 'set clock' });
      const fixMs = Date.now() - f0;
      const row: (typeof rows)[number] = { spawnToQmp, loadMs, contMs, sshMs, cmdMs, lagMs, fixMs };
      if (scenarioPath) {
        const res = await runOne(vm, scenarioPath, join(dir, `clone${i + 1}-run`));
        if (res) row.scenario = res;
      }
      rows.push(row);
      const sc = row.scenario;
      const phaseMs = (phase: string) => sc?.phases.find((p) => p.phase === phase)?.ms ?? NaN;
      console.log(
        `clone ${i + 1}: qmp up ${sec(spawnToQmp)}, state loaded ${sec(loadMs)}, running ${sec(contMs)}, ` +
          `ssh logged in ${sec(sshMs)}, first command done ${sec(cmdMs)}; ` +
          `guest clock ${(lagMs / 1000).toFixed(1)} s behind (fixed in ${sec(fixMs)})` +
          (sc
            ? `; ${sc.scenario}: ${sc.outcome}, dump ${sec(phaseMs('dump'))}, restore ${sec(phaseMs('restore'))}, ` +
              `total ${sec(sc.durationMs)}`
            : '') +
          `   load: ${ctx}`,
      );
    } finally {
      await vm[Symbol.asyncDispose]();
    }
  }
  const written = overlayWrittenBytes(overlay);
  console.log(
    `overlay after the clones: ${(written / 1024).toFixed(0)} KiB written ` +
      `(was ${(src.writtenBefore / 1024).toFixed(0)}): ` +
      `clones with snapshot=on leave it untouched: ${written === src.writtenBefore}`,
  );

  // ---- cold boots under the same load -------------------------------------------------
  const cold: number[] = [];
  const coldSsh: number[] = [];
  const coldDump: number[] = [];
  for (let i = 0; i < colds; i++) {
    await waitForVmSlot();
    const target = new VmTarget({
      image,
      accel: 'tcg',
      machine: 'microvm',
      memoryMiB,
      runDir: join(dir, `cold${i + 1}`),
      log: () => {},
    });
    const ctx = loadContext();
    await using vm = await target.start(new AbortController().signal);
    cold.push(vm.facts.readyMs);
    coldSsh.push(vm.facts.bootMs ?? NaN);
    let extra = '';
    if (scenarioPath) {
      const results: ScenarioResult[] = [];
      await runCorpus(await loadScenarios([scenarioPath]), [{ id: 'cold', target: new KeptTarget(vm) }], {
        runId: 'bench-cold',
        runDir: join(dir, `cold${i + 1}`),
        signal: new AbortController().signal,
        probes: true,
        reporter: { onScenarioEnd: (r) => void results.push(r) },
      });
      const d = results[0]?.phases.find((p) => p.phase === 'dump')?.ms ?? NaN;
      coldDump.push(d);
      extra =
        `; ${results[0]?.scenario}: ${results[0]?.outcome}, ` +
        `dump ${sec(d)}, total ${sec(results[0]?.durationMs ?? NaN)}`;
    }
    console.log(
      `cold boot ${i + 1} (lab VmTarget): ssh ${sec(vm.facts.bootMs ?? NaN)}, ready ${sec(vm.facts.readyMs)}` +
        `${extra}   load: ${ctx}`,
    );
  }

  // ---- summary ---------------------------------------------------------------------------
  const restoreReady = stats(rows.map((r) => r.cmdMs));
  const coldReady = stats([...cold, src.readyMs]);
  console.log('\nsummary (TCG, microvm, 1 GiB guest):');
  console.log(`  save: ${sec(src.saveMs)}, state file ${(src.bytes / 2 ** 20).toFixed(1)} MiB`);
  console.log(`  restore: state loaded ${fmtStats(stats(rows.map((r) => r.loadMs)))}`);
  console.log(`           ssh logged in ${fmtStats(stats(rows.map((r) => r.sshMs)))}`);
  console.log(`           first command done (ready) ${fmtStats(restoreReady)}`);
  console.log(`  cold boot to ready (source + ${colds} lab boots): ${fmtStats(coldReady)}`);
  console.log(
    `  guest clock lag after restore: ${fmtStats(stats(rows.map((r) => r.lagMs)))} ` +
      `(= time since the save; set from the host with date -s: ${fmtStats(stats(rows.map((r) => r.fixMs)))})`,
  );
  if (scenarioPath) {
    const cloneDumps = rows.map((r) => r.scenario?.phases.find((p) => p.phase === 'dump')?.ms ?? NaN);
    const savedWhen = warm ? ' (state saved warm)' : ' (state saved cold; --warm saves after one scenario)';
    console.log(
      `  scenario in a clone: ${rows.map((r) => r.scenario?.outcome ?? '?').join(', ')}; ` +
        `first dump in a clone ${fmtStats(stats(cloneDumps))} ` +
        `vs after a cold boot ${fmtStats(stats(coldDump))}${savedWhen}`,
    );
  }
  const gain = coldReady.median - restoreReady.median;
  console.log(
    `  => restore beats a cold boot by ${sec(gain)} per VM start ` +
      `(${((gain / coldReady.median) * 100).toFixed(0)}%) under TCG.`,
  );
  if (scenarioPath) {
    const dumpGain =
      stats(coldDump).median -
      stats(rows.map((r) => r.scenario?.phases.find((p) => p.phase === 'dump')?.ms ?? NaN)).median;
    const first = stats(rows.map((r) => r.scenario?.durationMs ?? NaN)).median;
    const warmNote = warm ? " (a warm state also skips CRIU's cold first dump)" : '';
    console.log(
      `     The first scenario in a clone took ${sec(first)}; ` +
        `its dump was ${sec(dumpGain)} faster than after a cold boot${warmNote}.`,
    );
  }
  console.log('  Under KVM (reasoning, not measured here: this host has no usable KVM):');
  console.log(
    '    a cold boot of this guest is about 1 s to sshd plus the first login and facts (~0.2 s each), call it 1.5 s;',
  );
  console.log(
    `    a restore is qemu start (~0.1 s) + reading ${(src.bytes / 2 ** 20).toFixed(0)} MiB of state ` +
      `(page cache: ~0.1 s; a cold disk at 500 MB/s: ~${(src.bytes / 5e8).toFixed(1)} s) ` +
      '+ the same login, call it 0.5 s.',
  );
  console.log(
    '    So about 1 s per VM start. ' +
      'With one VM kept per cell (86 runs on 1-2 VMs) that is ~0.01-0.02 s per scenario: noise.',
  );
  console.log(
    '    It matters only for --fresh-vm (a VM per scenario): ' +
      `under TCG it saves ~${sec(gain)} per scenario, under KVM ~1 s.`,
  );
  console.log(
    '  Costs: a state per image x kernel x qemu version x machine x -m x accel ' +
      '(migration streams are not portable across',
  );
  console.log(
    '    qemu versions or accelerators), made by a boot at first use and kept beside the image; ' +
      'the clock must be set after',
  );
  console.log(
    "    every restore; clones share the source's RNG state and ssh key pair, " +
      'so the key must be one per state, not per run.',
  );
  console.log(`load at the end: ${loadContext()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
