/**
 * The HTML report rendered in headless Chromium; the checks themselves are in chromium-check.ts, shared with the VM
 * end-to-end test.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { screenshotPath, checkReportInChromium, writeSyntheticReport } from './chromium-check.js';
import { removeScratch, scratchDir } from './scratch.js';

describe('index.html in headless chromium', function () {
  this.timeout(120_000);
  after(removeScratch);

  it(
    "renders a report without errors: the failing scenario's pictures are drawn, " +
      'its extra mount marked, the filter works',
    async () => {
      const index = await writeSyntheticReport(scratchDir('html-chromium'));
      const check = await checkReportInChromium(index, { screenshot: screenshotPath('html-report-synthetic.png') });
      assert.deepEqual(check.failing, ['slave-chain-3']);
      console.log(`      screenshot: ${check.screenshot}`);
    },
  );

  it('fails the check for a page with a script error or without pictures', async () => {
    const dir = scratchDir('html-chromium-bad');
    const index = await writeSyntheticReport(dir);
    const html = readFileSync(index, 'utf8');
    writeFileSync(index, html.replace('(function(){', '(function(){ undefinedFunction();'));
    await assert.rejects(checkReportInChromium(index, { screenshot: join(dir, 'a.png') }), /no console or page errors/);
    writeFileSync(index, html.replace(/<figure class="after">[\s\S]*?<\/figure>/, ''));
    await assert.rejects(
      checkReportInChromium(index, { screenshot: join(dir, 'b.png') }),
      /after picture of slave-chain-3/,
    );
  });
});
