import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeScratch, scratchDir } from '../../test/scratch.js';
import { ResultsFileError, checkResults, readResultsFile } from './read-results.js';
import { parsedRun } from './results.testutil.js';

const good = parsedRun();

describe('reading results.json', () => {
  const bad = (v: unknown, re: RegExp) =>
    assert.throws(
      () => checkResults(v),
      (e: unknown) => e instanceof ResultsFileError && re.test(e.message),
    );

  it('refuses what is not a results file, naming what is wrong', () => {
    bad([], /expected a JSON object/);
    bad({ results: [] }, /no "format" field/);
    bad({ ...good, format: 'mountlab-run-diff/1' }, /format is 'mountlab-run-diff\/1', expected 'mountlab-results\/1'/);
    bad({ ...good, format: 'mountlab-results/2' }, /'mountlab-results\/2' is not supported/);
    bad({ ...good, results: undefined }, /"results" is missing/);
    bad(
      { ...good, results: [{ ...good.results[0], outcome: 'maybe' }] },
      /results\[0\] \(s\): outcome "maybe" is not one of pass, fail/,
    );
    bad({ ...good, results: [{ ...good.results[0], reason: undefined }] }, /results\[0\] has no "reason"/);
    bad(
      { ...good, results: [good.results[0], good.results[0]] },
      /scenario 's' has two results on cell 'vm-debian-6.12'/,
    );
    bad({ ...good, cells: undefined }, /"cells" is missing from a complete run/);
    bad({ ...good, cells: [{}] }, /cells\[0\] has no "id"/);
  });

  it('accepts a minor version of the same major', () => {
    assert.equal(checkResults({ ...good, format: 'mountlab-results/1.1' }).results.length, 1);
  });

  it('says every schema problem as a sentence with its place, a few of them, and what to make of it', () => {
    const phases = [{ phase: 'dump', ms: -1, ok: true }];
    const wrong = { ...good, surplus: 1, results: [{ ...good.results[0], phases, durationMs: 'long' }] };
    assert.throws(
      () => checkResults(wrong),
      (e: unknown) => {
        assert.ok(e instanceof ResultsFileError);
        assert.equal(
          e.message,
          'the file has an unknown field "surplus"; results[0] (s): phases[0].ms -1 is below 0; ' +
            'results[0] (s): durationMs "long" is not an integer; ' +
            'it does not follow src/results/results.schema.json: was it edited, or written by another mountlab?',
        );
        return true;
      },
    );
  });

  describe('from a file', () => {
    after(removeScratch);

    it('names the file, and says why it cannot be read', async () => {
      const dir = scratchDir('read-results');
      mkdirSync(dir, { recursive: true });
      const put = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      assert.equal((await readResultsFile(put('ok.json', JSON.stringify(good)))).runId, '20261121-211844-ad7f');
      const cases: [string, RegExp][] = [
        [join(dir, 'missing.json'), /^cannot read: no such file or directory$/],
        [dir, /^cannot read: it is a directory$/],
        [put('cut.json', '{"format": "mountlab-results/1", '), /^not JSON \(/],
        [put('junit.json', '{"format": "junit"}'), /^not a mountlab results file: format is 'junit'/],
      ];
      for (const [file, re] of cases) {
        await assert.rejects(readResultsFile(file), (e: unknown) => {
          assert.ok(e instanceof ResultsFileError);
          assert.equal(e.file, file);
          assert.match(e.message, re);
          return true;
        });
      }
    });
  });
});
