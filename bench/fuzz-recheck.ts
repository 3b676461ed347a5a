/**
 * Does every minimal reproducer a fuzz campaign kept still fail the way its
 * finding did, as an ordinary scenario? For each cell of the campaign, runs
 * all of its findings' scenario.min.yaml with `mountlab run` (the CLI, as a
 * user would: guests booted for the run, nothing of the campaign's), then compares each
 * result's signature with the finding's: as the campaign dedupes it (the
 * generator's names masked) and exactly (as reduce kept it).
 *
 *   node dist/bench/fuzz-recheck.js CAMPAIGN_DIR [--jobs N] [--out DIR]
 *
 * With --out, the runs stay in DIR (a run per cell), for `mountlab report
 * RUN --for-list --scenario NAME`; without, they go with the bench.
 * Prints a line per reproducer and the tally; exits 0 when every one
 * reproduced, 1 when any did not.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../src/fuzz/findings.js';
import { campaignSignature } from '../src/fuzz/findings.js';
import { readResultsFile } from '../src/results/read-results.js';
import { formatSignature, signatureOf } from '../src/results/signature.js';
import { assetPath } from '../src/paths.js';
import { loadContext, parseArgs } from './lib.js';

const { opts, rest } = parseArgs(process.argv.slice(2));
const dir = rest[0];
if (!dir) {
  process.stderr.write('usage: node dist/bench/fuzz-recheck.js CAMPAIGN_DIR [--jobs N] [--out DIR]\n');
  process.exit(2);
}
const say = (s: string) => process.stdout.write(`${s}\n`);
const book = JSON.parse(readFileSync(join(dir, 'findings.json'), 'utf8')) as { findings: Finding[] };
type Reduced = Finding & { reduction: { status: 'reduced'; file: string; steps: number } };
const reduced = book.findings.filter((f): f is Reduced => f.reduction.status === 'reduced');
say(`# ${loadContext()}`);
say(`# ${dir}: ${book.findings.length} finding(s), ${reduced.length} with a minimal reproducer`);

/** "vm-debian-6.12-criu-4.1.1" -> the run flags that plan that cell again. */
function cellFlags(cell: string): string[] {
  const m = /^vm-(.+)-criu-(.+)$/.exec(cell);
  if (!m) throw new Error(`cannot rerun cell ${cell}: only vm cells named vm-KERNEL-criu-VERSION`);
  return ['--kernel', m[1]!, '--criu', m[2]!];
}

let same = 0;
let exact = 0;
const misses: string[] = [];
for (const cell of [...new Set(reduced.flatMap((f) => f.cells[0] ?? []))]) {
  const mine = reduced.filter((f) => f.cells[0] === cell);
  const keep = opts.get('out');
  const out = keep ?? mkdtempSync(join(tmpdir(), 'mountlab-recheck-'));
  try {
    const files = mine.map((f) => join(dir, f.reduction.file));
    const t0 = Date.now();
    try {
      execFileSync(
        process.execPath,
        [
          assetPath('bin/mountlab.js'),
          'run',
          ...files,
          ...cellFlags(cell),
          '--out',
          out,
          '-j',
          opts.get('jobs') ?? '2',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
    } catch {
      // Exit 1 or 2 is what failing reproducers make `run` say; the results tell which.
    }
    say(`# ${cell}: ${files.length} reproducer(s) run in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const runs = readdirSync(out)
      .filter((d) => !d.startsWith('.'))
      .sort();
    const results = (await readResultsFile(join(out, runs.at(-1)!, 'results.json'))).results;
    for (const f of mine) {
      const file = f.reduction.file;
      const r = results.find((x) => x.file.endsWith(file));
      if (!r) {
        misses.push(`${f.id}: no result`);
        say(`MISSING ${f.id} ${file}`);
        continue;
      }
      const got = signatureOf(r);
      const deduped = formatSignature(campaignSignature(got));
      const ok = deduped === f.signature;
      const isExact = formatSignature(got) === f.exactSignature;
      if (ok) same++;
      if (isExact) exact++;
      if (!ok) misses.push(`${f.id}: wanted ${f.signature}, got ${deduped}`);
      say(
        `${ok ? 'SAME' : 'OTHER'} ${f.id} (${f.reduction.steps} steps, ${r.outcome}` +
          `${isExact ? ', exact' : ''}): ${ok ? f.signature : `wanted ${f.signature}; got ${deduped}`}`,
      );
    }
  } finally {
    if (!keep) rmSync(out, { recursive: true, force: true });
  }
}
say(`# ${same}/${reduced.length} reproduce their finding's signature (${exact} exactly, paths and names too)`);
for (const m of misses) say(`#   not: ${m}`);
process.exit(same === reduced.length ? 0 : 1);
