import { buildInSteps, engineInSteps, finishInSteps, type GuestClient } from './guest-client.js';

const CAPTURE = '@task init pid=PID mntns=1 cwd=/ root=/\n1 0 0:21 / / rw - tmpfs w rw\n';

/**
 * A guest whose every scenario builds, dumps, restores and cleans up, and
 * whose topology survives (one tmpfs root); it has every path but
 * /proc/nope and every criu feature. Tests replace the calls they need.
 */
export function fakeGuestClient(overrides: Partial<GuestClient> = {}): GuestClient {
  const client: GuestClient = {
    // Made of the single calls as they are when called, so that a test replaces those alone.
    build: (plan) => buildInSteps(client, plan),
    engine: (plan, pid) => engineInSteps(client, plan, pid),
    finish: (plan, probes) => finishInSteps(client, plan, probes),
    setup: async () => ({ ok: true, pid: 100 }),
    leak: async () => ({ ok: true }),
    leaks: async () => ({ ok: true, leaks: [] }),
    capture: async (_plan, pid) => ({ ok: true, text: CAPTURE.replace('PID', String(pid)) }),
    dump: async () => ({ code: 0, stderr: '', log: '(00.1) dump log\n', durationMs: 1 }),
    restore: async () => ({ code: 0, stderr: '', log: '(00.1) restore log\n', durationMs: 1, pid: 200 }),
    probePropagation: async () => ({ ok: true, code: 0, stderr: '', output: '', replies: new Map() }),
    probeFds: async () => ({ ok: true, code: 0, stderr: '', output: '', replies: { byFd: new Map(), unread: [] } }),
    kill: async () => ({ ok: true }),
    cleanup: async () => ({ ok: true, code: 0 }),
    missingPaths: async (paths) => paths.filter((p) => p === '/proc/nope'),
    criuFeature: async () => true,
    ...overrides,
  };
  return client;
}
