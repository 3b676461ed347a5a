import { strict as assert } from 'node:assert';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { buildHelper } from '../../test/helper-build.js';
import { TimeoutError } from '../errors.js';
import { HelperServer, type ServerStream, servedHelper } from './helper-server.js';
import type { ExecOptions } from './exec.js';
import { serialiseProgram } from '../plan/wire.js';
import { hostileProgram } from '../plan/wire.testutil.js';

/** The real vm/helper's serve, built with the host's gcc, on a pipe instead of an ssh channel. */
function served(helper: string): { stream: ServerStream; child: ChildProcessWithoutNullStreams } {
  const child = spawn(helper, ['serve']);
  return {
    child,
    stream: {
      write: (d) => child.stdin.write(d),
      end: () => child.stdin.end(),
      on: (event: 'data' | 'close', f: (d: Buffer) => void) =>
        event === 'data' ? child.stdout.on('data', f) : child.on('close', f),
    },
  };
}

const opts = (extra: Partial<ExecOptions> = {}): ExecOptions => ({ timeoutMs: 20_000, label: 'test', ...extra });

describe('the helper server (vm/helper/serve.c and its host side)', function () {
  this.timeout(120_000);
  let helper = '';
  before(() => {
    helper = buildHelper(scratchDir('helper-serve'));
  });
  after(removeScratch);

  it('answers each call as an exec would: exit status, stdout and stderr apart, stdin given', async () => {
    const { stream, child } = served(helper);
    const s = await HelperServer.open(stream, 20_000);
    const a = await s.call(['classify-options', 'ro', 'nosuid'], opts());
    assert.deepEqual([a.code, a.stdout, a.stderr], [0, 'ro vfs\nnosuid vfs\n', '']);
    // Input of every byte value, and bigger than a pipe's buffer, comes back as it went.
    const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 256));
    const b = await s.call(['plan-echo', '-'], opts({ stdin: big, encoding: 'latin1' }));
    assert.equal(b.code, 1);
    assert.match(b.stderr, /bad plan: line 1/);
    const wire = serialiseProgram(hostileProgram());
    const echoed = await s.call(['plan-echo', '-'], opts({ stdin: Buffer.from(wire, 'latin1'), encoding: 'latin1' }));
    assert.equal(echoed.stdout, wire, 'a program of hostile bytes comes back byte for byte');
    const c = await s.call(['no-such-subcommand'], opts());
    assert.equal(c.code, 2);
    assert.match(c.stderr, /^usage: mountlab-helper/);
    s.close();
    await new Promise((r) => child.once('close', r));
    assert.equal(child.exitCode, 0, 'EOF on its stdin ends the server');
  });

  it('a call whose input comes later does not hold up the calls after it', async () => {
    const { stream } = served(helper);
    const s = await HelperServer.open(stream, 20_000);
    let give: (v: { stdin: string; timeoutMs: number }) => void = () => {};
    const later = s.call(
      ['classify-options', 'rw'],
      opts({
        deferred: new Promise((r) => {
          give = r;
        }),
      }),
    );
    const now = await s.call(['classify-options', 'noexec'], opts());
    assert.equal(now.stdout, 'noexec vfs\n');
    give({ stdin: '', timeoutMs: 20_000 });
    assert.equal((await later).stdout, 'rw vfs\n');
    s.close();
  });

  it('refuses a channel that does not greet as the server, and one that stops answering', async () => {
    const quiet = new PassThrough();
    const talk = new PassThrough();
    const stream: ServerStream = {
      write: () => true,
      end: () => quiet.end(),
      on: (event: 'data' | 'close', f: (d: Buffer) => void) =>
        event === 'data' ? talk.on('data', f) : quiet.on('close', f),
    };
    talk.write('hello\n');
    await assert.rejects(HelperServer.open(stream, 5_000), /said "hello", not "mountlab-serve 1"/);

    const talk2 = new PassThrough();
    const silent: ServerStream = {
      ...stream,
      on: (e, f: (d: Buffer) => void) => (e === 'data' ? talk2.on('data', f) : 0),
    };
    talk2.write('mountlab-serve 1\n');
    const s = await HelperServer.open(silent, 5_000);
    await assert.rejects(s.call(['cleanup', 'x'], opts({ timeoutMs: 200 })), TimeoutError);
    assert.ok(s.isBroken);
    await assert.rejects(s.call(['cleanup', 'x'], opts()), /test: /, 'nothing more goes on a broken server');
  });

  it('goes by ssh exec when the server cannot start, and gives the connection up when it hangs', async () => {
    const execs: string[][] = [];
    let abandoned: Error | undefined;
    const host = {
      channel: async () => {
        throw new Error('no channel');
      },
      exec: async (command: readonly string[]) => {
        execs.push([...command]);
        return { code: 0, stdout: 'ok', stderr: '', durationMs: 1 };
      },
      abandon: (e: Error) => {
        abandoned = e;
      },
    };
    const h = servedHelper(host, '/h');
    assert.equal((await h.exec(['cleanup', 'x'], opts())).stdout, 'ok');
    assert.deepEqual(execs, [['/h', 'cleanup', 'x']]);
    assert.equal(h.fallback, 'no channel');

    const talk = new PassThrough();
    const hanging = servedHelper(
      {
        ...host,
        channel: async () => {
          talk.write('mountlab-serve 1\n');
          return {
            write: () => true,
            end: () => {},
            on: (e, f: (d: Buffer) => void) => (e === 'data' ? talk.on('data', f) : 0),
          };
        },
      },
      '/h',
    );
    await assert.rejects(hanging.exec(['engine'], opts({ timeoutMs: 100 })), TimeoutError);
    assert.ok(abandoned instanceof TimeoutError);
  });
});
