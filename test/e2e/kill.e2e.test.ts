import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { assetPath } from '../../src/paths.js';
import { removeScratch } from '../scratch.js';
import { readRun, runCli, tempOut } from './helpers.js';

/**
 * The lab killed at a random phase: by SIGINT or SIGTERM to itself, or by
 * SIGKILL to its qemu from outside. Afterwards nothing of the run may be
 * left: no qemu, no temp dir, no mount, no loop device. The phase is
 * random on purpose (a fixed one would test one code path); the seed is
 * printed, and MOUNTLAB_KILL_SEED replays a failure.
 */
const seed = Number(process.env.MOUNTLAB_KILL_SEED ?? Date.now() % 100_000);
let state = seed;
function pick<T>(list: readonly T[]): T {
  // A small LCG: reproducible from the printed seed.
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return list[state % list.length]!;
}

/** What a run with this CLI pid and out dir left behind. */
function leftovers(pid: number, out: string, tmp: string): string[] {
  const found: string[] = [];
  try {
    found.push(
      ...execFileSync('pgrep', ['-a', '-f', '--', `qemu-system-x86_64 -name mountlab-${pid}\\b`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => `process: ${l}`),
    );
  } catch (e) {
    // pgrep exits 1 when nothing matches; anything else is the test's own failure.
    if ((e as { status?: number }).status !== 1) throw e;
  }
  // The run had a TMPDIR of its own: anything in it is the run's (other
  // processes on the machine make /tmp/mountlab-* entries of their own).
  for (const e of readdirSync(tmp)) found.push(`temp: ${e}`);
  for (const l of readFileSync('/proc/mounts', 'utf8').split('\n')) if (l.includes(out)) found.push(`mount: ${l}`);
  const loops = execFileSync('losetup', ['-a']).toString();
  for (const l of loops.split('\n')) if (l.includes(out)) found.push(`loop: ${l}`);
  return found;
}

const PHASES = ['boot', 'setup', 'capture-before', 'dump', 'restore', 'capture-after', 'compare'] as const;

describe('@e2e the lab killed at a random phase leaves nothing behind', function () {
  this.timeout(10 * 60_000);
  after(removeScratch);
  before(() => process.stdout.write(`      (kill seed ${seed}; MOUNTLAB_KILL_SEED=${seed} replays it)\n`));

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} to mountlab: exit 130 after clean-up`, async () => {
      const phase = pick(PHASES);
      process.stdout.write(`      (${sig} during ${phase})\n`);
      const out = tempOut(`kill-${sig}`);
      const tmp = tempOut(`kill-${sig}-tmp`);
      let pid = 0;
      let sent = false;
      const marker = phase === 'boot' ? /: starting vm/ : new RegExp(`slave-chain-3: ${phase}\\n`);
      const r = await runCli(
        ['run', assetPath('scenarios', 'propagation', 'slave-chain-3.yaml'), '--out', out, '--verbose', '-j', '1'],
        {
          env: { TMPDIR: tmp },
          onStderr: (text, child) => {
            if (!sent && marker.test(text)) {
              sent = true;
              pid = child.pid!;
              child.kill(sig);
            }
          },
        },
      );
      assert.ok(sent, `never reached ${phase}:\n${r.stderr}`);
      assert.equal(r.code, 130, `${sig} during ${phase}\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${sig} received, stopping and cleaning up`));
      assert.deepEqual(leftovers(pid, out, tmp), [], `${sig} during ${phase}`);
      // What finished is on disk as a valid (partial) results file.
      const { run } = readRun(out);
      assert.equal(run.complete, false);
    });
  }

  it('qemu SIGKILLed from outside: that scenario is error, the next runs on a fresh guest, nothing left', async () => {
    const phase = pick(['setup', 'dump', 'restore'] as const);
    process.stdout.write(`      (qemu killed during ${phase})\n`);
    const out = tempOut('kill-qemu');
    const tmp = tempOut('kill-qemu-tmp');
    let pid = 0;
    let killed = false;
    // Two scenarios in plan order (-j 1, and the victim is the longer one, so it runs first).
    const r = await runCli(
      [
        'run',
        assetPath('scenarios', 'propagation', 'slave-chain-3.yaml'),
        assetPath('scenarios', 'binds', 'two-tmpfs.yaml'),
        '--out',
        out,
        '--verbose',
        '-j',
        '1',
      ],
      {
        env: { TMPDIR: tmp },
        onStderr: (text, child) => {
          if (!killed && new RegExp(`slave-chain-3: ${phase}\\n`).test(text)) {
            killed = true;
            pid = child.pid!;
            execFileSync('pkill', ['-KILL', '-f', `qemu-system-x86_64 -name mountlab-${pid}\\b`]);
          }
        },
      },
    );
    assert.ok(killed, r.stderr);
    const { run } = readRun(out);
    const victim = run.results.find((x) => x.scenario === 'slave-chain-3')!;
    assert.equal(victim.outcome, 'error', `qemu killed during ${phase}: ${victim.reason}`);
    assert.equal(run.results.find((x) => x.scenario === 'two-tmpfs')?.outcome, 'pass', r.stderr);
    assert.match(r.stderr, /no longer trusted[^\n]*booting a fresh one/);
    assert.equal(r.code, 2);
    assert.deepEqual(leftovers(pid, out, tmp), []);
  });
});
