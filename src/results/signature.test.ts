import { strict as assert } from 'node:assert';
import {
  failureOf,
  formatFailure,
  formatSignature,
  maskNumbers,
  parseFailure,
  parseSignature,
  sameFailure,
  sameSignature,
  signatureOf,
} from './signature.js';

const failed = (phase: string, message: string, extra: { hung?: boolean; excerpt?: string } = {}) =>
  signatureOf({
    outcome: 'xfail',
    reason: message,
    differences: [],
    error: { phase: phase as 'dump', message, ...extra },
  });

describe('signatures', () => {
  it('masks numbers but keeps the CRIU source line that failed', () => {
    assert.equal(
      maskNumbers('Error (criu/mount.c:1234): mnt: Mount 42 ./w/a (master 7 shared 0x1f) has no proper root'),
      'Error (criu/mount.c:1234): mnt: Mount N ./w/a (master N shared N) has no proper root',
    );
    // CRIU's scratch directory has a random name: two runs of one failure are one signature.
    const at = (dir: string) =>
      maskNumbers(`Error (criu/mount.c:2507): mnt: Can't bind-mount at /tmp/${dir}/10-0/f: EINVAL`);
    assert.equal(at('.criu.mntns.akFccS'), at('.criu.mntns.WsrBk1'));
    assert.equal(
      at('.criu.mntns.akFccS'),
      "Error (criu/mount.c:2507): mnt: Can't bind-mount at /tmp/.criu.mntns.X/N-N/f: EINVAL",
    );
  });

  it('takes a dump or restore failure from its error line, whatever the exit code and mount ids', () => {
    const a = failed('restore', 'criu restore failed (exit 1): Error (criu/mount.c:88): mnt: 31:./w no root');
    const b = failed('restore', 'criu restore failed (exit 2): Error (criu/mount.c:88): mnt: 1077:./w no root');
    assert.deepEqual(a, { kind: 'criu', phase: 'restore', text: 'Error (criu/mount.c:88): mnt: N:./w no root' });
    assert.ok(sameSignature(a, b));
    assert.ok(
      !sameSignature(a, failed('dump', 'criu dump failed (exit 1): Error (criu/mount.c:88): mnt: 31:./w no root')),
    );
    assert.ok(
      !sameSignature(a, failed('restore', 'criu restore failed (exit 1): Error (criu/mount.c:89): mnt: 3:./w no root')),
    );
  });

  it('names a crash by its top frames, a hang by its phase, a difference by kind and subject', () => {
    const oops =
      'BUG: kernel NULL pointer\nRIP: 0010:propagate_one+0x1a/0x2b0\n do_mount+0x77/0x90\n x+0x1/0x2\n y+0x1/0x2';
    assert.deepEqual(failed('restore', 'kernel trouble on the console', { excerpt: oops }), {
      kind: 'crash',
      phase: 'restore',
      text: 'propagate_one < do_mount < x',
    });
    assert.equal(failed('dump', 'criu dump did not finish in 120 s', { hung: true }).kind, 'hang');
    const d = signatureOf({
      outcome: 'fail',
      reason: 'x',
      differences: [{ kind: 'master-changed', mount: '/w/b [stacked 2]', sentence: 'whatever it says' }],
    });
    assert.equal(formatSignature(d), 'difference: master-changed /w/b [stacked N]');
  });

  it('calls a pass, xpass or skip a pass', () => {
    for (const outcome of ['pass', 'xpass', 'skip'] as const) {
      assert.equal(signatureOf({ outcome, reason: '', differences: [] }).kind, 'pass');
    }
  });

  it('reads its own one-line form back', () => {
    for (const s of [
      failed('restore', 'criu restore failed (exit 1): Error (criu/mount.c:88): mnt: 31 no root'),
      failed('setup', 'helper setup failed: bind /a: ENOENT'),
    ]) {
      assert.deepEqual(parseSignature(formatSignature(s)), s);
    }
    assert.equal(parseSignature('restore failed'), undefined);
  });

  it('a failure is the outcome and the signature; a --signature without an outcome matches any', () => {
    const message =
      "criu dump failed (exit 1): Error (criu/mount.c:1009): mnt: Mount 92 ./a doesn't have a proper root mount";
    const r = { reason: message, differences: [], error: { phase: 'dump' as const, message } };
    const xfail = failureOf({ outcome: 'xfail', ...r });
    const fail = failureOf({ outcome: 'fail', ...r });
    assert.equal(
      formatFailure(xfail),
      "xfail: criu dump: Error (criu/mount.c:1009): mnt: Mount N ./a doesn't have a proper root mount",
    );
    assert.deepEqual(parseFailure(formatFailure(xfail)), xfail);
    assert.ok(
      sameFailure(
        xfail,
        failureOf({ outcome: 'xfail', ...r, error: { ...r.error, message: message.replace('92', '7') } }),
      ),
    );
    assert.ok(!sameFailure(xfail, fail));
    const any = parseFailure(formatSignature(xfail.signature))!;
    assert.equal(any.outcome, undefined);
    assert.ok(sameFailure(any, fail) && sameFailure(any, xfail));
    assert.equal(parseFailure('pass restored'), undefined);
  });
});
