import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { assetPath } from '../src/paths.js';
import { BIN } from './e2e/helpers.js';
import { removeScratch, scratchDir } from './scratch.js';

/**
 * The hostile corpus (test/hostile/README.md is its manifest: every file,
 * what it attacks, where the error points and what it says). Every entry
 * goes to the real CLI in a child process, as a user would run it:
 * scenarios to `mountlab validate FILE` and to `mountlab run FILE --out DIR
 * --target vm,container,vagrant`, captures to `mountlab compare REF FILE`.
 * Each must exit 2 with `FILE:LINE:COL: message` (or, for a capture too big
 * to read, `cannot read FILE:`), having booted nothing and written nothing.
 *
 * "Booted nothing": the child's PATH holds only stubs for everything the
 * targets start (qemu through setpriv, docker, vagrant, virsh, debootstrap,
 * ...), each of which records its call; DOCKER_HOST points at a socket that
 * records connections. "Wrote nothing": the child's HOME, XDG dirs,
 * MOUNTLAB_CACHE (image.ts reads it before XDG_CACHE_HOME), TMPDIR and cwd
 * are a fresh directory that must be the same afterwards, and the --out
 * directory must not even exist (bad input is refused before the run
 * directory is made). Valid entries must pass `mountlab validate`; what
 * happens to their strings in the guest is src/plan/injection.test.ts's.
 */

const CORPUS = assetPath('test', 'hostile');
/** The BEFORE side of every capture comparison: a real mountinfo that parses. */
const REFERENCE = assetPath('test', 'fixtures', 'mountinfo', 'seed-001-chain.mountinfo');
/** Everything a run could start for a target or an image build. */
const LAUNCHERS = [
  'qemu-system-x86_64',
  'qemu-img',
  'setpriv',
  'docker',
  'dockerd',
  'containerd',
  'vagrant',
  'virsh',
  'libvirtd',
  'virtlogd',
  'debootstrap',
  'debugfs',
  'mkfs.ext4',
  'mke2fs',
  'bash',
  'sh',
  'tar',
  'ssh',
  'ssh-keygen',
  'sudo',
  'apt-get',
  'unshare',
  'nsenter',
  'script',
  'criu',
  'chromium',
];

interface Entry {
  /** Path under test/hostile (or generated/ for files the test makes). */
  file: string;
  section: 'scenarios' | 'captures' | 'valid';
  attack: string;
  /** "L:C", or "-" where no position applies (a capture too big to read). */
  where: string;
  says: string;
}

/** The manifest's tables: rows of `| \`file\` | attack | \`where\` | says |`, a `\|` standing for a pipe. */
function manifest(): Entry[] {
  const out: Entry[] = [];
  let section: Entry['section'] | undefined;
  for (const line of readFileSync(join(CORPUS, 'README.md'), 'utf8').split('\n')) {
    const h = /^## (Scenarios|Captures|Valid)/.exec(line);
    if (h) section = h[1]!.toLowerCase() as Entry['section'];
    if (!section || !line.startsWith('| `')) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
    // `x`, or `` x `` when x holds a backtick.
    const code = (c: string | undefined) => /^(`+) ?(.*?) ?\1$/.exec(c ?? '')?.[2] ?? c ?? '';
    out.push({ file: code(cells[0]), section, attack: cells[1] ?? '', where: code(cells[2]), says: code(cells[3]) });
  }
  return out;
}

/** Files the test makes at run time: too big, binary, or with names git cannot hold well. */
function generate(dir: string): void {
  const put = (name: string, data: string | Buffer) => writeFileSync(join(dir, name), data);
  const head = 'name: generated\ndescription: d\nexpect: identical\n';
  // Scenarios
  put('too-large.yaml', `${head}steps: [{mkdir: /a}]\n# ${'x'.repeat(1 << 20)}\n`);
  // An ELF header (64-bit, little-endian, GNU/Linux), then 4 KiB of noise from a fixed seed: binary, the same
  // every time.
  let seed = 9;
  const noise = Buffer.from(
    Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 16) & 0xff),
  );
  const elf = Buffer.concat([
    Buffer.from([
      0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x3e,
      0x00,
    ]),
    noise,
  ]);
  put('elf-binary.yaml', elf);
  put(
    'utf16.yaml',
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${head}steps: [{mkdir: /a}]\n`, 'utf16le')]),
  );
  put(
    'invalid-utf8.yaml',
    Buffer.concat([
      Buffer.from('name: caf'),
      Buffer.from([0xe9]),
      Buffer.from('\ndescription: latin1, not UTF-8\nsteps: [{mkdir: /a}]\nexpect: identical\n'),
    ]),
  );
  const half = ((1 << 20) - 100) >> 1;
  put('deep-nesting-1mib.yaml', `${head}steps: ${'['.repeat(half)}${']'.repeat(half)}\n`);
  put('flat-list-1mib.yaml', `${head}steps: [${Array(half).fill('a').join(',')}]\n`);
  put('many-values.yaml', `${head}steps:\n${'- a\n'.repeat(60_000)}`);
  // One 60 KB string written 76 times through aliases: 4.5 MB of program from a 62 KB file.
  const big = (at: string) =>
    `${at}:\n  - write: {path: /f0, content: &big "${'a'.repeat(60_000)}"}\n` +
    Array.from({ length: 75 }, (_, i) => `  - write: {path: /f${i + 1}, content: *big}\n`).join('');
  put('script-too-long.yaml', head + big('steps'));
  put('outside-too-long.yaml', `${head + big('outside')}steps: [{mkdir: /a}]\n`);
  put('name\nwith newline.yaml', `${head}steps: [{mkdir: /a}]\n`);
  mkdirSync(join(dir, 'directory.yaml'));
  spawnSync('mkfifo', [join(dir, 'fifo.yaml')]);
  assert.ok(lstatSync(join(dir, 'fifo.yaml')).isFIFO(), 'mkfifo did not make the FIFO');
  symlinkSync('symlink-loop.yaml', join(dir, 'symlink-loop.yaml'));
  // Captures
  put('elf-binary.mountinfo', elf);
  put('nul-in-mountpoint.mountinfo', '1 0 0:5 / /a\0b rw - tmpfs t rw\n');
  put('crlf.mountinfo', '1 0 0:5 / / rw - tmpfs t rw\r\n');
  put('bom.mountinfo', '\ufeff1 0 0:5 / / rw - tmpfs t rw\n');
  const chain = Array.from({ length: 1001 }, (_, i) => `${i + 1} ${i} 0:5 / /m${i + 1} rw - tmpfs t rw\n`).join('');
  put('deep-chain.mountinfo', chain);
  put(
    'too-many-mounts.mountinfo',
    Array.from({ length: 100_001 }, (_, i) => `${i + 2} 1 0:5 / /m${i} rw - tmpfs t rw\n`).join(''),
  );
  put(
    'too-many-tasks.capture',
    Array.from({ length: 10_001 }, (_, i) => `@task t${i} pid=${i + 1} mntns=1\n1 0 0:5 / / rw - tmpfs t rw\n`).join(
      '',
    ),
  );
  put('too-large.mountinfo', '1 0 0:5 / / rw - tmpfs t rw\n'.repeat((16 << 20) / 28 + 2));
  put('huge-line.mountinfo', `1 0 0:5 / /${'a'.repeat(5_000_000)} rw - tmpfs t rw $(reboot)\n`);
}

interface Box {
  dir: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  out: string;
  launched: string;
}

/** A fresh home for one child: its own HOME, caches, TMPDIR and cwd, and a PATH of recording stubs. */
function makeBox(docker: string): Box {
  const dir = scratchDir('hostile-box');
  for (const d of ['home', 'cache', 'config', 'data', 'state', 'runtime', 'tmp', 'cwd', 'bin']) mkdirSync(join(dir, d));
  const launched = join(dir, 'launched');
  for (const n of LAUNCHERS) {
    writeFileSync(join(dir, 'bin', n), `#!/bin/sh\necho "$0 $*" >> '${launched}'\nexit 1\n`);
    chmodSync(join(dir, 'bin', n), 0o755);
  }
  const env = {
    PATH: join(dir, 'bin'),
    HOME: join(dir, 'home'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_RUNTIME_DIR: join(dir, 'runtime'),
    MOUNTLAB_CACHE: join(dir, 'cache', 'mountlab'),
    TMPDIR: join(dir, 'tmp'),
    DOCKER_HOST: `unix://${docker}`,
    LANG: 'C.UTF-8',
  };
  return { dir, env, cwd: join(dir, 'cwd'), out: join(dir, 'out'), launched };
}

/** Every path under a directory, with its size: what "nothing written" is checked against. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(`${p} ${e.isDirectory() ? 'dir' : lstatSync(p).size}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

interface Run {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** What changed in the box, what the stubs recorded, whether --out appeared. */
  wrote: string[];
  launched: string;
  outMade: boolean;
}

function cli(args: (box: Box) => string[], docker: string): Promise<Run> {
  const box = makeBox(docker);
  const argv = args(box);
  const before = snapshot(box.dir);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      cwd: box.cwd,
      env: box.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mountlab ${argv.join(' ')} did not finish in 60 s`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const after = snapshot(box.dir);
      const wrote = [
        ...after.filter((p) => !before.includes(p)),
        ...before.filter((p) => !after.includes(p)).map((p) => `removed ${p}`),
      ];
      resolve({
        args: argv,
        code,
        stdout,
        stderr,
        ms: Date.now() - started,
        wrote,
        launched: existsSync(box.launched) ? readFileSync(box.launched, 'utf8') : '',
        outMade: existsSync(box.out),
      });
    });
  });
}

/** Runs jobs a few at a time: each is a node process, and this machine may have two cores. */
async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

/**
 * How the CLI names a file: a relative path from its cwd, or absolute (as here, from a box); control characters
 * escaped as in JSON.
 */
function shown(path: string): string {
  return /[\x00-\x1f\x7f]/.test(path) ? JSON.stringify(path).slice(1, -1) : path;
}

describe('hostile and malformed input: a clear error, exit 2, nothing booted, nothing written', function () {
  this.timeout(900_000);
  const entries = manifest();
  // Made in before(): other files' after(removeScratch) hooks remove every scratch directory made so far.
  let generated = '';
  let socket = '';
  let docker: Server | undefined;
  let dockerCalls = 0;
  const results = new Map<string, Run[]>();

  // A generated name may hold a newline, written \n in the README.
  const pathOf = (e: Entry) =>
    e.file === '/dev/zero'
      ? e.file
      : e.file.startsWith('generated/')
        ? join(generated, e.file.slice('generated/'.length).replace(/\\n/g, '\n'))
        : join(CORPUS, e.file);

  before(async () => {
    generated = scratchDir('hostile-generated');
    socket = join(scratchDir('hostile-docker'), 'docker.sock');
    generate(generated);
    const server = createServer((c) => {
      dockerCalls++;
      c.destroy();
    });
    docker = server;
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    const jobs: (() => Promise<void>)[] = [];
    for (const e of entries) {
      const file = pathOf(e);
      const record = (r: Run): void => {
        results.set(e.file, [...(results.get(e.file) ?? []), r]);
      };
      if (e.section === 'captures')
        jobs.push(async () => record(await cli(() => ['compare', REFERENCE, file], socket)));
      else {
        jobs.push(async () => record(await cli(() => ['validate', file], socket)));
        if (e.section === 'scenarios')
          jobs.push(async () =>
            record(await cli((b) => ['run', file, '--out', b.out, '--target', 'vm,container,vagrant'], socket)),
          );
      }
    }
    await pool(jobs, 3);
  });

  after(async () => {
    await new Promise<void>((resolve) => (docker ? docker.close(() => resolve()) : resolve()));
    removeScratch();
  });

  it('the traps are armed: a stub on the child PATH records a launch, the docker socket a connection', async () => {
    const box = makeBox(socket);
    const r = spawnSync('qemu-system-x86_64', ['-version'], { env: box.env });
    assert.equal(r.status, 1);
    assert.match(readFileSync(box.launched, 'utf8'), /qemu-system-x86_64 -version/);
    const before = dockerCalls;
    await new Promise<void>((resolve, reject) =>
      connect(socket)
        .on('close', () => resolve())
        .on('error', reject),
    );
    assert.equal(dockerCalls, before + 1);
    dockerCalls = before;
  });

  it('control: a valid scenario reaches its run directory and the docker engine, and the checks see both', async () => {
    const before = dockerCalls;
    const r = await cli(
      (b) => ['run', join(CORPUS, 'valid', 'unicode-paths.yaml'), '--out', b.out, '--target', 'container'],
      socket,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no container engine is reachable/);
    assert.equal(r.outMade, true);
    assert.equal(dockerCalls, before + 1);
    dockerCalls = before;
  });

  it('the manifest lists every corpus file, once, and the corpus has 50 or more hostile entries', () => {
    const listed = entries.map((e) => e.file);
    assert.deepEqual(
      listed.filter((f, i) => listed.indexOf(f) !== i),
      [],
      'listed twice',
    );
    const onDisk = ['scenarios', 'captures', 'valid'].flatMap((d) =>
      readdirSync(join(CORPUS, d)).map((f) => `${d}/${f}`),
    );
    assert.deepEqual(
      onDisk.filter((f) => !listed.includes(f)),
      [],
      'files the README does not list',
    );
    assert.deepEqual(
      listed.filter(
        (f) => !f.startsWith('generated/') && f !== '/dev/zero' && !f.startsWith('../') && !onDisk.includes(f),
      ),
      [],
      'rows without a file',
    );
    assert.ok(entries.filter((e) => e.section !== 'valid').length >= 50);
  });

  for (const e of entries) {
    it(`${e.file}: ${e.attack}`, () => {
      const runs = results.get(e.file);
      assert.ok(runs?.length, 'not run');
      for (const r of runs!) {
        const what = `mountlab ${r.args.join(' ')}\n${r.stderr.slice(0, 2000)}`;
        assert.equal(r.launched, '', `something was launched: ${what}`);
        assert.deepEqual(r.wrote, [], `something was written: ${what}`);
        assert.equal(r.outMade, false, `the --out directory was made: ${what}`);
        assert.ok(r.ms < 20_000, `took ${r.ms} ms: ${what}`);
        if (e.section === 'valid') {
          assert.equal(r.code, 0, what);
          assert.equal(r.stdout, '1 scenario(s) valid\n', what);
          continue;
        }
        assert.equal(r.code, 2, what);
        assert.equal(r.stdout, '', `printed on stdout: ${what}`);
        const file = shown(pathOf(e));
        const head = e.where === '-' ? `mountlab compare: cannot read ${file}: ` : `${file}:${e.where}: `;
        const first = r.stderr.split('\n')[0]!.replace(/^mountlab( compare)?: /, (m) => (e.where === '-' ? m : ''));
        assert.ok(first.startsWith(head), `expected the first line to start with ${JSON.stringify(head)}: ${what}`);
        assert.ok(first.includes(e.says), `expected ${JSON.stringify(e.says)} in the first line: ${what}`);
        // However long the offending line, the error stays readable.
        assert.ok(r.stderr.length < 4000, `stderr is ${r.stderr.length} characters`);
      }
    });
  }

  it('no child connected to the docker socket', () => assert.equal(dockerCalls, 0));
});
