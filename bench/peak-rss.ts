/**
 * Peak memory of each VM while it runs a few scenarios: qemu's VmHWM (from
 * /proc/PID/status), split into guest RAM and everything else (qemu itself,
 * TCG's translation cache) from /proc/PID/smaps, and the lab process's own
 * RSS. This backs VM_OVERHEAD_MIB in src/run/schedule.ts, which the -j
 * default adds to the guest's memory for each VM.
 *
 *   npx tsc -p . && node dist/bench/peak-rss.js [--jobs 1] [--memory 1024] [--interval 500] [scenario paths...]
 *
 * Default: four small scenarios on one VM. Waits while 2+ qemu-system
 * processes run. Prints figures; asserts nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmTarget } from '../src/target/vm/vm-target.js';
import { runCorpus } from '../src/run/runner.js';
import { VM_OVERHEAD_MIB } from '../src/run/schedule.js';
import type { ScenarioResult } from '../src/results/result.js';
import {
  defaultGuest,
  loadContext,
  loadScenarios,
  mib,
  ownQemuPids,
  parseArgs,
  procStatusKb,
  sec,
  waitForVmSlot,
} from './lib.js';

const { opts, rest } = parseArgs(process.argv.slice(2));
const jobs = Number(opts.get('jobs') ?? 1);
const memoryMiB = Number(opts.get('memory') ?? 1024);
const intervalMs = Number(opts.get('interval') ?? 500);
const paths = rest.length
  ? rest
  : [
      'scenarios/propagation/slave-chain-3.yaml',
      'scenarios/binds/rbind-tree.yaml',
      'scenarios/seed-004/restore-twice.yaml',
      'scenarios/propagation/shared-peers-children.yaml',
    ];

interface Mapping {
  start: string;
  perms: string;
  name: string;
  sizeKb: number;
  rssKb: number;
}

function smaps(pid: number): Mapping[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return [];
  }
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const h = line.match(/^([0-9a-f]+)-[0-9a-f]+ (\S+) \S+ \S+ \d+\s*(.*)$/);
    if (h) {
      cur = { start: h[1]!, perms: h[2]!, name: h[3] ?? '', sizeKb: 0, rssKb: 0 };
      out.push(cur);
      continue;
    }
    const f = line.match(/^(Size|Rss):\s+(\d+) kB/);
    if (f && cur) {
      if (f[1] === 'Size') cur.sizeKb = Number(f[2]);
      else cur.rssKb = Number(f[2]);
    }
  }
  return out;
}

interface VmPeak {
  pid: number;
  hwmKb: number;
  rssKb: number;
  /** Largest RSS of the guest-RAM mapping seen, and of everything else at the same sample. */
  ramKb: number;
  otherKb: number;
  /** Largest non-RAM RSS at any sample. */
  otherMaxKb: number;
  /** Largest non-RAM anonymous RSS (heap, TCG buffer, qemu's allocations; not the shared binary and libraries). */
  otherAnonMaxKb: number;
  /** The largest executable anonymous mapping: TCG's code buffer (tb-size). */
  tbSizeKb: number;
  tbRssMaxKb: number;
  samples: number;
}

const peaks = new Map<number, VmPeak>();
const sample = (): void => {
  for (const pid of ownQemuPids()) {
    const st = procStatusKb(pid);
    if (!st) continue;
    const p = peaks.get(pid) ?? {
      pid,
      hwmKb: 0,
      rssKb: 0,
      ramKb: 0,
      otherKb: 0,
      otherMaxKb: 0,
      otherAnonMaxKb: 0,
      tbSizeKb: 0,
      tbRssMaxKb: 0,
      samples: 0,
    };
    p.hwmKb = Math.max(p.hwmKb, st.VmHWM ?? 0);
    p.rssKb = st.VmRSS ?? p.rssKb;
    const maps = smaps(pid);
    if (maps.length) {
      // Guest RAM is one anonymous mapping at least as large as -m.
      const ram = maps
        .filter((m) => m.name === '' && m.sizeKb >= memoryMiB * 1024)
        .sort((a, b) => b.sizeKb - a.sizeKb)[0];
      const total = maps.reduce((a, m) => a + m.rssKb, 0);
      const ramRss = ram?.rssKb ?? 0;
      if (ramRss >= p.ramKb) {
        p.ramKb = ramRss;
        p.otherKb = total - ramRss;
      }
      p.otherMaxKb = Math.max(p.otherMaxKb, total - ramRss);
      const anon = maps
        .filter((m) => m !== ram && (m.name === '' || m.name.startsWith('[')))
        .reduce((a, m) => a + m.rssKb, 0);
      p.otherAnonMaxKb = Math.max(p.otherAnonMaxKb, anon);
      const tb = maps.filter((m) => m.perms.includes('x') && m.name === '').sort((a, b) => b.sizeKb - a.sizeKb)[0];
      if (tb) {
        p.tbSizeKb = tb.sizeKb;
        p.tbRssMaxKb = Math.max(p.tbRssMaxKb, tb.rssKb);
      }
    }
    p.samples++;
    peaks.set(pid, p);
  }
};

const dir = mkdtempSync(join(tmpdir(), 'mountlab-bench-rss-'));
try {
  await waitForVmSlot();
  console.log(`load: ${loadContext()}`);
  const self0 = procStatusKb('self')!;
  const image = await defaultGuest();
  const scenarios = await loadScenarios(paths);
  const target = new VmTarget({ image, accel: 'auto', machine: 'microvm', memoryMiB, runDir: dir, log: () => {} });
  const results: ScenarioResult[] = [];
  const timer = setInterval(sample, intervalMs);
  const t0 = Date.now();
  try {
    await runCorpus(scenarios, [{ id: 'bench', target }], {
      runId: 'bench-rss',
      runDir: dir,
      signal: new AbortController().signal,
      probes: true,
      jobs,
      reporter: {
        onScenarioEnd: (r) => {
          sample(); // one sample at every scenario end too, while the VM is sure to be up
          results.push(r);
        },
      },
    });
  } finally {
    clearInterval(timer);
  }
  const self1 = procStatusKb('self')!;
  const verdicts = results.map((r) => `${r.scenario} ${r.outcome}`).join(', ');
  console.log(
    `${results.length} scenario(s), -j${jobs}, guest -m ${memoryMiB}, in ${sec(Date.now() - t0)}: ${verdicts}`,
  );
  console.log('\nper VM (qemu process, TCG tb-size=64):');
  console.log(
    '  pid      samples  VmHWM     RSS@end   guest RAM rss  other@that  other max  other anon max  tb buffer (rss max)',
  );
  for (const p of peaks.values()) {
    const cells = [
      String(p.pid).padEnd(9),
      String(p.samples).padEnd(9),
      mib(p.hwmKb).padEnd(10),
      mib(p.rssKb).padEnd(10),
      mib(p.ramKb).padEnd(15),
      mib(p.otherKb).padEnd(12),
      mib(p.otherMaxKb).padEnd(11),
      mib(p.otherAnonMaxKb).padEnd(16),
      `${mib(p.tbSizeKb)} (${mib(p.tbRssMaxKb)})`,
    ];
    console.log(`  ${cells.join('')}`);
  }
  const worstOther = Math.max(...[...peaks.values()].map((p) => p.otherMaxKb)) / 1024;
  const worstHwm = Math.max(...[...peaks.values()].map((p) => p.hwmKb)) / 1024;
  const worstAnon = Math.max(...[...peaks.values()].map((p) => p.otherAnonMaxKb)) / 1024;
  console.log(
    `\nlab process (node): RSS ${mib(self1.VmRSS ?? 0)} now, VmHWM ${mib(self1.VmHWM ?? 0)} ` +
      `(at start of the bench: RSS ${mib(self0.VmRSS ?? 0)})`,
  );
  const fits = worstOther <= VM_OVERHEAD_MIB ? 'fits' : 'does NOT fit';
  console.log(
    `\nVM_OVERHEAD_MIB = ${VM_OVERHEAD_MIB}: qemu's memory beyond guest RAM peaked at ${worstOther.toFixed(0)} MiB ` +
      `-> ${fits} (headroom ${(VM_OVERHEAD_MIB - worstOther).toFixed(0)} MiB); ` +
      `of it ${worstAnon.toFixed(0)} MiB is anonymous (the rest is qemu's binary and libraries, shared between VMs).`,
  );
  console.log(
    `  Whole-process peak ${worstHwm.toFixed(0)} MiB against the budget's ${memoryMiB + VM_OVERHEAD_MIB} MiB per VM ` +
      '(guest RAM is touched lazily, so the guest part stays far below -m on these scenarios; ' +
      'the budget assumes a guest that touches all of it).',
  );
  console.log(`load at the end: ${loadContext()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
