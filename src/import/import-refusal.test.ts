import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { prng, type Rand } from '../compare/gen.testutil.js';
import { BadInputError } from '../errors.js';
import { thrown } from '../../test/thrown.js';
import { genTable, randomStyle, renderPaste } from './gen-paste.testutil.js';
import { importText } from './import-command.js';

const fromGen = (g: fc.GeneratorValue): Rand => ({ int: (lo, hi) => g(fc.integer, { min: lo, max: hi }) });
const RUNS = Math.max(300, Number(process.env.MOUNTLAB_PROPERTY_RUNS) || 0);

/** importText's answer reduced to what the contract allows: a scenario, or a located refusal. */
function outcome(text: string, flags: Parameters<typeof importText>[2] = {}): 'scenario' | 'refused' {
  try {
    importText(text, 'p.txt', flags);
    return 'scenario';
  } catch (e) {
    if (e instanceof BadInputError) {
      for (const p of e.problems) assert.ok(p.line >= 1 && p.col >= 1, `unlocated: ${e.message}`);
      return 'refused';
    }
    assert.fail(`not a scenario nor a BadInputError: ${e instanceof Error ? e.stack : String(e)}\n--- paste:\n${text}`);
  }
}

const WORDS = [
  '/',
  '0',
  '1',
  '2',
  '-',
  '(',
  ')',
  '==',
  'shared:1',
  'master:1',
  'propagate_from:1',
  'unbindable',
  '0:0',
  '/a',
  '',
  '\\000',
  '\\012',
  '/..',
  '..',
  '.',
  '//',
  '99999999999999999999',
];

/** A few edits that keep most of a real paste: fields replaced or dropped, lines repeated, moved, cut. */
function mutate(text: string, r: Rand): string {
  const lines = text.split('\n');
  for (let k = r.int(1, 4); k > 0; k--) {
    const i = r.int(0, Math.max(0, lines.length - 1));
    const words = (lines[i] ?? '').split(' ');
    const w = r.int(0, Math.max(0, words.length - 1));
    const word = WORDS[r.int(0, WORDS.length - 1)]!;
    switch (r.int(0, 8)) {
      case 0:
        words[w] = word;
        break;
      case 1:
        lines.splice(i, 0, lines[r.int(0, Math.max(0, lines.length - 1))] ?? '');
        continue;
      case 2:
        lines.splice(i, 1);
        continue;
      case 3:
        words.splice(w, 1);
        break;
      case 4:
        words.splice(w, 0, word);
        break;
      case 5:
        words[1] = words[0] ?? '1';
        break; // its own parent
      case 6:
        words[4] = '/';
        break; // another mount on the root's mountpoint
      case 7:
        words[1] = String(r.int(0, 300));
        break;
      default: {
        const s = lines[i] ?? '';
        const at = r.int(0, s.length);
        lines[i] = s.slice(0, at) + String.fromCharCode(r.int(1, 255)) + s.slice(at);
        continue;
      }
    }
    lines[i] = words.join(' ');
  }
  return lines.join('\n');
}

describe('import: every paste is a scenario or a located refusal', function () {
  this.timeout(120_000);

  it(`mutated real pastes never raise anything but BadInputError (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.gen(), fc.integer(), (g, seed) => {
        const r = fromGen(g);
        const table = genTable(r);
        outcome(mutate(renderPaste(table, randomStyle(r, table.tasks.length), prng(seed)), r));
      }),
      { numRuns: RUNS },
    );
  });

  it(`line soup (mountinfo, table rows, headers, prose, odd paths) never raises anything else (${RUNS} runs)`, () => {
    const path = fc.constantFrom(
      '/',
      '/a',
      '/a/b',
      '/a/../x',
      '/./a',
      '//',
      '/a/',
      'a',
      '/proc',
      '/a\\012b',
      '/a\\000b',
    );
    const info = fc
      .tuple(
        fc.nat(6),
        fc.nat(6),
        fc.nat(3),
        fc.constantFrom('/', '/a', 'net:[1]', '../x', ''),
        path,
        fc.subarray(['shared:1', 'shared:2', 'master:1', 'master:3', 'unbindable']),
        fc.constantFrom('tmpfs', 'ext4', 'proc', 'nsfs', 'overlay'),
      )
      .map(([id, parent, minor, root, mp, opt, fs]) => {
        const optional = opt.map((o) => ` ${o}`).join('');
        return `${id} ${parent} ${minor > 1 ? 8 : 0}:${minor} ${root} ${mp} rw${optional} - ${fs} src rw`;
      });
    const row = fc
      .tuple(fc.nat(6), fc.nat(6), path, fc.nat(3), fc.nat(3))
      .map(([id, parent, mp, s, m]) => `${id} ${parent} ${mp} (${s},${m})`);
    const other = fc.constantFrom(
      '== pid 1 (a) ==',
      '== pid 2 (b(c)) ==',
      '== x ==',
      '== pid 3 (d ==',
      '@task a pid=1 mntns=1',
      '@task',
      'prose',
      '',
      '> ',
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(info, row, other), { maxLength: 10 }),
        fc.option(fc.nat(3), { nil: undefined }),
        (lines, pick) => {
          outcome(lines.join('\n'), pick !== undefined ? { pick } : {});
        },
      ),
      { numRuns: RUNS },
    );
  });

  const refusal = (text: string) => thrown(() => importText(text, 'p.txt', {}), BadInputError).message;

  it('class: two roots on one mountpoint (no parent in the paste) is refused at the second, naming the first', () => {
    assert.match(
      refusal('1 0 0:1 / / rw - tmpfs a rw\n2 0 0:2 / / rw - tmpfs b rw\n'),
      /^p\.txt:2:1: mount 2 and mount 1 \(line 1\) are both on "\/" and neither's parent is in the paste/,
    );
    assert.match(
      refusal('1 0 0:1 / /a rw - tmpfs a rw\n2 7 0:2 / /a rw - tmpfs b rw\n'),
      /^p\.txt:2:1: mount 2 and mount 1 \(line 1\) are both on "\/a"/,
    );
  });

  it("class: a '.' or '..' component in a mountpoint or root, which the kernel never prints", () => {
    assert.match(
      refusal('1 0 0:1 / / rw - tmpfs a rw\n2 1 0:1 / /a/../x rw - tmpfs a rw\n'),
      /^p\.txt:2:1: the mountpoint "\/pasted\/a\/\.\.\/x" has a '\.\.' component/,
    );
    assert.match(
      refusal('1 0 0:1 / / rw - tmpfs a rw\n2 1 0:1 /./r /x rw - tmpfs a rw\n'),
      /^p\.txt:2:1: the mount root "\/\.\/r" has a '\.' component/,
    );
    assert.match(
      refusal('1 0 /a/../x (0,0)\n'),
      /^p\.txt:1:1: the mountpoint "\/pasted\/a\/\.\.\/x" has a '\.\.' component/,
    );
  });

  it('class: a paste too big for the language is refused with the limit, not reported as a bug', () => {
    // 700 mounts: more steps than a scenario may have (a program's bytes, 4 MiB, are out of a paste's reach).
    const many = Array.from({ length: 700 }, (_, i) => `${i + 2} 1 0:1 / /m${i} rw,relatime - tmpfs a rw`);
    assert.match(
      refusal(['1 0 0:1 / / rw - tmpfs a rw', ...many].join('\n')),
      /^p\.txt:1:1: the scenario would need \d+ steps; a scenario has at most 500; import a smaller part of the table/,
    );
    const opts = Array.from({ length: 60 }, (_, j) => `o${j}=${'v'.repeat(50)}`).join(',');
    assert.match(
      refusal(`1 0 0:1 / / rw - tmpfs a rw,${opts}\n`),
      new RegExp(
        /^p\.txt:1:1: the super options of "tmpfs" "a" \(device 0:1, line 1\) are 3\d{3} characters; /.source +
          /a scenario's mount options stop at 1024/.source,
      ),
    );
  });

  it('class: more directories than one mkdir holds are split, not refused', () => {
    const many = Array.from({ length: 150 }, (_, i) => `${i + 2} 1 0:1 / /m${i} rw,relatime - tmpfs a rw`);
    const { scenario } = importText(['1 0 0:1 / / rw,relatime - tmpfs a rw', ...many].join('\n'), 'p.txt', {});
    const lists = scenario.steps.flatMap((s) => (Array.isArray(s.mkdir) ? [s.mkdir.length] : []));
    assert.ok(lists.every((n) => n <= 100) && lists.reduce((a, b) => a + b, 0) >= 150, JSON.stringify(lists));
  });
});
