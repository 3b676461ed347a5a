import { strict as assert } from 'node:assert';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assetPath } from '../paths.js';
import { parseCapture } from './capture-file.js';

/**
 * vm/helper's capture subcommand, built with the host's gcc and run on
 * this host's kernel (the guest runs the same source, built static by
 * vm/build-image.sh). Skipped without gcc; the slave-namespace case needs
 * root and unshare(1).
 */
describe('vm/helper capture on this host (issue 16.2)', function () {
  this.timeout(60_000);
  let dir = '';
  let helper = '';
  before(function () {
    if (spawnSync('gcc', ['--version']).status !== 0) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'mountlab-helper-'));
    helper = join(dir, 'mountlab-helper');
    execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', helper, assetPath('vm/helper/mountlab-helper.c')]);
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  async function captureOf(cmd: string, args: string[]): Promise<string> {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    try {
      await sleep(300);
      return execFileSync(helper, ['capture', String(child.pid)], { encoding: 'latin1' });
    } finally {
      child.kill('SIGKILL');
    }
  }

  it('ends every capture with an @outside section that the parser reads', async () => {
    const c = parseCapture(await captureOf('sleep', ['30']), 'helper');
    assert.ok(c.outside, 'no @outside section');
    assert.ok(c.tasks[0]!.mounts.length > 0);
    const shared = new Set(c.tasks.flatMap((t) => t.mounts.map((m) => m.shared)));
    for (const m of c.outside.mounts) assert.ok(m.shared !== undefined && !shared.has(m.shared), m.mountPoint);
  });

  it('names a master outside the tree by the outside mount that carries it (a slave copy of this namespace)', async function () {
    if (process.getuid?.() !== 0 || spawnSync('unshare', ['-m', '--propagation', 'slave', 'true']).status !== 0)
      this.skip();
    const c = parseCapture(await captureOf('unshare', ['-m', '--propagation', 'slave', 'sleep', '30']), 'helper');
    const masters = new Set(c.tasks[0]!.mounts.flatMap((m) => (m.master === undefined ? [] : [m.master])));
    if (masters.size === 0) this.skip(); // nothing here is shared, so nothing became a slave
    const carried = new Set(c.outside!.mounts.map((m) => m.shared));
    for (const g of masters) assert.ok(carried.has(g), `master:${g} not in the @outside section`);
  });
});
