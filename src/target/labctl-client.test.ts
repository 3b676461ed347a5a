import { strict as assert } from 'node:assert';
import { compileScenario } from '../plan/compile.js';
import { parseScenario } from '../scenario/load.js';
import type { ExecOptions, ExecResult } from './exec.js';
import { labctlClient } from './labctl-client.js';
import type { FinishProbes } from './guest-client.js';
import { HELPER } from '../plan/steps.js';

const plan = compileScenario(
  parseScenario('name: t\ndescription: d\nsteps: [{mkdir: /w}, {mkdir: /x}]\nexpect: identical\n', 't.yaml').scenario,
  { id: 's1' },
);

/** A guest whose labctl answers each subcommand with the text given. */
function guest(answers: Record<string, Partial<ExecResult>>) {
  const asked: { argv: string[]; opts: ExecOptions }[] = [];
  const written: string[] = [];
  const client = labctlClient({
    async exec(argv, opts) {
      const a = typeof argv === 'string' ? ['sh', '-c', argv] : [...argv];
      asked.push({ argv: a, opts });
      if (opts.deferred) await opts.deferred;
      const key = a[0] === '/run/mountlab/labctl' || a[0] === '/usr/local/bin/mountlab-helper' ? a[1]! : a[0]!;
      return { code: 0, stdout: '', stderr: '', durationMs: 1, ...answers[key] };
    },
    async writeFile(path) {
      written.push(path);
    },
  });
  return { client, asked, written };
}

describe('labctl client: reads labctl text into typed answers', () => {
  it("setup: the pid of a ready tree, with the program's wire text on stdin, outside steps included", async () => {
    const yaml = 'name: t\ndescription: d\noutside: [{mkdir: /h}]\nsteps: [{mkdir: /w}]\nexpect: identical\n';
    const withOutside = compileScenario(parseScenario(yaml, 't.yaml').scenario, { id: 's2' });
    const { client, asked, written } = guest({ setup: { stdout: 'pid=123\n' } });
    assert.deepEqual(await client.setup(withOutside), { ok: true, pid: 123 });
    assert.deepEqual(asked[0]!.argv.slice(1), ['setup', 's2', '60']);
    assert.equal(asked[0]!.opts.stdin, withOutside.program.wire);
    assert.match(withOutside.program.wire, /^outside /m);
    assert.deepEqual(written, []);
  });

  it('setup: a failed step, a timeout, a failed outside step, anything else; with what the tree printed', async () => {
    const err = { stdout: 'mount: /x: nope.\n' };
    const cases: [Partial<ExecResult>, object][] = [
      [
        { code: 3, stdout: 'setup-failed failed 2 32\nlast step 2\n' },
        { kind: 'step-failed', step: 2, rc: 32 },
      ],
      [
        { code: 124, stdout: 'setup-timeout\nlast step 1\n' },
        { kind: 'timeout', lastStep: 1 },
      ],
      [
        { code: 124, stdout: 'setup-timeout\nlast exec\n' },
        { kind: 'timeout', lastStep: 0 },
      ],
      [
        { code: 3, stdout: 'outside-failed 1\n' },
        { kind: 'outside-failed', step: 1 },
      ],
      [
        { code: 2, stderr: "labctl: bad id 'X'\n" },
        { kind: 'other', message: "labctl: bad id 'X'" },
      ],
      [
        { code: 0, stdout: '' },
        { kind: 'other', message: 'exit 0' },
      ],
    ];
    for (const [setup, want] of cases) {
      const { client } = guest({ setup, err });
      assert.deepEqual(await client.setup(plan), { ok: false, stderr: err.stdout, ...want });
    }
  });

  it('restore: the pid before @@log, the log after it', async () => {
    const { client } = guest({ restore: { stdout: 'pid=200\n@@log\n(00.1) restore log\n' } });
    assert.deepEqual(await client.restore(plan), {
      code: 0,
      stderr: '',
      log: '(00.1) restore log\n',
      durationMs: 1,
      pid: 200,
    });
    const failed = guest({ restore: { code: 1, stdout: '@@log\n(00.1) Error\n', stderr: 'x' } });
    assert.deepEqual(await failed.client.restore(plan), { code: 1, stderr: 'x', log: '(00.1) Error\n', durationMs: 1 });
  });

  it('dump: the log is stdout; a signal is kept', async () => {
    const { client } = guest({ dump: { code: 137, signal: 'SIGKILL', stdout: '(00.1) dump log\n' } });
    assert.deepEqual(await client.dump(plan, 100), {
      code: 137,
      signal: 'SIGKILL',
      stderr: '',
      log: '(00.1) dump log\n',
      durationMs: 1,
    });
  });

  it('leaks, cleanup, capture, kill', async () => {
    const { client } = guest({
      leaks: { stdout: '@leak mnt pid=77 comm=sleep x\nnoise\n' },
      cleanup: { stdout: 'dirty mount:/run/mountlab/s1/root loop-device\n' },
      capture: { stdout: '@task init pid=1\n' },
      kill: { code: 2, stderr: 'labctl: no restored tree\n' },
    });
    assert.deepEqual(await client.leaks(plan, 100), {
      ok: true,
      leaks: [{ namespace: 'mnt', pid: 77, comm: 'sleep x' }],
    });
    assert.deepEqual(await client.cleanup(plan), {
      ok: true,
      code: 0,
      dirty: 'mount:/run/mountlab/s1/root loop-device',
    });
    assert.deepEqual(await client.capture(plan, 100), { ok: true, text: '@task init pid=1\n' });
    assert.deepEqual(await client.kill(plan), { ok: false, code: 2, stderr: 'labctl: no restored tree\n' });
  });

  it('missing paths and criu features', async () => {
    const { client } = guest({ sh: { stdout: '/proc/nope\n' }, criu: { code: 1 } });
    assert.deepEqual(await client.missingPaths(['/proc/sys', '/proc/nope']), ['/proc/nope']);
    assert.equal(await client.criuFeature('mnt_id'), false);
  });

  const frame = (call: string, code: number, ms: number, parts: [string, string][] = []) =>
    `{"call":"${call}","code":${code},"ms":${ms}}\n` +
    parts.map(([n, b]) => `{"attach":"${n}","bytes":${Buffer.byteLength(b, 'latin1')}}\n${b}\n`).join('');

  it('build: setup, leak scan and capture from one call, with the guest-measured times', async () => {
    const capture = '@task init pid=7 mntns=1 cwd=/ root=/\n1 0 0:21 / /caf\u00c3\u00a9 rw - tmpfs w rw\n';
    const stdout =
      'mountlab-frames 1\n' +
      frame('setup', 0, 80, [['stdout', 'pid=7\n']]) +
      frame('leaks', 0, 20, [
        ['stdout', '@leak mnt pid=9 comm=sl\u00c3\u00a9ep\n'],
        ['stderr', ''],
      ]) +
      frame('capture', 0, 30, [
        ['stdout', capture],
        ['stderr', ''],
      ]);
    const { client, asked } = guest({ build: { stdout } });
    assert.deepEqual(await client.build(plan), {
      setup: { ok: true, pid: 7 },
      setupMs: 80,
      captureMs: 50,
      leaks: { ok: true, leaks: [{ namespace: 'mnt', pid: 9, comm: 'sl\u00e9ep' }] },
      capture: { ok: true, text: capture },
    });
    assert.deepEqual(asked[0]!.argv.slice(1), ['build', 's1', '60', '-']);
    assert.equal(asked[0]!.opts.stdin, plan.program.wire);
    assert.equal(asked[0]!.opts.encoding, 'latin1');
  });

  it('build: a failed setup, with what the tree printed', async () => {
    const stdout =
      'mountlab-frames 1\n' +
      frame('setup', 3, 80, [
        ['stdout', 'setup-failed failed 2 32\nlast step 2\n'],
        ['err', 'mount: /x: nope.\n'],
      ]);
    const { client } = guest({ build: { stdout } });
    const b = await client.build(plan);
    assert.deepEqual(b.setup, { ok: false, stderr: 'mount: /x: nope.\n', kind: 'step-failed', step: 2, rc: 32 });
    assert.equal(b.capture, undefined);
  });

  it('engine: dump, restore and capture from one call; a failed dump ends it', async () => {
    const stdout =
      'mountlab-frames 1\n' +
      frame('dump', 0, 900, [
        ['log', '(00.1) dump log\n'],
        ['stderr', ''],
      ]) +
      frame('restore', 0, 700, [
        ['stdout', 'pid=200\n@@log\n(00.1) restore log\n'],
        ['stderr', ''],
      ]) +
      frame('capture', 0, 30, [
        ['stdout', '@task init pid=200\n'],
        ['stderr', ''],
      ]);
    const { client, asked } = guest({ engine: { stdout } });
    assert.deepEqual(await client.engine(plan, 100), {
      dump: { code: 0, stderr: '', log: '(00.1) dump log\n', durationMs: 900 },
      restore: { code: 0, stderr: '', log: '(00.1) restore log\n', durationMs: 700, pid: 200 },
      capture: { ok: true, text: '@task init pid=200\n' },
      captureMs: 30,
    });
    assert.deepEqual(asked[0]!.argv.slice(1, 7), ['engine', 's1', '100', '120', '120', '0']);
    const failed = guest({
      engine: {
        stdout:
          'mountlab-frames 1\n' +
          frame('dump', 137, 120_000, [
            ['log', '(00.1) pie: 1\n'],
            ['stderr', ''],
          ]),
      },
    });
    assert.deepEqual(await failed.client.engine(plan, 100), {
      dump: { code: 137, stderr: '', log: '(00.1) pie: 1\n', durationMs: 120_000 },
      captureMs: 0,
    });
  });

  it('engine: a capture that labctl ended before is a refused capture, with why', async () => {
    const stdout =
      'mountlab-frames 1\n' +
      frame('dump', 0, 900, [
        ['log', ''],
        ['stderr', ''],
      ]) +
      frame('restore', 0, 700, [
        ['stdout', 'pid=200\n@@log\n'],
        ['stderr', ''],
      ]);
    const { client } = guest({ engine: { code: 1, stdout } });
    assert.deepEqual((await client.engine(plan, 100)).capture, {
      ok: false,
      code: 1,
      stderr: 'labctl ended (exit 1) before it',
    });
  });

  it('build and engine: an answer that is not frames is a lab error', async () => {
    const { client } = guest({ build: { code: 2, stdout: '', stderr: "labctl: unknown command 'build'\n" } });
    await assert.rejects(client.build(plan), /unreadable .*unknown command 'build'/);
  });

  it('finish: the probes and the clean-up from one call, each probe read into data, the dirt named', async () => {
    const stdout =
      'mountlab-frames 1\n' +
      frame('probe', 0, 40, [
        ['stdout', '@probe 1 mounted\n@in 10 71 30 0:99 / /w/m rw - tmpfs m rw\n'],
        ['stderr', ''],
      ]) +
      frame('fd-probe', 0, 5, [
        ['stdout', 'probe 200 20 ok yes:/w/a\n'],
        ['stderr', ''],
      ]) +
      frame('cleanup', 0, 90, [
        ['stdout', 'dirty mount:/run/mountlab/s1/root\n'],
        ['stderr', ''],
      ]);
    const { client, asked } = guest({ finish: { stdout } });
    const f = await client.finish(plan, {
      propagation: { input: '@reps 10\n1 10 /w\n', count: 1 },
      fds: '200 20 m /w/a\n',
    });
    assert.deepEqual(asked[0]!.argv, [HELPER, 'finish', 's1']);
    assert.equal((await asked[0]!.opts.deferred)?.stdin, '@reps 10\n1 10 /w\n@fd-probes\n200 20 m /w/a\n');
    assert.deepEqual(f.propagation?.replies.get(1)?.copies, [{ pid: 10, id: 71, parent: 30 }]);
    assert.equal(f.fds?.replies.byFd.get('200 20')?.[0]?.verdicts.get('/w/a'), 'yes');
    assert.deepEqual(f.cleanup, { ok: true, code: 0, dirty: 'mount:/run/mountlab/s1/root' });
    assert.deepEqual([f.probeMs, f.cleanupMs], [45, 90]);
  });

  it('finish opened before its probes: the command starts at once, its input and limit follow', async () => {
    const { client, asked } = guest({ finish: { stdout: `mountlab-frames 1\n${frame('cleanup', 0, 9, [])}` } });
    let give: (p: FinishProbes) => void = () => {};
    const answer = client.finish(
      plan,
      new Promise<FinishProbes>((r) => {
        give = r;
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(asked[0]?.argv, [HELPER, 'finish', 's1'], 'opened before the probes are known');
    give({ propagation: { input: '1 10 /w\n', count: 3 } });
    assert.deepEqual(await asked[0]!.opts.deferred, { stdin: '1 10 /w\n', timeoutMs: 135_000 });
    assert.deepEqual((await answer).cleanup, { ok: true, code: 0 });
  });

  it('finish: a probe asked and not answered is a failed probe; no cleanup frame is a lab error', async () => {
    const cleanupOnly = `mountlab-frames 1\n${frame('cleanup', 0, 9, [
      ['stdout', ''],
      ['stderr', ''],
    ])}`;
    const { client } = guest({ finish: { stdout: cleanupOnly } });
    const f = await client.finish(plan, { propagation: { input: '1 10 /w\n', count: 1 } });
    assert.equal(f.propagation?.ok, false);
    assert.match(f.propagation?.stderr ?? '', /no answer to the propagation probes/);
    assert.deepEqual(f.cleanup, { ok: true, code: 0 });
    const none = guest({ finish: { code: 2, stdout: 'mountlab-frames 1\n', stderr: 'killed\n' } });
    await assert.rejects(none.client.finish(plan, {}), /said nothing of the cleanup: killed/);
  });
});
