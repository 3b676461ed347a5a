import { InterruptedError } from '../errors.js';

/**
 * Turns SIGINT, SIGTERM and SIGHUP into an abort of the run, so clean-up runs
 * through the normal `await using` disposal instead of the process dying with
 * VMs still up. A second signal while cleaning up only says so: a half-done
 * clean-up is worse than a slow one. A third gives up waiting; qemu is started
 * with a parent-death signal, so even then no VM outlives the process.
 */
export interface InterruptScope extends Disposable {
  readonly signal: AbortSignal;
}

export function onInterrupt(log: (msg: string) => void): InterruptScope {
  const ctl = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      log(`\nmountlab: ${sig} received, stopping and cleaning up (VMs, mounts, temp dirs)...`);
      ctl.abort(new InterruptedError(sig));
    } else if (count === 2) {
      log(`mountlab: still cleaning up; press Ctrl-C once more to abandon clean-up`);
    } else {
      log('mountlab: abandoning clean-up');
      process.exit(130);
    }
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, handler);
  return {
    signal: ctl.signal,
    [Symbol.dispose]() {
      for (const s of sigs) process.off(s, handler);
    },
  };
}
