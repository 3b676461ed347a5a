import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildHelper } from '../../test/helper-build.js';
import { parseCapture } from './capture-file.js';

/**
 * vm/helper's capture subcommand, built with the host's gcc and run on
 * this host's kernel (the guest runs the same source, built static by
 * vm/build-image.sh). The slave-namespace case needs root and unshare(1),
 * as the whole suite does.
 */
describe('vm/helper capture on this host (issue 16.2)', function () {
  this.timeout(60_000);
  let dir = '';
  let helper = '';
  before(() => {
    // gcc is part of what ./mountlab installs (the guest's helper is built with it).
    dir = mkdtempSync(join(tmpdir(), 'mountlab-helper-'));
    helper = buildHelper(dir);
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

  it('names a master outside the tree by the outside mount that carries it (a slave copy of a namespace)', () => {
    // A private namespace of its own with one shared tmpfs, and a task in a
    // slave copy of it: the tmpfs is the task's master, carried by a mount
    // of the helper's own namespace, which is what the guest's capture calls
    // outside. Made here, so it holds whatever the host's mounts are.
    const mnt = join(dir, 'shared');
    const script = [
      'set -e',
      `mkdir -p "${mnt}"`,
      `mount -t tmpfs mountlab-outside "${mnt}"`,
      `mount --make-shared "${mnt}"`,
      'unshare -m --propagation slave sleep 30 & p=$!',
      'sleep 0.3',
      `"${helper}" capture "$p"`,
      'kill -9 "$p"',
    ].join('\n');
    const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'latin1' });
    const c = parseCapture(out, 'helper');
    const slave = c.tasks[0]!.mounts.find((m) => m.mountPoint === mnt);
    assert.ok(slave?.master !== undefined, `the copy of ${mnt} is a slave`);
    const carriers = c.outside!.mounts.filter((m) => m.shared === slave.master);
    assert.deepEqual(
      carriers.map((m) => m.mountPoint),
      [mnt],
      'the master is named by the outside mount that carries it',
    );
  });
});
