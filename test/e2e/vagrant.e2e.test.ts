import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../scratch.js';
import { assetPath } from '../../src/paths.js';
import { checkVagrantPrerequisites, DEFAULT_WORK_ROOT } from '../../src/target/vagrant/vagrant-target.js';
import { readRun, runCli, tempOut } from './helpers.js';

/** libvirt domains and pools whose name carries this run id. */
function libvirtLeftovers(runId: string): string[] {
  const names = (args: string[]) =>
    execFileSync('virsh', ['-c', 'qemu:///system', ...args, '--all', '--name'])
      .toString()
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  return [...names(['list']).map((n) => `domain ${n}`), ...names(['pool-list']).map((n) => `pool ${n}`)].filter((n) =>
    n.includes(runId),
  );
}

function workDirs(runId: string): string[] {
  return existsSync(DEFAULT_WORK_ROOT) ? readdirSync(DEFAULT_WORK_ROOT).filter((n) => n.includes(runId)) : [];
}

/**
 * Real runs in the vagrant target: the project's own box (the guest rootfs
 * and kernel) brought up by vagrant-libvirt from the top-level Vagrantfile,
 * scenarios over ssh, `vagrant destroy` at the end. Nothing is mocked.
 *
 * It needs vagrant, vagrant-libvirt and a running libvirtd. Without them the
 * suite fails with the lab's own message (what to install or start); set
 * MOUNTLAB_NO_VAGRANT=1 to leave it pending on a machine without them on purpose.
 */
describe('@e2e vagrant target', function () {
  this.timeout(10 * 60_000);
  after(removeScratch);
  const hadVagrantHome = existsSync(join(homedir(), '.vagrant.d'));

  before(async function () {
    if (process.env.MOUNTLAB_NO_VAGRANT === '1') {
      process.stdout.write(
        '      (vagrant e2e pending: MOUNTLAB_NO_VAGRANT=1 says this machine has no vagrant/libvirt on purpose)\n',
      );
      this.skip();
    }
    try {
      await checkVagrantPrerequisites(() => {}, scratchDir('vagrant-home'));
    } catch (e) {
      const hint = (e as { hint?: string }).hint;
      throw new Error(
        `${(e as Error).message}${hint ? `\n  hint: ${hint}` : ''}` +
          '\n  (set MOUNTLAB_NO_VAGRANT=1 to leave these tests pending)',
      );
    }
  });

  it('vagrant-libvirt guest: a slave chain passes; afterwards the domain, pool and work files are gone', async () => {
    const out = tempOut('vagrant');
    const r = await runCli([
      'run',
      assetPath('scenarios', 'propagation', 'slave-chain-3.yaml'),
      '--target',
      'vagrant',
      '--out',
      out,
    ]);
    const { dir, run } = readRun(out);
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}\n${readFileSync(join(dir, 'summary.md'), 'utf8')}`);
    assert.deepEqual(
      run.results.map((x) => [x.scenario, x.outcome]),
      [['slave-chain-3', 'pass']],
    );
    const cell = run.cells[0]!;
    assert.match(cell.id, /^vagrant-debian-6\.12-criu-\d/);
    assert.equal(cell.facts.target, 'vagrant');
    assert.match(cell.facts.kernel, /^6\.12\./);
    assert.equal(cell.facts.criuCheck, 'ok');
    // The guest's own console, written by libvirt: the lab's init printed its protocol.
    assert.match(readFileSync(join(dir, cell.id, 'console.log'), 'latin1'), /^MOUNTLAB-READY$/m);
    const before = readFileSync(join(dir, run.results[0]!.artifacts['before.capture']!), 'utf8');
    assert.match(before, / master:\d+/);
    assert.deepEqual(libvirtLeftovers(run.runId), []);
    assert.deepEqual(workDirs(run.runId), []);
    if (!hadVagrantHome)
      assert.equal(existsSync(join(homedir(), '.vagrant.d')), false, 'the run must not create ~/.vagrant.d');
  });

  it('cleans up on Ctrl-C during vagrant up: exit 130, no domain, pool or work dir left', async () => {
    const out = tempOut('vagrant-int');
    let sent = false;
    const r = await runCli(
      ['run', assetPath('scenarios', 'propagation', 'slave-chain-3.yaml'), '--target', 'vagrant', '--out', out, '-v'],
      {
        onStderr: (text, child) => {
          if (!sent && /vagrant: Starting domain/.test(text)) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      },
    );
    assert.ok(sent, `never saw the domain start:\n${r.stderr}`);
    assert.equal(r.code, 130, r.stderr);
    const runId = readdirSync(out)[0]!;
    assert.deepEqual(libvirtLeftovers(runId), []);
    assert.deepEqual(workDirs(runId), []);
  });
});
