import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../../src/paths.js';
import { removeScratch, scratchDir } from '../scratch.js';

/**
 * The package as a user gets it: `npm pack` (which builds first), installed
 * into an empty directory, then run from there. A package that ships no
 * dist/, or ships the tests, or cannot find vm/ once installed, fails here.
 */
describe('@e2e npm package', function () {
  this.timeout(5 * 60_000);
  after(removeScratch);

  it('packs what a user runs and nothing else, installs, and validates a shipped scenario from the install', () => {
    const dest = scratchDir('pack');
    // `npm pack` builds first (prepack); the suite has just built dist/, and a
    // second tsc writing into it under the running tests is not worth the risk.
    const pkg = JSON.parse(readFileSync(assetPath('package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.prepack, 'npm run build');
    const packed = execFileSync(
      'npm',
      ['pack', '--ignore-scripts', '--pack-destination', dest, '--json', '--loglevel=error'],
      { cwd: assetPath(), encoding: 'utf8' },
    );
    const [info] = JSON.parse(packed.slice(packed.indexOf('['))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const files = info!.files.map((f) => f.path);
    const musts = [
      'bin/mountlab.js',
      'dist/src/cli/main.js',
      'vm/runtime/labctl',
      'vm/build-image.sh',
      'vm/helper/mountlab-helper.c',
    ];
    musts.push('Vagrantfile', 'src/scenario/scenario.schema.json', 'src/results/results.schema.json', 'README.md');
    for (const must of musts) {
      assert.ok(files.includes(must), `${must} is not in the package`);
    }
    const stray = files.filter((f) =>
      /\.test\.js$|\.testutil\.js$|^test\/|^src\/.*\.ts$|^bench\/|^dist\/(test|bench)\//.test(f),
    );
    assert.deepEqual(stray, [], 'tests, fixtures and sources stay out of the package');

    const home = scratchDir('pack-install');
    execFileSync('npm', ['init', '-y', '--loglevel=error'], { cwd: home, stdio: 'ignore' });
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(dest, info!.filename)],
      { cwd: home, stdio: 'inherit' },
    );
    const bin = join(home, 'node_modules', '.bin', 'mountlab');
    const help = spawnSync(bin, ['--help'], { cwd: home, encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Usage: mountlab/);
    assert.match(help.stdout, /run \[options\] \[paths...\]/);
    const shipped = join(home, 'node_modules', 'mountlab', 'scenarios');
    const v = spawnSync(bin, ['validate', join(shipped, 'propagation', 'slave-chain-3.yaml')], {
      cwd: home,
      encoding: 'utf8',
    });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout, '1 scenario(s) valid\n');
    // The whole shipped corpus, as `npx mountlab validate scenarios/` would from the install.
    const all = spawnSync(bin, ['validate', shipped], { cwd: home, encoding: 'utf8' });
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stdout, /^\d+ scenario\(s\) valid\n$/);
    assert.ok(
      readdirSync(join(home, 'node_modules', 'mountlab', 'vm')).includes('build-image.sh'),
      'the image can be built from the install',
    );
  });
});
