import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { removeScratch, scratchDir } from '../scratch.js';
import { mountlabQemus, runCli } from './helpers.js';

/**
 * A stand-in CRIU tree as small as the build pipeline allows (Makefile.versions,
 * criu/, a `criu` make target that links criu/criu): the real pipeline (copy,
 * chroot into the cached build root, make, disk) runs in seconds, where a real
 * CRIU takes minutes. The build root itself is built once (minutes) and cached.
 */
function fakeTree(dir: string, body: string): string {
  mkdirSync(join(dir, 'criu'), { recursive: true });
  writeFileSync(join(dir, 'Makefile.versions'), 'CRIU_VERSION_MAJOR := 0\nCRIU_VERSION_MINOR := 1\n');
  writeFileSync(
    join(dir, 'Makefile'),
    '.PHONY: criu\ncriu:\n\t$(CC) -O1 -DGITID=\'"$(GITID)"\' -o criu/criu criu/main.c\n',
  );
  writeFileSync(join(dir, 'criu', 'main.c'), body);
  return dir;
}

const GOOD = '#include <stdio.h>\nint main(void) { printf("Version: 0.1\\nGitID: %s\\n", GITID); return 0; }\n';
const BROKEN = '#include <stdio.h>\nint main(void) { return undeclared_thing; }\n';

describe('@e2e a CRIU source tree', function () {
  this.timeout(20 * 60_000);
  // Builds of this test's trees are removed from the cache again.
  const built: string[] = [];
  after(() => {
    for (const d of built) rmSync(d, { recursive: true, force: true });
    for (const d of built) rmSync(`${d}.log`, { force: true });
    removeScratch();
  });

  it('is built once, then found in the cache; one that does not compile is refused before any boot', async () => {
    // Content unique to this test run: the first build is a real build.
    const tree = fakeTree(scratchDir('criu-tree'), `${GOOD}/* ${process.pid} ${Date.now()} */\n`);
    const first = await runCli(['image', 'build', '--criu', tree]);
    assert.equal(first.code, 0, first.stderr);
    const disk = first.stdout.split('\n').find((l) => l.endsWith('/criu.ext4'));
    assert.ok(disk && existsSync(disk), first.stdout);
    built.push(dirname(disk));
    assert.match(first.stderr, /criu 0\.1-[0-9a-f]{7} \(0\.1\) built in/);

    const again = await runCli(['image', 'build', '--criu', tree]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stdout.includes(disk), 'the same disk');
    assert.doesNotMatch(again.stderr, /building criu/, 'an unchanged tree builds nothing');

    writeFileSync(join(tree, 'criu', 'main.c'), BROKEN);
    const out = scratchDir('criu-refused');
    const refused = await runCli(['run', '--out', out, '--criu', `trixie,${tree}`, 'scenarios/flags/ro-root.yaml']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /does not compile:\n.*criu\/main\.c:2:\d+: error: [‘']undeclared_thing[’'] undeclared/,
    );
    const log = refused.stderr.match(/build log: (\/\S+)\.log/);
    assert.ok(log, refused.stderr);
    built.push(log[1]!);
    assert.deepEqual(mountlabQemus(refused.pid), []);
    // Refused before the run began: not even a run directory.
    assert.deepEqual(readdirSync(out), []);
  });
});
