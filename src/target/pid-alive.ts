/**
 * Whether a process with this pid exists: signal 0 checks without sending.
 * EPERM means it exists but is not ours to signal. Used to tell a lock,
 * container or libvirt domain left by a mountlab that died from one whose
 * owner still runs.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
