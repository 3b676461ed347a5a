import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { assetPath } from '../src/paths.js';

// scripts/long-lines.mjs lists the lines over 120 characters outside data;
// it runs here over the repository, and over a made-up tree to show what it
// counts and what it leaves alone.

function longLines(root?: string) {
  const args = [assetPath('scripts', 'long-lines.mjs'), ...(root ? ['--root', root] : [])];
  const r = spawnSync(process.execPath, args, { cwd: assetPath(), encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

const SHOWN = 100;

describe('no line over 120 characters outside data (scripts/long-lines.mjs)', () => {
  it("holds for src/, test/, bench/, scripts/, bin/, vm/'s shell scripts, vm/helper/*.c and ./mountlab", () => {
    const r = longLines();
    if (r.status === 0) return;
    const found = r.stdout.trim().split('\n');
    const more = found.length > SHOWN ? `\n... and ${found.length - SHOWN} more: \`node scripts/long-lines.mjs\`` : '';
    assert.fail(
      `${r.stderr.trim()}\nThe data it leaves out is listed in scripts/long-lines.mjs.\n` +
        `${found.slice(0, SHOWN).join('\n')}${more}`,
    );
  });

  it('lists FILE:LINE for code over 120 characters, counting characters, and leaves data alone', () => {
    const root = mkdtempSync(join(tmpdir(), 'mountlab-long-lines-'));
    try {
      const put = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      const long = 'x'.repeat(121);
      put('src/a.ts', `ok\n${'y'.repeat(120)}\n${'é'.repeat(120)}\n${long}\n`);
      put('vm/build.sh', `${long}\n`);
      put('vm/guest/init', `#!/bin/sh\n${long}\n`);
      put('mountlab', `#!/usr/bin/env bash\n\n${long}\n`);
      put('vm/helper/h.c', `\n${long}\n`);
      put('bin/cli.js', `${long}\r\n`);
      // Left alone: data, generated files, vm/ files that are neither shell scripts nor the helper, and the
      // root's prose.
      put('src/scenario/scenario.generated.ts', `${long}\n`);
      put('src/import/fixtures/001.txt', `${long}\n`);
      put('src/run/results.schema.json', `${long}\n`);
      put('test/fixtures/x.capture', `${long}\n`);
      put('test/hostile/README.md', `${long}\n`);
      put('vm/kernel/mountlab.config', `${long}\n`);
      put('vm/guest/sshd_config', `${long}\n`);
      put('vm/README.md', `${long}\n`);
      put('README.md', `${long}\n`);
      // Counted: the root's Ruby (vagrant's configuration is code).
      put('Vagrantfile', `${long}\n`);
      const r = longLines(root);
      assert.equal(r.status, 1);
      assert.deepEqual(r.stdout.trim().split('\n'), [
        'src/a.ts:4: 121 characters',
        'bin/cli.js:1: 121 characters',
        'vm/build.sh:1: 121 characters',
        'vm/guest/init:2: 121 characters',
        'vm/helper/h.c:2: 121 characters',
        'mountlab:3: 121 characters',
        'Vagrantfile:1: 121 characters',
      ]);
      assert.match(r.stderr, /^7 line\(s\) over 120 characters outside data\. /);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
