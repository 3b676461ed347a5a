import { strict as assert } from 'node:assert';
import { readPropagationProbeOutput } from '../capture/probe-answers.js';
import { execFileSync } from 'node:child_process';
import { parseCapture } from '../capture/capture-file.js';
import { judgePropagationProbes, octalPath, planPropagationProbes } from './propagation-probe.js';

/** The helper's text as the guest client reads it, then judged. */
const judge = (plan: Parameters<typeof judgePropagationProbes>[0], out: string) =>
  judgePropagationProbes(plan, readPropagationProbeOutput(out));

/** /a and /b peers, /c their slave, /d a peer whose root (/sub) is narrower, /e private. */
function capture(base: number, pid: number, dev: number): string {
  const id = (n: number) => base + n;
  return [
    `@task init pid=${pid} mntns=4026531${base} cwd=/ root=/`,
    `${id(1)} ${id(0)} 254:0 / / rw - ext4 /dev/vda rw`,
    `${id(2)} ${id(1)} 0:${dev} / /a rw shared:${base + 7} - tmpfs a rw`,
    `${id(3)} ${id(1)} 0:${dev} / /b rw shared:${base + 7} - tmpfs a rw`,
    `${id(4)} ${id(1)} 0:${dev} / /c rw master:${base + 7} - tmpfs a rw`,
    `${id(5)} ${id(1)} 0:${dev} /sub /d rw shared:${base + 7} - tmpfs a rw`,
    `${id(6)} ${id(1)} 0:${dev + 1} / /e rw - tmpfs e rw`,
    '',
  ].join('\n');
}

const before = parseCapture(capture(20, 100, 30), 'before');
const after = parseCapture(capture(500, 200, 60), 'after');

/** What labctl prints when the marker of probe K lands on `on` and copies appear under `copies` (after ids). */
const landed = (k: number, on: number, copies: number[]) =>
  [
    `@probe ${k} mounted`,
    ...[on, ...copies].map((p, i) => `@in 200 ${900 + k * 10 + i} ${p} 0:99 / /x rw - tmpfs mlprobe-s1-${k} rw`),
  ].join('\n');

describe('propagation probes', () => {
  const plan = planPropagationProbes(before, after, 's1');

  it('probes every shared or slave mount, predicting peers and slaves whose root holds the mountpoint', () => {
    assert.deepEqual(
      plan.probes.map((p) => [p.mount, p.state, p.path, p.afterId, p.expected]),
      [
        ['/a', 'shared:27', '/a', 502, ['/b', '/c']],
        ['/b', 'shared:27', '/b', 503, ['/a', '/c']],
        ['/c', 'master:27', '/c', 504, []],
        // its root /sub lies under the others' root /: they all receive
        ['/d', 'shared:27', '/d', 505, ['/a', '/b', '/c']],
      ],
    );
    assert.equal(plan.input.split('\n')[0], '@reps 200');
    assert.equal(plan.input.split('\n')[1], `1 200 ${octalPath('/a')}`);
  });

  it('passes when the kernel put copies exactly where predicted', () => {
    const out = [
      landed(1, 502, [503, 504]),
      landed(2, 503, [502, 504]),
      landed(3, 504, []),
      landed(4, 505, [502, 503, 504]),
    ].join('\n');
    const r = judge(plan, out);
    assert.deepEqual(r.differences, []);
    assert.equal(r.checks, 4);
    assert.equal(r.copiesChecked, 2 + 2 + 0 + 3);
  });

  it('fails on a missing copy and on an extra one, naming the mounts', () => {
    const out = [
      landed(1, 502, [503]),
      landed(2, 503, [502, 504]),
      landed(3, 504, [502]),
      landed(4, 505, [502, 503, 504]),
    ].join('\n');
    const r = judge(plan, out);
    assert.deepEqual(
      r.differences.map((d) => [d.kind, d.mount, d.sentence]),
      [
        [
          'propagation-missing',
          '/a',
          'a mount made on /a (shared:27 before the dump) did not propagate to /c, ' +
            'which was its peer or slave before the dump (live probe)',
        ],
        [
          'propagation-extra',
          '/c',
          'a mount made on /c (master:27 before the dump) propagated to /a, ' +
            'which was neither its peer nor its slave before the dump (live probe)',
        ],
      ],
    );
  });

  it('does not judge a probe whose marker landed on another mount, or could not be mounted', () => {
    const out = [
      landed(1, 506, []),
      '@probe 2 mount-failed mount: /b: not a directory',
      landed(3, 504, []),
      landed(4, 505, [502, 503, 504]),
    ].join('\n');
    const r = judge(plan, out);
    assert.deepEqual(r.differences, []);
    assert.equal(r.checks, 2);
    assert.match(r.notes.join('\n'), /probe 1 \(\/a\): not reachable by its path/);
    assert.match(
      r.notes.join('\n'),
      /probe 2 \(\/b\): the marker could not be mounted \(mount: \/b: not a directory\)/,
    );
  });

  it('does not probe a mount no path reaches, and says which mount covers it', () => {
    const text = (base: number) =>
      [
        `@task init pid=${base} mntns=1 cwd=/ root=/`,
        `${base + 1} ${base} 254:0 / / rw shared:${base + 1} - ext4 /dev/vda rw`,
        `${base + 2} ${base + 1} 0:40 / /t rw shared:${base + 2} - tmpfs low rw`,
        `${base + 3} ${base + 2} 0:40 / /t/x rw shared:${base + 3} - tmpfs low rw`,
        `${base + 4} ${base + 2} 0:41 / /t rw - tmpfs cover rw`,
        `${base + 5} ${base + 1} 0:42 / / rw shared:${base + 5} - tmpfs over-root rw`,
        '',
      ].join('\n');
    const p = planPropagationProbes(parseCapture(text(10)), parseCapture(text(70)), 's2');
    // the root is what "/" reaches even with a mount stacked on it, and that mount hides nothing below
    assert.deepEqual(
      p.probes.map((x) => x.mount),
      ['/'],
    );
    assert.deepEqual(p.skipped, [
      '/ [stacked 2]: stacked on the task\'s root, and "/" names the root; no path reaches it',
      '/t: no path reaches it (covered by /t [stacked 2])',
      '/t/x: no path reaches it (covered by /t [stacked 2])',
    ]);
  });

  it('encodes paths so that dash printf gives back the exact bytes', () => {
    // As captures hold paths: UTF-8 bytes, one latin1 code unit each.
    const path = Buffer.from("/w/with space/it's/\\back/%s/ü\tx", 'utf8').toString('latin1');
    const enc = octalPath(path);
    assert.match(enc, /^(\\[0-7]{3})+$/);
    const out = execFileSync('/bin/sh', ['-c', 'printf "$1"; echo x', 'sh', enc]).toString('latin1');
    assert.equal(out.slice(0, -2), path);
  });
});
