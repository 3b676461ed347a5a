import { strict as assert } from 'node:assert';
import { classifyEngineFailure, kernelTrouble, keyLine, logExcerpt, rootCause } from './criu-log.js';

const DUMP_LOG = `(00.966552) Error (criu/tun.c:85): tun: Unable to create tun: No such file or directory
(02.315433) Warn  (compel/arch/x86/src/lib/infect.c:418): Will restore 168 with interrupted system call
(02.329259) Error (criu/files-reg.c:1122): Can't create link remap for /w/a. Use link-remap option.
(02.329742) Error (criu/cr-dump.c:1681): Dump files (pid: 168) failed with -1
(02.359496) Error (criu/cr-dump.c:2111): Dumping FAILED.`;

describe('criu logs', () => {
  it('names the root cause, not the start-up tun probe or the wrappers', () => {
    assert.match(rootCause(DUMP_LOG)!, /Can't create link remap for \/w\/a/);
    const f = classifyEngineFailure('dump', 1, undefined, DUMP_LOG, '');
    assert.equal(f.kind, 'failed');
    assert.equal(
      f.headline,
      "criu dump failed (exit 1): Error (criu/files-reg.c:1122): Can't create link remap for /w/a. " +
        'Use link-remap option.',
    );
  });

  it('takes the last line of trouble before the summary when only the summary says Error', () => {
    const log = [
      '(00.001) Error (criu/tun.c:85): tun: Unable to create tun: No such file or directory',
      '(00.2) Warn  (criu/mount.c:1) mnt: Unable to guess anything',
      "(00.3) 1: mnt-v2: Can't bind ./f/x: Not a directory",
      '(00.4) 1: mnt-v2: done',
      '(00.5) Error (criu/cr-restore.c:2320): Restoring FAILED.',
    ].join('\n');
    assert.equal(rootCause(log), "(00.3) 1: mnt-v2: Can't bind ./f/x: Not a directory");
    // Nothing of trouble before it: the summary is all there is to say.
    assert.match(rootCause('(00.5) Error (criu/cr-restore.c:2320): Restoring FAILED.')!, /Restoring FAILED/);
  });

  it("does not blame the fd limit a container's criu cannot raise", () => {
    const log = [
      "(00.001) Error (criu/rlimit.c:40): rlimit: Can't setup RLIMIT_NOFILE for self",
      '(00.5) Error (criu/files-reg.c:1796): Open files on overmounted mounts are not supported yet',
    ].join('\n');
    assert.match(rootCause(log)!, /overmounted mounts/);
  });

  it("looks past a helper command's exit status to what criu itself says (criu 3.17.1 on a 6.18 kernel)", () => {
    const log = [
      '(00.001014) Error (criu/util.c:642): exited, status=1',
      '(00.001755) Error (criu/util.c:642): exited, status=1',
      '(00.005800) Error (criu/tun.c:85): tun: Unable to create tun: No such file or directory',
      '(00.009436) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds',
      '(00.009478) Error (criu/crtools.c:260): Could not initialize kernel features detection.',
    ].join('\n');
    assert.match(rootCause(log)!, /vdso: Unexpected rt vDSO area bounds/);
  });

  it('calls a BUG or SIGSEGV an engine crash', () => {
    const f = classifyEngineFailure('restore', 139, undefined, '(00.1) BUG at criu/mount.c:48\n', 'Segmentation fault');
    assert.equal(f.kind, 'crash');
    assert.match(f.headline, /crashed: BUG at criu\/mount\.c:48/);
  });

  it('calls exit 124 from timeout(1) a hang', () => {
    assert.equal(classifyEngineFailure('dump', 124, undefined, '', '').kind, 'timeout');
  });

  it('finds an oops on the console and quotes from it', () => {
    const t = kernelTrouble(
      [
        'MOUNTLAB-READY',
        '[   12.1] BUG: kernel NULL pointer dereference, address: 0000000000000008',
        '[   12.1] Call Trace:',
        '',
      ].join('\n'),
    );
    assert.match(t!, /^\[ {3}12\.1\] BUG: kernel NULL pointer/);
    assert.equal(kernelTrouble('MOUNTLAB-READY\nsshd: Accepted publickey\n'), undefined);
  });

  it('says which lines are worth reading first: trouble, then the v2 mount engine deciding', () => {
    assert.equal(keyLine("(00.1) Error (criu/mount.c:1992): mnt: A few mount points can't be mounted"), 'trouble');
    assert.equal(keyLine('(00.1) Warn  (compel/arch/x86/src/lib/infect.c:418): Will restore 168'), 'trouble');
    assert.equal(keyLine('[ 12.3] kernel BUG at fs/namespace.c:1234!'), 'trouble');
    assert.equal(keyLine('(00.1)      1: mnt-v2: Mount 49 is detected as dir-mount'), 'mount-engine');
    assert.equal(keyLine('(00.1)      1: mnt-v2: Failed to make mount 40 slave'), 'trouble');
    assert.equal(keyLine('(00.1) mnt: Found /w mounted'), undefined);
  });

  it("quotes a log's trouble, however much mount engine talk comes first, then its end", () => {
    const decisions = Array.from({ length: 50 }, (_, i) => `(00.${i}) 1: mnt-v2: step ${i}`);
    const error = '(01.0) Error (criu/mount.c:7): mnt-v2: cannot bind /w';
    const log = [...decisions, error, ...decisions, '(02.0) Restoring FAILED.'].join('\n');
    const excerpt = logExcerpt(log, 20, 2).split('\n');
    assert.deepEqual(excerpt, [error, '...', '(00.49) 1: mnt-v2: step 49', '(02.0) Restoring FAILED.']);
  });
});
