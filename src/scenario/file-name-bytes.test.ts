import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { assetPath } from '../paths.js';
import { BadInputError } from '../errors.js';
import { argumentBytes, discoverScenarioFiles, loadScenarioFile, nameText } from './load.js';

const SCENARIO = 'name: latin\ndescription: d\nsteps: [{mkdir: /a}]\nexpect: identical\n';
const BAD = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x79, 0x61, 0x6d, 0x6c]); // "caf\xe9.yaml", latin1

describe('scenario files: class, a file name that is not UTF-8 (it was "no such file or directory")', () => {
  after(removeScratch);

  it('shows a name by its bytes: UTF-8 as text, every other byte as \\xHH', () => {
    assert.equal(nameText(BAD), 'caf\\xe9.yaml');
    assert.equal(nameText(Buffer.from([0x63, 0xc3, 0xa9, 0xff])), 'cé\\xff');
    assert.equal(nameText(Buffer.concat([Buffer.from('é/'), Buffer.from([0xf0, 0x9f])])), 'é/\\xf0\\x9f');
  });

  it('finds and reads such a file in a directory walk, named with \\xHH in messages', async () => {
    const dir = scratchDir('names');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), BAD]), SCENARIO.replace('[{mkdir: /a}]', '[{mkdir: a}]'));
    writeFileSync(join(dir, 'plain.yaml'), SCENARIO.replace('latin', 'plain'));
    const files = await discoverScenarioFiles([dir]);
    assert.equal(files.length, 2);
    const bytes = files.find((f) => typeof f !== 'string');
    assert.ok(Buffer.isBuffer(bytes), 'the non-UTF-8 name comes back as its bytes');
    await assert.rejects(loadScenarioFile(bytes), (e: unknown) => {
      assert.ok(e instanceof BadInputError);
      assert.match(e.message, /caf\\xe9\.yaml:3:17: path "a" must be absolute/);
      return true;
    });
  });

  it("recovers an argument's bytes from the kernel's copy of the command line", () => {
    const cmdline = Buffer.concat([Buffer.from('node\0mountlab\0validate\0'), BAD, Buffer.from('\0')]);
    assert.deepEqual(argumentBytes('caf\uFFFD.yaml', cmdline), BAD);
    assert.equal(argumentBytes('plain.yaml', cmdline), undefined);
    assert.equal(argumentBytes('other\uFFFD.yaml', cmdline), undefined);
  });

  it('validates such a file named on the command line (the real CLI), and says so when it is missing', () => {
    const dir = scratchDir('names');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), BAD]), SCENARIO);
    const cli = (name: string) =>
      spawnSync(
        'bash',
        [
          '-c',
          `"$0" "$1" validate "$(printf '%s/${name}' "$2")"`,
          process.execPath,
          assetPath('bin', 'mountlab.js'),
          dir,
        ],
        { encoding: 'utf8' },
      );
    const ok = cli('caf\\351.yaml');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /1 scenario\(s\) valid/);
    const missing = cli('gone\\351.yaml');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /gone\\xe9\.yaml:1:1: no such file or directory/);
  });
});
