import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PreflightError } from '../../errors.js';
import { removeScratch, scratchDir } from '../../../test/scratch.js';
import {
  cacheAnswer,
  cpuModel,
  judgePreflight,
  PREFLIGHT_DEADLINE_S,
  PREFLIGHT_SCRIPT,
  preflightKey,
  preflightMode,
  readCachedAnswer,
  refusal,
} from './criu-preflight.js';

const AT = new Date('2026-12-03T17:00:00Z');

describe('criu preflight', () => {
  after(removeScratch);

  it('passes only when both the dump and the restore ran and the script finished', () => {
    const a = judgePreflight('@dump 0 412\n@restore 0 233\n@ok\n', 0, '4.1.1', AT);
    assert.deepEqual(a, {
      ok: true,
      detail: 'ok in 0.6 s (dump 0.4 s, restore 0.2 s)',
      criu: '4.1.1',
      at: AT.toISOString(),
    });
    assert.equal(
      judgePreflight('@dump 0 412\n@restore 0 233\n', 0, '4.1.1', AT).ok,
      false,
      'no @ok: the script was cut short',
    );
  });

  it('says a dump killed at its limit hung, with its limit and the last lines of its log', () => {
    const a = judgePreflight('@dump 137 10004\n@log\n(00.01) pie: 77: new_sp=0x7ffd ip 0x7f00\n', 0, '4.1.1', AT);
    assert.equal(a.ok, false);
    assert.equal(a.detail, 'criu dump of a sleeping task did not finish in 10 s and was killed');
    assert.equal(a.logTail, '(00.01) pie: 77: new_sp=0x7ffd ip 0x7f00');
  });

  it('tells an orderly failure of the restore from a hang', () => {
    const a = judgePreflight(
      '@dump 0 300\n@restore 1 250\n@log\n(00.2) Error (criu/cr-restore.c:1): oops\n',
      0,
      '4.1.1',
      AT,
    );
    assert.equal(a.detail, 'criu restore of a sleeping task failed (exit 1) after 0.3 s');
    assert.match(a.logTail ?? '', /oops/);
  });

  it('keeps what the script printed when it did not get as far as the dump', () => {
    const a = judgePreflight('mktemp: failed\n', 125, '4.1.1', AT);
    assert.equal(a.detail, 'the preflight script did not finish (exit 125)');
    assert.equal(a.logTail, 'mktemp: failed');
  });

  it('refuses with what failed, the deadline, the host, what to do, and where a cached answer lives', () => {
    const host = { kernel: '6.18.44', cpu: 'AMD EPYC [flags 0a1b2c3d]', image: 'trixie-1' };
    const answer = judgePreflight('@dump 137 10000\n@log\npie: 1: new_sp=0x1 ip 0x2\n', 0, '4.1.1', AT);
    const fresh = refusal(answer, host, false);
    assert.ok(fresh instanceof PreflightError);
    assert.equal(fresh.exitCode, 2);
    assert.match(
      fresh.message,
      /^CRIU preflight failed: criu 4\.1\.1 cannot checkpoint and restore on this host's kernel \(6\.18\.44, AMD EPYC/,
    );
    assert.match(
      fresh.message,
      new RegExp(`did not finish in 10 s and was killed, within a deadline of ${PREFLIGHT_DEADLINE_S} s`),
    );
    assert.match(fresh.message, /use --target vm/);
    assert.doesNotMatch(fresh.message, /\n/, 'one line: the log lines travel as the excerpt');
    assert.equal(fresh.consoleTail, 'pie: 1: new_sp=0x1 ip 0x2');
    const cached = refusal(answer, host, true, '/c/criu-preflight.json');
    assert.match(
      cached.message,
      /a cached answer from 2026-12-03T17:00:00\.000Z; delete \/c\/criu-preflight\.json to check again/,
    );
  });

  it('caches per host kernel, CPU (model and flags) and image', async () => {
    const file = join(scratchDir('preflight-cache'), 'criu-preflight.json');
    const k1 = preflightKey({ kernel: '6.18.44', cpu: 'AMD EPYC [flags aa]', image: 'trixie-1' });
    const k2 = preflightKey({ kernel: '6.18.44', cpu: 'AMD EPYC [flags bb]', image: 'trixie-1' });
    const k3 = preflightKey({ kernel: '6.12.1', cpu: 'AMD EPYC [flags aa]', image: 'trixie-1' });
    assert.equal(readCachedAnswer(k1, file), undefined);
    const no = judgePreflight('@dump 137 10000\n', 0, '4.1.1', AT);
    const yes = judgePreflight('@dump 0 1\n@restore 0 1\n@ok\n', 0, '4.1.1', AT);
    await cacheAnswer(k1, no, file);
    await cacheAnswer(k3, yes, file);
    assert.deepEqual(readCachedAnswer(k1, file), no);
    assert.equal(readCachedAnswer(k2, file), undefined, 'another CPU with the same model name');
    assert.deepEqual(readCachedAnswer(k3, file), yes);
  });

  it('names a CPU by its model and a hash of its flags', () => {
    const a = cpuModel(
      'processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu vme avx512f\n',
    );
    const b = cpuModel('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu vme\n');
    assert.match(a, /^AMD EPYC \[flags [0-9a-f]{8}\]$/);
    assert.notEqual(a, b);
    assert.equal(cpuModel('vendor_id : GenuineIntel\n'), 'GenuineIntel');
  });

  it('reads its test-only switch, and nothing else turns it on', () => {
    assert.equal(preflightMode({}), 'normal');
    assert.equal(preflightMode({ MOUNTLAB_CRIU_PREFLIGHT: 'fresh' }), 'fresh');
    assert.equal(preflightMode({ MOUNTLAB_CRIU_PREFLIGHT: 'fault-hang' }), 'fault-hang');
    assert.equal(preflightMode({ MOUNTLAB_CRIU_PREFLIGHT: 'yes' }), 'normal');
  });

  it('is a script sh accepts', () => {
    execFileSync('sh', ['-n', '-c', PREFLIGHT_SCRIPT]);
  });
});
