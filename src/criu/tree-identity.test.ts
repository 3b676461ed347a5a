import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { thrown } from '../../test/thrown.js';
import { BadInputError } from '../errors.js';
import { buildLabel, identifyTree, versionFromMakefile } from './tree-identity.js';

const MAKEFILE_VERSIONS =
  'CRIU_VERSION_MAJOR\t:= 4\nCRIU_VERSION_MINOR\t:= 2\nCRIU_VERSION_SUBLEVEL\t:= 1\nCRIU_VERSION_EXTRA\t:=\n';

/** A minimal stand-in for a CRIU tree: what identifyTree looks at. */
function fakeTree(dir: string): string {
  mkdirSync(join(dir, 'criu'), { recursive: true });
  writeFileSync(join(dir, 'Makefile.versions'), MAKEFILE_VERSIONS);
  writeFileSync(join(dir, 'criu', 'mount.c'), 'int x;\n');
  writeFileSync(join(dir, '.gitignore'), '*.o\n');
  return dir;
}

function git(dir: string, ...args: string[]): void {
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { stdio: 'ignore' });
}

describe('CRIU tree identity', () => {
  after(removeScratch);

  it("reads a tarball's version from Makefile.versions", () => {
    assert.equal(versionFromMakefile(MAKEFILE_VERSIONS), '4.2.1');
    assert.equal(versionFromMakefile('CRIU_VERSION_MAJOR := 4\nCRIU_VERSION_MINOR := 1\n'), '4.1');
    assert.equal(versionFromMakefile('nothing here'), undefined);
  });

  it('names a build by git describe, always with the short hash', () => {
    const commit = 'c88aa2a9e0123456789abcdef0123456789abcde';
    assert.equal(buildLabel({ kind: 'git', describe: 'v4.2-1-gc88aa2a9e', commit, key: 'k' }), 'v4.2-1-gc88aa2a9e');
    assert.equal(buildLabel({ kind: 'git', describe: 'v4.2', commit, key: 'k' }), 'v4.2-gc88aa2a9e');
    assert.equal(
      buildLabel({ kind: 'git', describe: 'v4.2-37-gabc1234-dirty', commit, key: 'k' }),
      'v4.2-37-gabc1234-dirty',
    );
    assert.equal(buildLabel({ kind: 'git', describe: 'v4.2-dirty', commit, key: 'k' }), 'v4.2-gc88aa2a9e-dirty');
    assert.equal(buildLabel({ kind: 'tarball', describe: '4.2.1', key: '29ec0ee09e29' }), '4.2.1-29ec0ee');
  });

  it('refuses a directory that is not a CRIU tree', () => {
    const e = thrown(() => identifyTree(scratchDir('notcriu')), BadInputError);
    assert.match(e.message, /is not a CRIU source tree/);
  });

  it('keys a git tree by HEAD, and by uncommitted and untracked changes, not by ignored files', () => {
    const dir = fakeTree(scratchDir('gittree'));
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'one');
    git(dir, 'tag', 'v4.2');
    const clean = identifyTree(dir);
    assert.equal(clean.kind, 'git');
    assert.equal(clean.dirty, false);
    assert.equal(clean.describe, 'v4.2');
    assert.match(clean.commit!, /^[0-9a-f]{40}$/);
    assert.deepEqual(clean.files, ['.gitignore', 'Makefile.versions', 'criu/mount.c']);

    writeFileSync(join(dir, 'criu', 'mount.o'), 'object');
    assert.equal(identifyTree(dir).key, clean.key, 'an ignored build output changes nothing');

    writeFileSync(join(dir, 'criu', 'mount.c'), 'int y;\n');
    const edited = identifyTree(dir);
    assert.equal(edited.dirty, true);
    assert.equal(edited.describe, 'v4.2-dirty');
    assert.notEqual(edited.key, clean.key);
    writeFileSync(join(dir, 'criu', 'mount.c'), 'int z;\n');
    assert.notEqual(identifyTree(dir).key, edited.key, 'another edit is another build');

    writeFileSync(join(dir, 'criu', 'mount.c'), 'int x;\n');
    assert.equal(identifyTree(dir).key, clean.key, 'back to HEAD is the clean build again');
    writeFileSync(join(dir, 'criu', 'new.c'), 'int n;\n');
    const untracked = identifyTree(dir);
    assert.equal(untracked.dirty, true);
    assert.notEqual(untracked.key, clean.key);
    assert.ok(untracked.files.includes('criu/new.c'));

    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'two');
    const next = identifyTree(dir);
    assert.equal(next.dirty, false);
    assert.match(next.describe, /^v4\.2-1-g[0-9a-f]{9}$/);
    assert.notEqual(next.key, untracked.key, 'the same content at another commit is keyed by the commit');
  });

  it('keys a tarball by its files, leaving out what its .gitignore names', () => {
    const dir = fakeTree(scratchDir('tarball'));
    const t = identifyTree(dir);
    assert.equal(t.kind, 'tarball');
    assert.equal(t.describe, '4.2.1');
    assert.equal(t.dirty, false);
    assert.equal(t.commit, undefined);
    writeFileSync(join(dir, 'criu', 'mount.o'), 'object');
    assert.equal(identifyTree(dir).key, t.key);
    assert.ok(!identifyTree(dir).files.includes('criu/mount.o'));
    writeFileSync(join(dir, 'criu', 'mount.c'), 'int patched;\n');
    assert.notEqual(identifyTree(dir).key, t.key);
  });
});
