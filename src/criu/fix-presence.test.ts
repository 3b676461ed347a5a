import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { fixesIn } from './fix-presence.js';

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();

describe('fix presence in a git tree', () => {
  after(removeScratch);

  it('has a fix that is an ancestor of HEAD, not one that was reverted, again one whose revert was reverted', () => {
    const dir = scratchDir('fixes');
    git(dir, 'init', '-q');
    writeFileSync(join(dir, 'mount.c'), 'v1\n');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'base');
    writeFileSync(join(dir, 'mount.c'), 'v2 with the fix\n');
    git(dir, 'commit', '-qam', 'mount: restore root mount flags');
    const fix = git(dir, 'rev-parse', 'HEAD');
    const short = fix.slice(0, 9);
    assert.deepEqual(fixesIn(dir, [short]), { [short]: true });
    git(dir, 'revert', '--no-edit', 'HEAD');
    assert.deepEqual(fixesIn(dir, [short]), { [short]: false }, 'reverted');
    git(dir, 'revert', '--no-edit', 'HEAD');
    assert.deepEqual(fixesIn(dir, [short]), { [short]: true }, 'the revert reverted');
    // A branch from before the fix does not have it; a commit the tree never saw is no answer.
    git(dir, 'checkout', '-q', '-b', 'old', `${fix}~1`);
    assert.deepEqual(fixesIn(dir, [short, 'deadbeef1']), { [short]: false });
  });
});
