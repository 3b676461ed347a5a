import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { release } from 'node:os';
import { readAnswer, storeAnswer } from '../answer-cache.js';
import { cacheRoot, type VmImage } from './image.js';
import type { Accel } from './qemu.js';

export type AccelChoice = Accel | 'auto';

export interface AccelDecision {
  accel: Accel;
  /** Why, for the log: "KVM probe failed: KVM internal error ...". */
  reason: string;
}

/**
 * Decides between KVM and TCG. /dev/kvm existing is not enough: on a host
 * that is itself a guest without nested virtualisation, KVM guests die in
 * the kernel decompressor ("KVM internal error. Suberror: 1"). So KVM is
 * used only when a real boot of this kernel under KVM reaches "Linux
 * version". The answer is cached per host kernel and guest kernel.
 */
export async function chooseAccel(want: AccelChoice, image: VmImage, log: (m: string) => void): Promise<AccelDecision> {
  if (want === 'tcg') return { accel: 'tcg', reason: 'requested' };
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    if (want === 'kvm') return { accel: 'kvm', reason: 'requested (but /dev/kvm is not accessible: expect a failure)' };
    return { accel: 'tcg', reason: '/dev/kvm is missing or not accessible' };
  }
  if (want === 'kvm') return { accel: 'kvm', reason: 'requested' };
  const cacheFile = join(cacheRoot(), 'accel-probe.json');
  const key = `${release()}|${image.manifest.kernelRelease}`;
  const cached = readAnswer<AccelDecision>(cacheFile, key);
  if (cached) return { ...cached, reason: `${cached.reason} (cached probe)` };
  log('probing KVM with a short boot...');
  const ok = await probeKvm(image);
  const decision: AccelDecision = ok.works
    ? { accel: 'kvm', reason: 'KVM probe booted the kernel' }
    : { accel: 'tcg', reason: `KVM probe failed: ${ok.detail}` };
  await storeAnswer(cacheFile, key, decision);
  return decision;
}

function probeKvm(image: VmImage): Promise<{ works: boolean; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'setpriv',
      [
        '--pdeathsig',
        'SIGKILL',
        '--',
        'qemu-system-x86_64',
        '-nodefaults',
        '-no-user-config',
        '-no-reboot',
        '-display',
        'none',
        '-accel',
        'kvm',
        '-cpu',
        'host',
        '-m',
        '256',
        '-kernel',
        image.kernel,
        '-append',
        'console=ttyS0 earlyprintk=ttyS0 panic=-1',
        '-serial',
        'stdio',
        '-monitor',
        'none',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let done = false;
    const finish = (works: boolean, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ works, detail });
    };
    const timer = setTimeout(() => finish(false, 'no kernel output within 20 s'), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (/Linux version/.test(out)) finish(true, 'ok');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
      const m = err.match(/KVM internal error[^\n]*/);
      if (m) finish(false, m[0]);
    });
    child.on('exit', (code) => finish(false, `qemu exited (${code}): ${err.trim().split('\n')[0] ?? ''}`));
    child.on('error', (e) => finish(false, e.message));
  });
}
