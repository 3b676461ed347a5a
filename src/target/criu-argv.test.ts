import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../paths.js';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { execArgv } from './container/running-container.js';
import { criuArgs } from '../plan/compile.js';
import { shJoin } from '../plan/shell.js';

/**
 * Proof that an extra criu option reaches criu as exactly one argv element, whatever it holds:
 * criuArgs' output goes the way criuDump and criuRestore send it, to the real labctl, with a
 * `criu` stub first on PATH that records its argv. Two transports: the VM's (ssh hands the
 * remote shell one string, shJoin of the argv: run here under sh and bash) and the container's
 * (docker execs the fixed wrapper with the argv as separate words). The working directory holds
 * files that the bracketed words would match as globs, so a word that got globbed would change.
 */

const LABCTL = assetPath('vm', 'runtime', 'labctl');
/** A scenario id labctl accepts; no /run/mountlab/<id> exists, so labctl's own files are absent. */
const ID = `argv-${process.pid}`;

/** Bracketed, globbing and shell-looking words; none of them may be split, globbed or run. */
const ODD = [
  'mnt[]',
  'mnt[]:s',
  'mnt[/a]:k',
  'dev[7/0]:loop',
  '*',
  'mnt[k]:/a b',
  'two  spaces',
  '$(touch pwned)',
  '`touch pwned`',
  "it's",
  '"dq"',
  ';touch pwned',
  'a\\b',
  '~',
  '$HOME',
  '-v0',
];

interface Sandbox {
  cwd: string;
  env: NodeJS.ProcessEnv;
  record: string;
}

function sandbox(): Sandbox {
  const dir = scratchDir('criu-argv');
  const bin = join(dir, 'bin');
  const cwd = join(dir, 'cwd');
  mkdirSync(bin);
  mkdirSync(cwd);
  // What each word would match as a glob: `mnt[/a]:k` matches mnta:k, `dev[7/0]:loop` dev7:loop, `*` anything.
  for (const f of ['mnta:k', 'dev7:loop', 'dev0:loop', 'mnt]', 'mnt:s']) writeFileSync(join(cwd, f), '');
  const record = join(dir, 'criu.argv');
  writeFileSync(join(bin, 'criu'), `#!/bin/sh\nprintf '%s\\0' "$@" > ${shJoin([record])}\n`);
  chmodSync(join(bin, 'criu'), 0o755);
  return { cwd, record, env: { PATH: `${bin}:/usr/bin:/bin`, HOME: '/nonexistent', LC_ALL: 'C' } };
}

function recorded(sb: Sandbox): string[] {
  const words = readFileSync(sb.record, 'utf8').split('\0');
  assert.equal(words.pop(), '', 'the record ends with a NUL');
  return words;
}

/** How each transport runs an argv in the guest. */
const TRANSPORTS: [string, (argv: string[], sb: Sandbox) => void][] = [
  ['ssh, the remote shell being sh', (argv, sb) => execFileSync('sh', ['-c', shJoin(argv)], sb)],
  ['ssh, the remote shell being bash', (argv, sb) => execFileSync('bash', ['-c', shJoin(argv)], sb)],
  [
    'docker exec through the wrapper',
    (argv, sb) => {
      const [cmd, ...rest] = execArgv(argv, 30, undefined, sb.cwd);
      execFileSync(cmd!, rest, sb);
    },
  ],
];

describe('criu options on their way to criu', () => {
  after(removeScratch);

  for (const [how, run] of TRANSPORTS) {
    it(`dump: every word arrives as one argv element, unglobbed and unsplit (${how})`, () => {
      const sb = sandbox();
      const { dumpArgs } = criuArgs({
        external: [{ auto: true, flags: 's' }, { device: '7/0', key: 'loop', source: '/dev/loop0' }, { path: '/a' }],
        'dump-args': ODD.flatMap((w) => ['--external', w]),
      });
      run([LABCTL, 'dump', ID, '4242', '30', ...dumpArgs], sb);
      const argv = recorded(sb);
      assert.deepEqual(argv.slice(0, 8), [
        'dump',
        '-t',
        '4242',
        '-D',
        `/run/mountlab/${ID}/img`,
        '-o',
        'dump.log',
        '-v4',
      ]);
      assert.deepEqual(argv.slice(8), dumpArgs);
      assert.ok(dumpArgs.includes('mnt[]:s') && dumpArgs.includes('dev[7/0]:loop') && dumpArgs.includes('mnt[/a]:a'));
      assert.ok(!existsSync(join(sb.cwd, 'pwned')), 'a word ran as a command');
    });

    it(`restore: words arrive whole, @ROOT@ replaced by the scenario root (${how})`, () => {
      const sb = sandbox();
      const { restoreArgs } = criuArgs({
        external: [
          { device: '7/0', key: 'loop', source: '/dev/loop0' },
          { path: '/x y', key: 'k', source: '/h*' },
        ],
        'restore-args': ['--external', 'mnt[]:s', '--external=mnt[j]:@ROOT@/b [c]', ...ODD],
      });
      run([LABCTL, 'restore', ID, '30', ...restoreArgs], sb);
      const root = `/run/mountlab/${ID}/root`;
      const argv = recorded(sb);
      assert.deepEqual(argv.slice(0, 10), [
        'restore',
        '-D',
        `/run/mountlab/${ID}/img`,
        '-o',
        'restore.log',
        '-v4',
        '-d',
        '--root',
        root,
        '--pidfile',
      ]);
      assert.deepEqual(
        argv.slice(11),
        restoreArgs.map((w) => w.replace('@ROOT@', root)),
      );
      assert.deepEqual(argv.slice(11, 17), [
        '--external',
        'dev[loop]:/dev/loop0',
        '--external',
        `mnt[k]:${root}/h*`,
        '--external',
        'mnt[]:s',
      ]);
      assert.equal(argv[17], `--external=mnt[j]:${root}/b [c]`);
      assert.ok(!existsSync(join(sb.cwd, 'pwned')), 'a word ran as a command');
    });
  }
});
