import { strict as assert } from 'node:assert';
import { BadInputError } from '../errors.js';
import { parseScenario } from './load.js';
import { thrown } from '../../test/thrown.js';

const head = 'name: t\ndescription: d\n';

/** [what, document, expected "line:col", message pattern] */
const MALFORMED: [string, string, string, RegExp][] = [
  [
    'unknown step, near miss',
    `${head}steps:\n  - make-slaev: /a\nexpect: identical\n`,
    '4:5',
    /unknown step 'make-slaev', did you mean 'make-slave'\?/,
  ],
  ['unknown step, far', `${head}steps:\n  - frobnicate: /a\nexpect: identical\n`, '4:5', /unknown step 'frobnicate'/],
  [
    'unknown top-level field',
    `${head}steps: [{mkdir: /a}]\nexpect: identical\nexpcet: 1\n`,
    '5:1',
    /unknown field 'expcet'/,
  ],
  [
    'duplicate key',
    `name: a\nname: b\ndescription: d\nsteps: [{mkdir: /a}]\nexpect: identical\n`,
    '2:1',
    /duplicate key/,
  ],
  ['tab indentation', `${head}steps:\n\t- mkdir: /a\nexpect: identical\n`, '4:1', /tab/],
  ['relative path', `${head}steps:\n  - mkdir: a/b\nexpect: identical\n`, '4:12', /must be absolute/],
  [
    '.. escapes root',
    `${head}steps:\n  - bind: {source: /a/../../etc, target: /b}\nexpect: identical\n`,
    '4:20',
    /escapes the scenario root/,
  ],
  [
    'missing target',
    `${head}steps:\n  - bind: {source: /a}\nexpect: identical\n`,
    '4:11',
    /missing required field 'target'/,
  ],
  [
    'two keys in one step',
    `${head}steps:\n  - {mkdir: /a, bind: {source: /a, target: /b}}\nexpect: identical\n`,
    '4:5',
    /exactly one key/,
  ],
  ['empty step', `${head}steps:\n  - {}\nexpect: identical\n`, '4:5', /needs a name/],
  ['expect typo', `${head}steps: [{mkdir: /a}]\nexpect: identicl\n`, '4:9', /did you mean 'identical'/],
  [
    'bad regex in expectation',
    `${head}steps: [{mkdir: /a}]\nexpect: {dump-fails: "("}\n`,
    '4:22',
    /not a valid regular expression/,
  ],
  ['no steps', `${head}steps: []\nexpect: identical\n`, '3:8', /fewer than 1/],
  ['missing expect', `${head}steps: [{mkdir: /a}]\n`, '1:1', /missing required field 'expect'/],
  [
    'bad name',
    `name: "Hello World"\ndescription: d\nsteps: [{mkdir: /a}]\nexpect: identical\n`,
    '1:7',
    /name "Hello World" must be/,
  ],
  [
    'number where path',
    `${head}steps:\n  - make-shared: 42\nexpect: identical\n`,
    '4:18',
    /expected a string or a mapping, got number 42/,
  ],
  [
    'negative timeout',
    `${head}steps: [{mkdir: /a}]\ntimeouts: {dump: -5}\nexpect: identical\n`,
    '4:18',
    /must be >= 1/,
  ],
  ['huge timeout', `${head}steps: [{mkdir: /a}]\ntimeouts: {dump: 99999999}\nexpect: identical\n`, '4:18', /too large/],
  [
    'unknown option in step',
    `${head}steps:\n  - umount: {path: /a, lazzy: true}\nexpect: identical\n`,
    '4:24',
    /unknown field 'lazzy', did you mean 'lazy'\?/,
  ],
  [
    'mount option with shell metacharacters',
    `${head}steps:\n  - mount: {fstype: tmpfs, target: /a, options: "size=1m;reboot"}\nexpect: identical\n`,
    '4:49',
    /is not a mount option list: .*no spaces or shell characters/,
  ],
  [
    'fstype with space',
    `${head}steps:\n  - mount: {fstype: "tmp fs", target: /a}\nexpect: identical\n`,
    '4:21',
    /"tmp fs" must be lower-case letters, digits/,
  ],
  ['NUL byte', `${head}steps: [{mkdir: /a}]\u0000\nexpect: identical\n`, '3:21', /NUL byte/],
  ['not a mapping', `- a\n- b\n`, '1:1', /expected a mapping, got a list/],
  ['empty file', ``, '1:1', /empty document/],
  ['YAML syntax error', `${head}steps: [{mkdir: /a}\nexpect: identical\n`, '4:1', /YAML syntax/],
  [
    'a tree-only step outside the tree',
    `${head}outside:\n  - spawn: {name: c, steps: [{mkdir: /a}]}\nsteps: [{mkdir: /a}]\nexpect: identical\n`,
    '4:12',
    /'spawn' runs only inside the tree/,
  ],
  [
    'a wait nothing signals',
    `${head}steps:\n  - signal: ready-one\n  - wait: ready-on\nexpect: identical\n`,
    '5:11',
    /waits for 'ready-on', but no step signals it[\s\S]*did you mean 'ready-one'/,
  ],
  [
    'two tasks with one name',
    `${head}steps:\n  - spawn: {name: c, steps: [{mkdir: /a}]}\n` +
      '  - spawn: {name: c, steps: [{mkdir: /b}]}\nexpect: identical\n',
    '5:19',
    /task name 'c' is already used/,
  ],
  [
    'a child named init',
    `${head}steps:\n  - spawn: {name: init, steps: [{mkdir: /a}]}\nexpect: identical\n`,
    '4:19',
    /'init' is the root task's name/,
  ],
  ["the lab's own fd", `${head}steps:\n  - open: {path: /a, fd: 9}\nexpect: identical\n`, '4:26', /fd 9 is reserved/],
  [
    'a namespace that cannot leak',
    `${head}leak: [mnt, time]\nsteps: [{mkdir: /a}]\nexpect: identical\n`,
    '3:13',
    /expected "mnt" or .*got the string "time"/,
  ],
  [
    'a version range that is not one',
    `${head}requires: {kernel: "5.15+"}\nsteps: [{mkdir: /a}]\nexpect: identical\n`,
    '3:20',
    /is not a version range/,
  ],
  [
    'a known bug without its link',
    `${head}steps: [{mkdir: /a}]\nexpect: {known-bug: {reason: x}}\n`,
    '4:21',
    /missing required field 'url'/,
  ],
  [
    'shell characters in a criu option',
    `${head}steps: [{mkdir: /a}]\nengine: {dump-args: ["--foo;reboot"]}\nexpect: identical\n`,
    '4:22',
    /is not a criu option/,
  ],
  [
    'an external mount without a path',
    `${head}steps: [{mkdir: /a}]\nengine: {external: [{key: k}]}\nexpect: identical\n`,
    '4:21',
    /missing required field 'path'/,
  ],
  [
    'a namespace unshared twice',
    `${head}steps:\n  - unshare: [mnt, mnt]\nexpect: identical\n`,
    '4:14',
    /lists "mnt" twice/,
  ],
  [
    'an unknown open flag',
    `${head}steps:\n  - open: {path: /a, fd: 10, flags: [rdwr, sideways]}\nexpect: identical\n`,
    '4:44',
    /got the string "sideways"/,
  ],
  [
    'an upper-case tag',
    `${head}tags: [Upper]\nsteps: [{mkdir: /a}]\nexpect: identical\n`,
    '3:8',
    /"Upper" must be lower-case/,
  ],
  [
    'a zero time limit',
    `${head}steps: [{mkdir: /a}]\ntimeouts: {setup: 0}\nexpect: identical\n`,
    '4:19',
    /must be >= 1, got number 0/,
  ],
  [
    'a socket that listens unbound',
    `${head}steps:\n  - socket: {fd: 10, listen: true}\nexpect: identical\n`,
    '4:30',
    /a socket listens at the path it is bound to/,
  ],
  [
    'a unix socket path longer than sun_path',
    `${head}steps:\n  - socket: {fd: 10, bind: /${'s'.repeat(110)}}\nexpect: identical\n`,
    '4:28',
    /111 bytes; a unix socket path holds at most 107/,
  ],
  [
    'a char device without its minor',
    `${head}steps:\n  - mknod: {path: /d, type: char, major: 1}\nexpect: identical\n`,
    '4:12',
    /a char device needs its minor number/,
  ],
  [
    'a mapping of both a path and an fd',
    `${head}steps:\n  - mmap: {path: /a, fd: 10, length: 4096}\nexpect: identical\n`,
    '4:11',
    /give exactly one of `path` and `fd`: what to map/,
  ],
  [
    'a mapping at an offset that is not a page',
    `${head}steps:\n  - mmap: {path: /a, offset: 100, length: 4096}\nexpect: identical\n`,
    '4:30',
    /multiple of 4096/,
  ],
  [
    'a truncate with content but no offset',
    `${head}steps:\n  - truncate: {path: /a, size: 10, content: x}\nexpect: identical\n`,
    '4:45',
    /`offset` and `content` go together/,
  ],
  [
    'a loop image of a virtual filesystem',
    `${head}steps:\n  - mount: {fstype: tmpfs, image: {path: /i}, target: /a}\nexpect: identical\n`,
    '4:21',
    /an image can be made for ext2, ext3, ext4, not 'tmpfs'/,
  ],
  [
    'a loop image with its own source',
    `${head}steps:\n  - mount: {fstype: ext4, source: x, image: {path: /i}, target: /a}\nexpect: identical\n`,
    '4:35',
    /with `image` the source is the loop device/,
  ],
  [
    'an unknown mount engine',
    `${head}steps: [{mkdir: /a}]\nengine: {mount-engine: v3}\nexpect: identical\n`,
    '4:24',
    /expected "v2", "compat" or "both"|expected "v2" or .*got the string "v3"/,
  ],
  [
    'a bug of an engine that never runs',
    `${head}steps: [{mkdir: /a}]\n` +
      'expect: {known-bug: {url: https://example.org/bug/1, reason: r, mount-engine: compat}}\n',
    '4:79',
    /tied to the compat engine, but the scenario only runs under v2/,
  ],
  [
    "closing the lab's own fd",
    `${head}steps:\n  - close: 8\nexpect: identical\n`,
    '4:12',
    /fd 8 is reserved: fds 8 and 9 belong to the lab/,
  ],
  [
    'alias bomb',
    [
      'a: &a [x,x,x,x,x,x,x,x,x,x]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      `d: [${Array(52).fill('*c').join(',')}]`,
      '',
    ].join('\n'),
    '4:26',
    /alias bomb/,
  ],
];

describe('scenario loading', () => {
  for (const [what, doc, where, message] of MALFORMED) {
    it(`rejects ${what} at ${where}`, () => {
      try {
        parseScenario(doc, 'bad.yaml');
      } catch (e) {
        assert.ok(e instanceof BadInputError, `not a BadInputError: ${String(e)}`);
        assert.equal(e.exitCode, 2);
        const first = e.problems[0]!;
        assert.equal(`${first.line}:${first.col}`, where, e.message);
        assert.match(e.message, message);
        assert.match(e.message, new RegExp(`^bad\\.yaml:${where}: `));
        return;
      }
      assert.fail('accepted a malformed document');
    });
  }

  it('accepts a well-formed scenario and keeps its steps in order', () => {
    const s = parseScenario(
      `${head}steps:\n  - mkdir: [/w, /a]\n  - mount: {fstype: tmpfs, target: /w}\n` +
        '  - make-shared: {path: /w, recursive: true}\nexpect: identical\n',
      'ok.yaml',
    );
    assert.deepEqual(
      s.scenario.steps.map((st) => Object.keys(st)[0]),
      ['mkdir', 'mount', 'make-shared'],
    );
  });

  it('keeps shell metacharacters in names as data', () => {
    const s = parseScenario(`${head}steps:\n  - mkdir: "/w/$(reboot)/\`id\`/it's"\nexpect: identical\n`, 'ok.yaml');
    assert.equal(s.scenario.steps[0]!.mkdir, "/w/$(reboot)/`id`/it's");
  });

  it('keeps where each value is, for checks made after loading; an absent one is at its nearest ancestor', () => {
    const s = parseScenario(
      `${head}steps:\n  - mkdir: /a\n  - bind: {source: /a, target: /b}\nexpect: identical\n`,
      'ok.yaml',
    );
    assert.deepEqual(s.positionOf('/steps'), { line: 4, col: 3 });
    assert.deepEqual(s.positionOf('/steps/1/bind/target'), { line: 5, col: 32 });
    assert.deepEqual(s.positionOf('/outside'), { line: 1, col: 1 });
    assert.deepEqual(s.positionOf('/steps/7'), { line: 4, col: 3 });
  });
});

describe('scenario loading: class %YAML directive other than 1.2 (it changed what values meant)', () => {
  const body = `${head}steps:\n  - open: {path: /a, fd: 10, mode: "0644"}\nexpect: identical\n`;
  for (const [directive, where] of [
    ['%YAML 1.1', '1:7'],
    ['%YAML 1.0', '1:7'],
    ['%YAML   1.3 # later', '1:9'],
    ['%YAML', '1:1'],
  ] as const) {
    it(`refuses ${JSON.stringify(directive)} at ${where}, saying what it would change`, () => {
      try {
        parseScenario(`${directive}\n---\n${body}`, 'v.yaml');
      } catch (e) {
        assert.ok(e instanceof BadInputError, String(e));
        assert.match(
          e.message,
          new RegExp(
            `^v\\.yaml:${where}: .*a scenario is YAML 1\\.2 ` +
              '\\(under 1\\.1, 012 reads as 10, 1:30 as 90, yes as true, and << merges keys\\); ' +
              'remove the directive or write %YAML 1\\.2$',
          ),
        );
        return;
      }
      assert.fail('accepted');
    });
  }

  it('reads a scenario under %YAML 1.2 as without a directive: yes stays a string', () => {
    const doc = `%YAML 1.2\n---\n${head}tags: [yes, on]\nsteps: [{mkdir: /a}]\nexpect: identical\n`;
    assert.deepEqual(parseScenario(doc, 'ok.yaml').scenario.tags, ['yes', 'on']);
  });
});

describe('scenario loading: class, fail-expectations (one phase key, either phase, ranges)', () => {
  const doc = (expect: string) => `${head}steps: [{mkdir: /a}]\nexpect: ${expect}\n`;

  it('gives both dump-fails and restore-fails one located message naming `fails` (it was two "unknown field")', () => {
    const e = thrown(() => parseScenario(doc('{dump-fails: x, restore-fails: y}'), 'f.yaml'), BadInputError);
    assert.equal(e.problems.length, 1, e.message);
    assert.match(
      e.message,
      new RegExp(
        /^f\.yaml:4:40: 'dump-fails' and 'restore-fails' both given; /.source +
          /a fail-expectation names one phase \(at \/expect\/restore-fails\)\n {4}/.source +
          /to expect either dump or restore to fail, matching one pattern, write `fails: PATTERN`/.source,
      ),
    );
  });

  it("accepts fails (either phase) and kernel/criu ranges on every fail-expectation, in known-bug's syntax", () => {
    for (const e of [
      '{fails: "Can\'t mount"}',
      '{dump-fails: x, kernel: ">=6.1 <6.13"}',
      '{restore-fails: x, criu: ">=4.1"}',
      '{fails: x, kernel: ">=5.15", criu: "<4.2"}',
    ]) {
      assert.doesNotThrow(() => parseScenario(doc(e), 'ok.yaml'), e);
    }
  });

  it('refuses ranges without a phase, and a range that is not one, at their place', () => {
    assert.match(
      thrown(() => parseScenario(doc('{kernel: ">=6.1"}'), 'f.yaml'), BadInputError).message,
      /^f\.yaml:4:9: a fail-expectation names its phase: dump-fails, restore-fails or fails/,
    );
    assert.match(
      thrown(() => parseScenario(doc('{fails: x, criu: "4.1+"}'), 'f.yaml'), BadInputError).message,
      /^f\.yaml:4:26: "4\.1\+" is not a version range/,
    );
  });
});

describe('scenario loading: known-bug links a report, or says none was found', () => {
  const doc = (bug: string) => `${head}steps: [{mkdir: /a}]\nexpect:\n  known-bug:\n${bug}    reason: "x"\n`;
  const refused = (bug: string) => thrown(() => parseScenario(doc(bug), 'b.yaml'), BadInputError);

  for (const [what, url] of [
    ['a GitHub source file', 'https://github.com/checkpoint-restore/criu/blob/criu-dev/criu/mount.c'],
    ['a GitHub source tree', 'https://github.com/checkpoint-restore/criu/tree/criu-dev/criu'],
    ['a raw source file', 'https://raw.githubusercontent.com/checkpoint-restore/criu/criu-dev/criu/mount.c'],
  ] as const) {
    it(`refuses ${what} as the url, at the url, saying what to link instead`, () => {
      const e = refused(`    url: ${url}\n`);
      assert.equal(e.problems.length, 1, e.message);
      assert.match(
        e.message,
        new RegExp(
          /^b\.yaml:6:10: ".*" is a (raw )?source (file|tree)( page)?; /.source +
            /a link to code is not a bug report \(at \/expect\/known-bug\/url\)\n {4}/.source +
            /link the upstream issue, pull request, commit or list message about this failure /.source +
            /.*or write `upstream: none-found` with `searched`/.source,
        ),
      );
    });
  }

  it('refuses a seed file (a relative path) as the url, at the url', () => {
    const e = refused('    url: shared/seeds/001_10d37096674e6ed4.txt\n');
    assert.match(
      e.message,
      new RegExp(
        /^b\.yaml:6:10: "shared\/seeds\/001_10d37096674e6ed4\.txt" is not a link to an upstream report: /.source +
          /give the http\(s\) address of the issue, pull request, commit or list message /.source +
          /\(a seed file or a source path is not a bug report\), /.source +
          /or, when none was found, write `upstream: none-found` with `searched`/.source,
      ),
    );
  });

  it('accepts issues, pull requests, commits and list messages', () => {
    for (const url of [
      'https://github.com/checkpoint-restore/criu/issues/1511',
      'https://github.com/checkpoint-restore/criu/pull/2754',
      'https://github.com/checkpoint-restore/criu/commit/304deda565f0042865dc0eb9e17ae0af3e1b429a',
      'https://lore.kernel.org/all/96115c40-3fc7-e3d6-ecd8-1be2969e5ff4@virtuozzo.com/',
    ]) {
      assert.doesNotThrow(() => parseScenario(doc(`    url: ${url}\n`), 'ok.yaml'), url);
    }
  });

  it('accepts upstream: none-found with what was searched', () => {
    const s = parseScenario(
      doc('    upstream: none-found\n    searched: "criu issues and commits for \'ramfs\', 2026-12-03"\n'),
      'ok.yaml',
    ).scenario;
    assert.deepEqual(s.expect, {
      'known-bug': { upstream: 'none-found', searched: "criu issues and commits for 'ramfs', 2026-12-03", reason: 'x' },
    });
  });

  it('refuses none-found without searched, at upstream', () => {
    assert.match(
      refused('    upstream: none-found\n').message,
      /^b\.yaml:6:15: 'upstream: none-found' needs 'searched': what was searched, for what, and when/,
    );
  });

  it('refuses a known bug with neither url nor upstream, naming both ways', () => {
    const e = refused('');
    assert.match(
      e.message,
      new RegExp(
        /^b\.yaml:6:5: missing required field 'url': /.source +
          /the upstream report \(an issue, pull request, commit or list message\)[^\n]*\n {4}/.source +
          /if none was found, write `upstream: none-found`/.source,
      ),
    );
  });

  it('refuses url and none-found together, and searched beside a url', () => {
    assert.match(
      refused(
        [
          '    url: https://github.com/checkpoint-restore/criu/issues/1511',
          '    upstream: none-found',
          '    searched: "criu issues for x, 2026-12-03"',
          '',
        ].join('\n'),
      ).message,
      /both 'url' and 'upstream: none-found' given/,
    );
    assert.match(
      refused(
        '    url: https://github.com/checkpoint-restore/criu/issues/1511\n' +
          '    searched: "criu issues for x, 2026-12-03"\n',
      ).message,
      /^b\.yaml:7:15: 'searched' goes with 'upstream: none-found'[^\n]*\n {4}drop it: the url is the report/,
    );
  });

  it('refuses an upstream value other than none-found', () => {
    assert.match(
      refused('    upstream: unknown\n    searched: "criu issues for x, 2026-12-03"\n').message,
      /^b\.yaml:6:15: expected "none-found", got the string "unknown"/,
    );
  });
});

describe('expect: dropped', () => {
  const doc = (expect: string) => `name: t\ndescription: d\nsteps: [{mkdir: /a}]\nexpect: ${expect}\n`;
  const refused = (expect: string) => {
    try {
      parseScenario(doc(expect), 'b.yaml');
    } catch (e) {
      assert.ok(e instanceof BadInputError);
      return e.message.split('\n')[0]!;
    }
    return assert.fail('accepted');
  };

  it('accepts a list of mountpoints', () => {
    const s = parseScenario(doc('{dropped: [/proc/sys/fs/binfmt_misc, /auto]}'), 'ok.yaml');
    assert.deepEqual(s.scenario.expect, { dropped: ['/proc/sys/fs/binfmt_misc', '/auto'] });
  });

  it('refuses a relative path, an empty list and a list that names a mount twice, at their place', () => {
    assert.match(refused('{dropped: [auto]}'), /^b\.yaml:4:20: path "auto" must be absolute/);
    assert.match(refused('{dropped: []}'), /^b\.yaml:4:19: must NOT have fewer than 1 items/);
    assert.match(refused('{dropped: [/a, /a]}'), /^b\.yaml:4:19: lists "\/a" twice/);
  });

  it('refuses dropped beside a phase that fails, at the extra key', () => {
    assert.match(refused('{dropped: [/a], fails: x}'), /^b\.yaml:4:\d+: /);
  });
});

describe('unshare-user: maps a kernel accepts, refused at their place otherwise', () => {
  const doc = (step: string) => `name: t\ndescription: d\nsteps:\n  - ${step}\nexpect: identical\n`;
  const refused = (step: string) => {
    try {
      parseScenario(doc(step), 'u.yaml');
    } catch (e) {
      assert.ok(e instanceof BadInputError);
      return e.message.split('\n')[0]!;
    }
    return assert.fail('accepted');
  };

  it('accepts maps, setgroups and the namespaces made with the user namespace', () => {
    const map = '[{inside: 0, outside: 100000, count: 65536}]';
    const step = `unshare-user: {namespaces: [mnt, pid], uid-map: ${map}, setgroups: deny}`;
    const s = parseScenario(doc(step), 'ok.yaml');
    assert.deepEqual(s.scenario.steps[0], {
      'unshare-user': {
        namespaces: ['mnt', 'pid'],
        'uid-map': [{ inside: 0, outside: 100000, count: 65536 }],
        setgroups: 'deny',
      },
    });
  });

  it('refuses ranges that overlap inside or outside, and one past 2^32 - 1, at the range', () => {
    const two = '[{inside: 0, outside: 1000, count: 10}, {inside: 5, outside: 5000, count: 1}]';
    assert.match(refused(`unshare-user: {uid-map: ${two}}`), /^u\.yaml:4:\d+: its inside ids overlap range 0's/);
    const out = '[{inside: 0, outside: 1000, count: 10}, {inside: 50, outside: 1009, count: 1}]';
    assert.match(refused(`unshare-user: {gid-map: ${out}}`), /^u\.yaml:4:\d+: its outside ids overlap range 0's/);
    assert.match(
      refused('unshare-user: {uid-map: [{inside: 0, outside: 4294967290, count: 10}]}'),
      /^u\.yaml:4:\d+: outside 4294967290 \+ count 10 runs past 4294967295/,
    );
  });

  it('refuses user among the namespaces it makes (that is the step itself) and an unknown setgroups', () => {
    assert.match(refused('unshare-user: {namespaces: [user]}'), /^u\.yaml:4:\d+: /);
    assert.match(refused('unshare-user: {setgroups: maybe}'), /^u\.yaml:4:\d+: /);
  });

  it('is refused outside the tree', () => {
    const s = `name: t\ndescription: d\noutside:\n  - unshare-user: {}\nsteps: [{mkdir: /a}]\nexpect: identical\n`;
    assert.throws(() => parseScenario(s, 'o.yaml'), /o\.yaml:4:\d+: 'unshare-user' runs only inside the tree/);
  });
});
