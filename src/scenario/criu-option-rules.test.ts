import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { parseScenario } from './load.js';
import { refusedOption } from './criu-option-rules.js';

const head = 'name: t\ndescription: d\nsteps: [{mkdir: /a}]\nexpect: identical\n';

/** The first problem of a refused document, as `LINE:COL: message`. */
function refusal(doc: string): string {
  try {
    parseScenario(doc, 'bad.yaml');
  } catch (e) {
    assert.ok(e instanceof BadInputError, `not a BadInputError: ${String(e)}`);
    const first = e.problems[0]!;
    return `${first.line}:${first.col}: ${first.message}`;
  }
  return assert.fail('accepted');
}

describe('criu options in a scenario', () => {
  it('accepts bracketed and otherwise odd values, as --name=value and as --name then value', () => {
    const s = parseScenario(
      `${head}engine:\n` +
        '  dump-args: [--external, "mnt[]:s", "--external=dev[7/0]:loop", --tcp-established]\n' +
        '  restore-args: [--external, "mnt[k]:@ROOT@/a b*;$(x)", "--external=mnt[]"]\n',
      'ok.yaml',
    );
    assert.deepEqual(s.scenario.engine?.['dump-args'], [
      '--external',
      'mnt[]:s',
      '--external=dev[7/0]:loop',
      '--tcp-established',
    ]);
    assert.equal(s.scenario.engine?.['restore-args']?.[1], 'mnt[k]:@ROOT@/a b*;$(x)');
  });

  const refused: [string, string, RegExp][] = [
    ['--images-dir=/tmp', '6:24', /--images-dir is refused here: the lab keeps the images in its own directory/],
    ['--log-file', '6:24', /--log-file is refused here: the lab reads criu's log from its own file/],
    ['--log-f=/x', '6:24', /--log-f \(criu reads it as --log-file\) is refused here/],
    ['--root=/', '6:24', /--root is refused here: the lab restores into the scenario root/],
    ['--pidfile=/p', '6:24', /--pidfile is refused here/],
    ['--restore-detached', '6:24', /--restore-detached is refused here: the lab always restores detached/],
    ['--no-restore-detached', '6:24', /--restore-detached\) is refused here/],
    ['--tree=1', '6:24', /--tree is refused here: the lab names the tree's pid/],
    ['--mntns-compat-mode', '6:24', /--mntns-compat-mode is refused here: use engine.mount-engine: compat/],
    ['--work-dir=/w', '6:24', /--work-dir is refused here/],
    ['--exec-cmd', '6:24', /--exec-cmd is refused here: it would run a command in the guest/],
    ['--action-script=/bin/reboot', '6:24', /--action-script is refused here: it would run a command/],
    ['-D', '6:24', /"-D" is not a criu option: .*no short options such as -D/],
    ['-v4', '6:24', /"-v4" is not a criu option/],
    ['--foo;reboot', '6:24', /is not a criu option/],
    ['"--external=a\\nb"', '6:24', /is not a criu option: .*no control characters/],
  ];
  for (const [arg, where, message] of refused) {
    it(`refuses ${arg} in restore-args, at the item, saying why`, () => {
      const got = refusal(`${head}engine:\n  restore-args: [--ok, ${arg}]\n`);
      assert.match(got, new RegExp(`^${where}: `), got);
      assert.match(got, message, got);
    });
  }

  it('refuses a refused option given as two items, at the option', () => {
    assert.match(refusal(`${head}engine:\n  dump-args: [--tcp-established, -o, x]\n`), /^6:34: "-o" is not a criu/);
    assert.match(refusal(`${head}engine:\n  dump-args: [--images-dir, /tmp]\n`), /^6:15: --images-dir is refused/);
  });

  it('refuses a value with no bare --name just before it to take it', () => {
    assert.match(
      refusal(`${head}engine:\n  dump-args: ["mnt[]"]\n`),
      /^6:15: "mnt\[\]" does not start with "--" and no bare --name comes just before it/,
    );
    assert.match(refusal(`${head}engine:\n  dump-args: [--external=a, b]\n`), /^6:29: "b" does not start with "--"/);
  });

  it('reads abbreviations and --no- forms as getopt_long and criu do', () => {
    assert.equal(refusedOption('ima')?.option, 'images-dir');
    assert.equal(refusedOption('no-tree')?.option, 'tree');
    assert.equal(refusedOption('tcp-established'), undefined);
    assert.equal(refusedOption('external'), undefined);
    assert.equal(refusedOption('rootx'), undefined);
  });
});

describe('external mounts and devices in a scenario', () => {
  it('accepts a mount, auto-detection with flags, and a device with its key and node', () => {
    const s = parseScenario(
      `${head}engine:\n  external:\n    - {path: /x, source: /h}\n    - {auto: true, flags: s}\n` +
        '    - {device: "7/0", key: loop, source: /dev/loop0}\n',
      'ok.yaml',
    );
    assert.equal(s.scenario.engine?.external?.length, 3);
  });

  const refused: [string, string, string, RegExp][] = [
    ['an entry of no kind', '{key: k}', '6:14', /missing required field 'path' \(or 'auto' or 'device'\)/],
    ['two kinds in one entry', '{path: /x, device: "1/2", key: k}', '6:33', /'path' and 'device' both given/],
    ['a device without its key', '{device: "7/0", source: /dev/loop0}', '6:14', /a device entry needs 'key'/],
    ['a device without its node', '{device: "7/0", key: k}', '6:14', /a device entry needs 'source': the device node/],
    ['flags without auto', '{path: /x, flags: s}', '6:32', /'flags' does not go with 'path'/],
    ['a key for auto-detection', '{auto: true, key: k}', '6:32', /'key' does not go with 'auto'/],
    ['flags criu does not know', '{auto: true, flags: x}', '6:34', /"x" are not flags criu takes/],
    [
      'a device that is not MAJOR/MINOR',
      '{device: "7:0", key: k, source: /dev/loop0}',
      '6:23',
      /"7:0" is not a device as decimal MAJOR\/MINOR/,
    ],
  ];
  for (const [what, entry, where, message] of refused) {
    it(`refuses ${what}, at ${where}`, () => {
      const got = refusal(`${head}engine:\n  external: [${entry}]\n`);
      assert.match(got, new RegExp(`^${where}: `), got);
      assert.match(got, message, got);
    });
  }
});
