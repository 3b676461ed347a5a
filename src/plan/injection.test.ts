import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../paths.js';
import { loadScenarioFile, type LoadedScenario } from '../scenario/load.js';
import { compileScenario } from './compile.js';
import { HELPER } from './steps.js';
import { renderTreeScript } from './tree-script.js';
import { removeScratch, scratchDir } from '../../test/scratch.js';

/**
 * Proof that names and paths reach the guest as data: the compiled tree
 * script (and the outside script) run for real, under bash as labctl runs
 * them, on this host, in a sandbox where every command that would touch
 * mounts, criu or the lab's helper is a stub that records its argv. The
 * sandbox is a private mount namespace (unshare -rm, its own pid namespace)
 * chrooted into a scratch directory that plays the scenario root: /usr is
 * the host's, read-only; /usr/local/bin is a directory holding the helper's
 * stub; PATH holds only stubs. File steps (mkdir, ln, mv, rm, the shell's
 * own redirections) really happen, inside the scratch directory, so what
 * they made can be read back.
 *
 * An injected command is caught three ways: an argv that differs from the
 * scenario's strings, a command that is not a stub (bash's
 * command_not_found_handle records it), and a marker file it would create
 * (/tmp/pwned inside the sandbox; the host's /tmp/pwned is checked too).
 */

interface Call {
  /** Which stub: mkdir, mount, mountlab-helper, ... or `not-found` for a command that does not exist. */
  name: string;
  argv: string[];
  cwd: string;
  task: string;
  /** $EPOCHREALTIME then the pid: orders one task's calls. */
  order: string;
}

interface SandboxRun {
  calls: Call[];
  root: string;
  progress: string;
  treeErr: string;
  outsideSteps: string;
}

/** Stubs that really act (inside the sandbox) after recording; all others only record. */
const REAL = ['mkdir', 'ln', 'mv', 'rm', 'rmdir', 'truncate'];
const RECORD_ONLY = ['mount', 'umount', 'mkfs.ext2', 'mkfs.ext3', 'mkfs.ext4', 'criu', 'nsenter', 'unshare'];

/**
 * Appends one record per call: stub name, cwd, task, order, argc, argv, NUL-separated, one file per call (tasks run
 * concurrently).
 */
const RECORDER = [
  'ml_record() {',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions, written for bash
  '  printf \'%s\\0\' "$1" "$PWD" "${MOUNTLAB_TASK-}" "$EPOCHREALTIME.$$" "$(( $# - 1 ))" "${@:2}" ' +
    '> "$REC/call.$EPOCHREALTIME.$$.$RANDOM"',
  '}',
].join('\n');

function stub(name: string, body: string): string {
  return `#!/bin/bash\n${RECORDER}\nml_record ${name} "$@"\n${body}\n`;
}

/**
 * Builds the sandbox in `root`, runs the plan's outside script then its tree
 * script as labctl does (`bash -c "$(cat tree.sh)" mountlab init 0`, status
 * on fd 9), waits for every task to reach its final hold, and reads back the
 * calls.
 */
/** The bash rendering of a scenario, with what the sandbox needs to know of its tasks. */
interface Scripts {
  treeScript: string;
  outsideScript: string;
  tasks: string[];
}

function runInSandbox(plan: Scripts, root: string): SandboxRun {
  // The helper stub is bound over /usr/local/bin: the script calls the helper by that absolute path.
  assert.equal(HELPER, '/usr/local/bin/mountlab-helper');
  const lab = join(root, '.sandbox-ml');
  for (const d of ['stubs', 'helper', 'rec']) mkdirSync(join(lab, d), { recursive: true });
  for (const d of ['usr', 'proc', 'tmp']) mkdirSync(join(root, d));
  const write = (path: string, text: string) => {
    writeFileSync(path, text);
    chmodSync(path, 0o755);
  };
  for (const n of REAL) write(join(lab, 'stubs', n), stub(n, `exec /usr/bin/${n} "$@"`));
  for (const n of RECORD_ONLY) write(join(lab, 'stubs', n), stub(n, 'exit 0'));
  write(join(lab, 'stubs', 'setsid'), stub('setsid', 'exec "$@"'));
  write(join(lab, 'stubs', 'chroot'), stub('chroot', '[ "$1" = -- ] && shift; shift; exec "$@"'));
  // The final hold (sleep 1000000) ends at once and says so; ml_wait's short sleeps are real.
  write(
    join(lab, 'stubs', 'sleep'),
    stub('sleep', `if [ "$1" = 1000000 ]; then : > "$REC/hold.$MOUNTLAB_TASK"; exit 0; fi\nexec /usr/bin/sleep "$@"`),
  );
  // The helper's exec-prefix forms (unshare, open) run what follows '--'; the others only record.
  write(
    join(lab, 'helper', 'mountlab-helper'),
    stub(
      'mountlab-helper',
      'case $1 in unshare|open) while [ "$1" != -- ]; do shift; done; shift; exec "$@" ;; esac\nexit 0',
    ),
  );
  writeFileSync(join(lab, 'tree.sh'), plan.treeScript);
  writeFileSync(join(lab, 'outside.sh'), plan.outsideScript);
  const notFound = `() {\n${RECORDER}\nml_record not-found "$@"; return 127; }`;
  const driver = String.raw`set -eu
S=$1 N=$2
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$S/$d"; fi
done
mount --rbind /usr "$S/usr"; mount -o remount,bind,ro "$S/usr"
mount --bind "$S/.sandbox-ml/helper" "$S/usr/local/bin"; mount -o remount,bind,ro "$S/usr/local/bin"
mount --rbind /proc "$S/proc"
in_root() {
  chroot "$S" /usr/bin/env -i PATH=/.sandbox-ml/stubs REC=/.sandbox-ml/rec HOME=/ \
    "BASH_FUNC_command_not_found_handle%%=$NOT_FOUND" "$@"
}
if [ -s "$S/.sandbox-ml/outside.sh" ]; then
  in_root /bin/bash -c "$(cat "$S/.sandbox-ml/outside.sh")" 7>"$S/.sandbox-ml/outside.step" </dev/null \
    >"$S/.sandbox-ml/outside.out" 2>"$S/.sandbox-ml/outside.err"
fi
in_root ML_ROOT=/ /bin/bash -c "$(cat "$S/.sandbox-ml/tree.sh")" mountlab init 0 \
  9>"$S/.sandbox-ml/progress" </dev/null >"$S/.sandbox-ml/tree.out" 2>"$S/.sandbox-ml/tree.err" || true
# Children hold right after they signal; give them a moment to get there.
for _ in $(seq 200); do
  [ "$(ls "$S/.sandbox-ml/rec" | grep -c '^hold\.')" -ge "$N" ] && break
  grep -q '^failed' "$S/.sandbox-ml/progress" && break
  sleep 0.05
done
`;
  writeFileSync(join(lab, 'driver.sh'), driver);
  const r = spawnSync(
    'unshare',
    ['-rm', '--fork', '--pid', '--mount-proc', 'bash', join(lab, 'driver.sh'), root, String(plan.tasks.length)],
    {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', NOT_FOUND: notFound },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(
    r.status,
    0,
    `the sandbox did not run (unshare -rm must work here): ${r.error?.message ?? ''}\n${r.stderr}`,
  );
  const calls: Call[] = [];
  for (const f of readdirSync(join(lab, 'rec'))) {
    if (!f.startsWith('call.') || f.endsWith('.tmp')) continue;
    const fields = readFileSync(join(lab, 'rec', f))
      .toString('utf8')
      .split('\0');
    const [name, cwd, task, order, count] = fields;
    const argv = fields.slice(5, 5 + Number(count));
    assert.equal(argv.length, Number(count), `record ${f} is cut short`);
    calls.push({ name: name!, cwd: cwd!, task: task!, order: order!, argv });
  }
  calls.sort((a, b) => a.order.localeCompare(b.order, 'en', { numeric: true }));
  const read = (f: string) => (existsSync(join(lab, f)) ? readFileSync(join(lab, f), 'utf8') : '');
  return { calls, root, progress: read('progress'), treeErr: read('tree.err'), outsideSteps: read('outside.step') };
}

/**
 * What a task ran for its steps, in order, as [command, ...argv]; exec prefixes cut at their `--` (the re-executed
 * script follows).
 */
function stepCalls(run: SandboxRun, task: string): string[][] {
  return run.calls
    .filter((c) => c.task === task)
    .map((c) => {
      const cut =
        c.name === 'mountlab-helper' && ['open', 'unshare'].includes(c.argv[0]!)
          ? c.argv.indexOf('--') + 1
          : c.argv.length;
      return [c.name, ...c.argv.slice(0, cut)];
    })
    .filter((argv) => !isLabOwn(argv));
}

/**
 * The lab's own commands around the user's steps: its sync directory, /proc, the re-exec behind setsid, the holds and
 * waits.
 */
function isLabOwn(argv: string[]): boolean {
  return (
    argv[0] === 'setsid' ||
    argv[0] === 'sleep' ||
    argv.some((a) => a.includes('.mountlab-sync-')) ||
    argv.join(' ') === 'mount -t proc proc /proc'
  );
}

/** What an injected `touch /tmp/pwned` would leave behind, here or in the sandbox. */
function assertNoInjection(run: SandboxRun, hostPwnedBefore: boolean): void {
  const strays = run.calls.filter((c) => c.name === 'not-found');
  assert.deepEqual(
    strays.map((c) => c.argv),
    [],
    'a command that is no step of the scenario ran',
  );
  assert.equal(existsSync(join(run.root, 'tmp', 'pwned')), false, 'an injected touch ran in the sandbox');
  assert.equal(existsSync('/tmp/pwned'), hostPwnedBefore, 'an injected touch ran on the host');
  const calls = JSON.stringify(run.calls.map((c) => [c.task, c.name, ...c.argv.map((a) => a.slice(0, 80))]));
  assert.doesNotMatch(run.progress, /^failed/m, `a task failed: ${run.progress}\n${run.treeErr}\n${calls}`);
}

function planOf(loaded: LoadedScenario): Scripts {
  const r = renderTreeScript(loaded.scenario, { id: 's1', file: loaded.file });
  return { treeScript: r.tree, outsideScript: r.outside, tasks: compileScenario(loaded.scenario, { id: 's1' }).tasks };
}

// The strings of test/fixtures/scenarios-hostile-valid/metachar-names.yaml, written out again here
// so that what YAML made of them is checked too (the single-quoted \040 stays four characters).
const P1 = '/w/$(touch /tmp/pwned)';
const P2 = '/w/`touch /tmp/pwned`';
const P3 = `/w/it's "quoted"`;
const P4 = '/w/a;b && c || d | e > f < g';
const P5 = '/w/literal\\040backslash';
const P6 = '/w/ünïcødé 日本語 😀';
const P7 = '/w/-rf';
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion the guest must not perform
const P8 = '/w/$HOME ${IFS} * ? [a] ~ ! # %';
const FILE = `${P3}/file \`id\` $(id)`;
const CONTENT = 'line 1 $(touch /tmp/pwned)\n`id` \'single\' "double" \\ %s %d\n\n';
const CHILD_DIR = `${P4}/child $(touch /tmp/pwned)`;

describe('names and paths reach the guest without shell injection', function () {
  this.timeout(120_000);
  after(removeScratch);
  const hostPwned = existsSync('/tmp/pwned');

  it("metachar-names.yaml: every argv and the file's content arrive byte for byte; nothing injected runs", async () => {
    const loaded = await loadScenarioFile(
      assetPath('test', 'fixtures', 'scenarios-hostile-valid', 'metachar-names.yaml'),
    );
    const plan = planOf(loaded);
    const run = runInSandbox(plan, scratchDir('inject'));
    assertNoInjection(run, hostPwned);
    assert.match(run.progress, /^ready$/m, `the tree never got ready: ${run.progress}\n${run.treeErr}`);
    assert.deepEqual(stepCalls(run, 'init'), [
      ['mkdir', '-p', '--', P1, P2, P3, P4, P5, P6, P7, P8],
      ['mount', '-t', 'tmpfs', '--', `src $(touch /tmp/pwned) \`id\` 'q' "dq"`, P1],
      ['mount', '--make-shared', '--', P1],
      ['mount', '--bind', '--', P1, P2],
      ['mount', '--make-slave', '--', P2],
      ['mount', '-t', 'tmpfs', '--', '-o', P3],
      ['mount', '-t', 'tmpfs', '--', 'a;b', P4],
      ['mount', '-t', 'tmpfs', '--', 'x\\040y', P5],
      ['mount', '-t', 'tmpfs', '--', 'ünï', P6],
      ['ln', '-s', '--', '../$(touch /tmp/pwned)', `${P7}/link \`id\``],
      ['mountlab-helper', 'open', '10', 'rdonly', '0644', '0', FILE, '--'],
    ]);
    assert.deepEqual(stepCalls(run, 'child-1'), [
      ['mkdir', '-p', '--', CHILD_DIR],
      ['mount', '--bind', '--', P6, CHILD_DIR],
    ]);
    // What the real commands and the shell's redirection made, read back through the file system.
    // A / inside $(touch /tmp/pwned) is a path separator like any other: mkdir -p made those directories nested.
    assert.deepEqual(
      readdirSync(join(run.root, 'w')).sort(),
      [P1, P2, P3, P4, P5, P6, P7, P8].map((p) => p.split('/')[2]).sort(),
    );
    assert.ok(existsSync(join(run.root, P1)) && existsSync(join(run.root, P2)));
    assert.equal(readFileSync(join(run.root, FILE), 'utf8'), CONTENT);
    assert.deepEqual(readdirSync(join(run.root, CHILD_DIR)), []);
  });

  // Scenarios the corpus keeps as valid (test/hostile/README.md): whatever their
  // steps, every string the scenario gives must arrive whole, as one argv word,
  // a directory the steps made, or the content of a file they wrote.
  const validDir = assetPath('test', 'hostile', 'valid');
  for (const f of readdirSync(validDir).filter((n) => n.endsWith('.yaml'))) {
    it(`${f}: every path and word of the scenario arrives whole, and no injected command runs`, async () => {
      const loaded = await loadScenarioFile(join(validDir, f));
      const run = runInSandbox(planOf(loaded), scratchDir('inject'));
      assertNoInjection(run, hostPwned);
      assert.match(run.progress, /^ready$/m, `the tree never got ready: ${run.progress}\n${run.treeErr}`);
      const words = new Set(run.calls.flatMap((c) => c.argv));
      const cwds = new Set(run.calls.map((c) => c.cwd));
      const missing = userStrings(loaded).filter((s) => {
        if (s.kind === 'word') return !words.has(s.value) && !cwds.has(s.value);
        const file = join(run.root, s.file!);
        return !existsSync(file) || (s.kind === 'content' && readFileSync(file, 'utf8') !== s.value);
      });
      assert.deepEqual(missing, [], 'these strings did not arrive as written');
    });
  }

  // The detectors themselves: the same script with the first path unquoted, as a careless compiler would write it.
  const unquoted = async (replacement: string): Promise<SandboxRun> => {
    const plan = planOf(
      await loadScenarioFile(assetPath('test', 'fixtures', 'scenarios-hostile-valid', 'metachar-names.yaml')),
    );
    const quoted = `'${P1}'`;
    assert.ok(plan.treeScript.includes(quoted), 'the script no longer quotes paths the way this test breaks them');
    return runInSandbox({ ...plan, treeScript: plan.treeScript.replace(quoted, replacement) }, scratchDir('inject'));
  };

  it('the sandbox catches injection via PATH: touch runs, recorded as no scenario step; the path is cut', async () => {
    const run = await unquoted(P1);
    assert.throws(() => assertNoInjection(run, hostPwned), /a command that is no step of the scenario ran/);
    assert.deepEqual(run.calls.find((c) => c.name === 'not-found')?.argv, ['touch', '/tmp/pwned']);
    assert.deepEqual(
      stepCalls(run, 'init')
        .find((argv) => argv[0] === 'mkdir')!
        .slice(0, 5),
      ['mkdir', '-p', '--', '/w/', P2],
    );
  });

  it('the sandbox catches injection by absolute path: the marker appears in the sandbox, not on the host', async () => {
    const run = await unquoted('/w/$(/usr/bin/touch /tmp/pwned)');
    assert.throws(() => assertNoInjection(run, hostPwned), /an injected touch ran in the sandbox/);
    assert.equal(existsSync('/tmp/pwned'), hostPwned);
  });

  it("a scenario file name with a newline is refused before it could reach the script's comment line", async () => {
    const dir = scratchDir('inject-name');
    const file = join(dir, 'ok\ntouch pwned\n.yaml');
    writeFileSync(file, 'name: n\ndescription: d\nsteps: [{mkdir: /a}]\nexpect: identical\n');
    await assert.rejects(loadScenarioFile(file), /file name has a control character \("\\n"\)/);
  });
});

/** Every string of a scenario that a step hands to the guest, with what it is. */
function userStrings(loaded: LoadedScenario): { value: string; kind: 'word' | 'content' | 'file'; file?: string }[] {
  const out: { value: string; kind: 'word' | 'content' | 'file'; file?: string }[] = [];
  const walk = (v: unknown, key: string, parent: Record<string, unknown> | undefined): void => {
    if (typeof v === 'string') {
      // A write is the shell's redirection, not a command: its path names the file, its content is the file's bytes.
      if (parent && 'content' in parent)
        out.push({ value: v, kind: key === 'content' ? 'content' : 'file', file: String(parent.path) });
      else out.push({ value: v, kind: 'word' });
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, key, parent);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, k, v as Record<string, unknown>);
    }
  };
  const s = loaded.scenario;
  walk(s.steps, 'steps', undefined);
  walk(s.outside ?? [], 'outside', undefined);
  // Names the lab uses for itself, not as argv: the task and sync names become shell words only inside the script.
  const internal = new Set<string>();
  const collect = (steps: unknown[]): void => {
    for (const st of steps as Record<string, unknown>[]) {
      const sp = st.spawn as { name: string; steps: unknown[] } | undefined;
      if (sp) {
        internal.add(sp.name);
        collect(sp.steps);
      }
      for (const k of ['signal', 'wait']) if (typeof st[k] === 'string') internal.add(st[k] as string);
      const o = st.open as { flags?: string[]; mode?: string } | undefined;
      if (o?.flags) for (const x of o.flags) internal.add(x);
    }
  };
  collect(s.steps);
  return out.filter((x) => !internal.has(x.value));
}
