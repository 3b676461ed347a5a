import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { formatCapture } from '../capture/capture-file.js';
import { prng, type Rand } from '../compare/gen.testutil.js';
import { MountModel } from '../plan/mount-model.js';
import { pasteFixture } from './fixtures.testutil.js';
import { genTable, renderPaste } from './gen-paste.testutil.js';
import { importText, type ImportResult } from './import-command.js';
import { checkImport } from './verify.js';

/** Imports a fixture and builds it in the kernel model: it must come out as the plan promised. */
function imported(name: string): ImportResult {
  const r = importText(readFileSync(pasteFixture(name), 'latin1'), name, {});
  const built = MountModel.runScenario(r.scenario).capture;
  const c = checkImport(r.plan, built);
  assert.ok(c.equivalent, `${c.differences.map((d) => d.sentence).join('\n')}\n${formatCapture(built)}\n${r.yaml}`);
  return r;
}

/** The YAML's comments as one text: a comment is wrapped, and its blanks collapsed. */
const comments = (yaml: string) =>
  yaml
    .split('\n')
    .flatMap((l) => (/^\s*# /.test(l) ? [l.replace(/^\s*# /, '')] : []))
    .join(' ');

/** Said on stderr and in the scenario's header. */
function said(r: ImportResult, re: RegExp): void {
  const line = r.summary.find((l) => re.test(l));
  assert.ok(line, `not in the summary: ${re}\n${r.summary.join('\n')}`);
  const header = comments(r.yaml);
  assert.ok(header.includes(`note: ${line.replace(/\s+/g, ' ')}`), `not in the header: ${line}\n${header}`);
}

const PREFIXED: [string, RegExp][] = [
  ['prefix-iso-timestamp.txt', /9 lines carried the prefix "2024-01-02T03:04:06\.037Z " \(its digits varying/],
  ['prefix-dmesg.txt', /9 lines carried the prefix "\[ {4}3\.141592\] "/],
  ['prefix-syslog.txt', /9 lines carried the prefix "Jan {2}2 03:04:01 buildhost lxc-start\[1234\]: "/],
  ['prefix-podman-ci.txt', /10 lines carried the prefix "\[\+1136s\] # "/],
  [
    'prefix-lxc-debug.txt',
    /the prefix "lxc 20240102120001\.007 DEBUG {4}conf - \.\.\/src\/lxc\/conf\.c:lxc_setup:4321 - "/,
  ],
  ['prefix-markdown-list.txt', /9 lines carried the prefix "1\. "/],
  ['prefix-shell-prompt.txt', /line 1 is the shell command that printed the table, prompt and all; it was skipped/],
];

describe('import: pastes as people paste them (issue 20)', function () {
  this.timeout(120_000);

  it('a prefix on every line (timestamps, CI times, log levels, list markers, a prompt) is stripped, and said', () => {
    const tables: string[] = [];
    for (const [name, re] of PREFIXED) {
      const r = imported(name);
      said(r, re);
      assert.equal(r.plan.counts.mounts, 9, name);
      tables.push(formatCapture(r.plan.expected));
    }
    // Seven styles, one table: each reads back to the same topology.
    assert.equal(new Set(tables).size, 1);
  });

  it('remarks after the super options (<===, # ..., <-- this one, (this one)) are ignored, and said', () => {
    const r = imported('annotated.txt');
    assert.equal(r.plan.counts.mounts, 7);
    said(r, /lines 7, 8, 9, 10 carried remarks after the super options \("<===", "# the scratch dir", "<-- this one"/);
    const c = r.plan.expected.tasks[0]!.mounts.find((m) => m.mountId === 31)!;
    assert.deepEqual(c.superOptions, ['rw', 'size=1024k', 'mode=700']);
  });

  it('cut marks (..., [...], …, [snip]) are cuts inside one table, not four pastes', () => {
    const r = imported('cut-with-ellipsis.txt');
    assert.equal(r.plan.counts.mounts, 6);
    said(r, /lines 5, 7, 9, 11 mark a cut inside the table/);
  });

  it('fragments whose ids and parents fit together (line 663, then lines 623-627) are one table', () => {
    const r = imported('fragments.txt');
    assert.equal(r.plan.counts.mounts, 6);
    said(r, /line 3, lines 7-11 are fragments of one table/);
  });

  it('a partial paste gets stand-ins for the missing parents it needs, each said and commented', () => {
    const r = imported('partial.txt');
    assert.equal(r.plan.counts.mounts, 11);
    said(r, /mount 25, the parent of lines 5, 6, is not in the paste: .* at "\/sys\/fs\/cgroup", on mount 18/);
    said(r, /mount 79, the parent of line 11, is not in the paste: .* at "\/Volumes\/dune", on mount 600/);
    assert.match(
      comments(r.yaml),
      /25: tmpfs on \/sys\/fs\/cgroup \(stand-in: not in the paste, the parent of line 5\)/,
    );
    // Parents missing but not needed (/run/user/* under the missing /run) stay roots.
    assert.equal(r.plan.expected.tasks[0]!.mounts.filter((m) => m.mountId === 24).length, 0);
  });

  it('what the guest may lack (configfs, selinuxfs, bpf, tracefs, seclabel) is stood in; no guest path needed', () => {
    const r = imported('guest-lacks.txt');
    assert.equal(r.plan.requires.paths, undefined);
    for (const fs of ['configfs', 'selinuxfs', 'bpf', 'tracefs'])
      assert.ok(
        r.plan.substitutions.some((s) => s.startsWith(`"${fs}" "${fs}"`) && /the guest may not have/.test(s)),
        fs,
      );
    assert.match(comments(r.yaml), /stand-in: "sysfs" "sysfs" \(device 0:18, line 1\) would need \/sys\/fs\/bpf/);
    said(r, /"debugfs" "debugfs" \(device 0:8, line 11\): super options seclabel come from a security module/);
    const mounts = r.scenario.steps.flatMap((s) => (s.mount ? [s.mount] : []));
    assert.ok(mounts.every((m) => !(m.options ?? '').includes('seclabel')));
    assert.ok(mounts.some((m) => m.fstype === 'securityfs') && mounts.some((m) => m.fstype === 'debugfs'));
    assert.ok(!mounts.some((m) => ['configfs', 'selinuxfs', 'bpf', 'tracefs', 'sysfs'].includes(m.fstype)));
  });

  const fromGen = (g: fc.GeneratorValue): Rand => ({ int: (lo, hi) => g(fc.integer, { min: lo, max: hi }) });
  const PREFIXES: ((i: number) => string)[] = [
    (i) => `2024-01-02T03:04:${String(i % 60).padStart(2, '0')}.${i * 7}Z `,
    (i) => `[${(i * 13.5).toFixed(6).padStart(12)}] `,
    (i) => `Jan  2 03:0${i % 10}:17 host lxc[${100 + i}]: `,
    (i) => `[+${1136 + i}s] # `,
    () => 'DEBUG ',
    (i) => `lxc 2024010112${String(i).padStart(4, '0')}.123 DEBUG    conf - conf.c:setup:12 - `,
    () => '- ',
    () => '* ',
    (i) => `${i + 1}. `,
    () => '> 1. ',
    (i) => `${String(i + 600).padStart(6)}\t`,
  ];

  it('any prefix added to every line of a valid paste imports to the same scenario (300 runs)', () => {
    fc.assert(
      fc.property(fc.gen(), fc.integer(), fc.nat(PREFIXES.length - 1), (g, seed, which) => {
        const table = genTable(fromGen(g));
        const plain = renderPaste(table, { quote: '', wrap: 0, headers: 'none', prose: false }, prng(seed));
        if (table.tasks.length > 1) return;
        const prefix = PREFIXES[which]!;
        const lines = plain.trimEnd().split('\n');
        if (lines.length < 2) return;
        const prefixed = `${lines.map((l, i) => prefix(i) + l).join('\n')}\n`;
        const a = importText(plain, 'p.txt', {});
        const b = importText(prefixed, 'p.txt', {});
        assert.deepEqual(b.scenario.steps, a.scenario.steps, prefixed);
        assert.ok(
          b.plan.notes.some((n) => /carried the prefix/.test(n)),
          prefixed,
        );
      }),
      { numRuns: 300 },
    );
  });
});
