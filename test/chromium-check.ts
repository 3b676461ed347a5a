import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { parseCapture } from '../src/capture/capture-file.js';
import { compareCaptures } from '../src/compare/compare.js';
import { assetPath } from '../src/paths.js';
import { renderHtml, runDirFiles } from '../src/report/html.js';
import { runResult, scenarioResult, vmCell } from '../src/results/results.testutil.js';
import { writeAtomic } from '../src/report/atomic.js';

export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags chromium keeps dialling Google
// services and floods the log with refused connections on an offline machine.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where screenshots go: kept after the tests (dist/ is build output), unlike scratch directories. */
export function screenshotPath(name: string): string {
  const dir = process.env.MOUNTLAB_TEST_OUTPUT ?? assetPath('dist', 'test-output');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** The little of the DOM the in-page check uses (this project compiles without the DOM library). */
interface SvgElement {
  querySelectorAll(selector: string): ArrayLike<SvgElement>;
  querySelector(selector: string): SvgElement | null;
  getBBox(): { x: number; y: number; width: number; height: number };
  getAttribute(name: string): string | null;
}

export interface ChromiumCheck {
  screenshot: string;
  /** data-scenario of each failing section the check looked at. */
  failing: string[];
}

/**
 * Opens a run's index.html in headless chromium as a reader would (file://,
 * no network) and checks what the page promises: no console or page
 * errors, no request leaving the file, the failing scenarios' before and
 * after pictures laid out with real sizes, the difference marked on the
 * picture, mount labels inside their boxes with the browser's own font
 * metrics, and the verdict filter working. Saves a full-page screenshot.
 */
export async function checkReportInChromium(
  indexHtml: string,
  opts: { screenshot: string; scenario?: string },
): Promise<ChromiumCheck> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: apt-get install chromium (./mountlab installs it when run as root)`,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    const outside: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) outside.push(r.url());
    });
    await page.goto(pathToFileURL(indexHtml).href, { waitUntil: 'load' });
    assert.deepEqual(problems, [], 'no console or page errors while loading');
    const selector = opts.scenario
      ? `section.scenario[data-scenario="${opts.scenario}"]`
      : 'section.scenario[data-outcome="fail"]';
    const sections = page.locator(selector);
    const n = await sections.count();
    assert.ok(n > 0, `no section matches ${selector}`);
    const failing: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = sections.nth(i);
      failing.push((await s.getAttribute('data-scenario')) ?? '?');
      assert.equal(
        await s.locator('details.scenario-details').getAttribute('open'),
        '',
        'a failing scenario is shown open',
      );
      for (const side of ['before', 'after']) {
        const svg = s.locator(`figure.${side} svg.mount-graph`);
        assert.equal(await svg.count(), 1, `${side} picture of ${failing[i]}`);
        await svg.scrollIntoViewIfNeeded();
        assert.ok(await svg.isVisible(), `${side} picture visible`);
        const box = await svg.boundingBox();
        assert.ok(
          box && box.width > 50 && box.height > 30,
          `${side} picture of ${failing[i]} has a size: ${JSON.stringify(box)}`,
        );
      }
      const marked = s.locator('figure svg.mount-graph g.diff');
      assert.ok((await marked.count()) > 0, `a difference is marked on a picture of ${failing[i]}`);
      const mbox = await marked.first().boundingBox();
      assert.ok(mbox && mbox.width > 0 && mbox.height > 0, 'the marked mount is drawn');
      assert.ok(
        (await s.locator('aside.differences li').count()) > 0,
        'the difference sentences are listed beside the pictures',
      );
      // The layout guesses text widths; the browser measures them. Every label must fit its node.
      const overflow = await s.locator('figure svg.mount-graph').evaluateAll((svgs: unknown[]) => {
        const bad: string[] = [];
        for (const svg of svgs as SvgElement[]) {
          for (const g of Array.from(svg.querySelectorAll('g.mount'))) {
            const r = g.querySelector('rect')!.getBBox();
            const t = g.querySelector('text:last-of-type')!.getBBox();
            if (t.x + t.width > r.x + r.width + 1 || t.y < r.y - 1 || t.y + t.height > r.y + r.height + 1)
              bad.push(`${g.getAttribute('data-label')}: text ${t.x + t.width} > node ${r.x + r.width}`);
          }
        }
        return bad;
      });
      assert.deepEqual(overflow, [], 'labels fit their nodes');
    }
    // The verdict filter is the page's script: it must run and hide passes.
    const pass = page.locator('section.scenario[data-outcome="pass"]').first();
    if ((await pass.count()) > 0) {
      await page.click('button[data-show="bad"]');
      assert.equal(await pass.isVisible(), false, 'the filter hides passing scenarios');
      await page.click('button[data-show="all"]');
      assert.equal(await pass.isVisible(), true);
    }
    await page.screenshot({ path: opts.screenshot, fullPage: true });
    assert.deepEqual(problems, [], 'no console or page errors');
    assert.deepEqual(outside, [], 'nothing is fetched from outside the file');
    assert.ok(statSync(opts.screenshot).size > 10_000, 'a screenshot with something in it');
    return { screenshot: opts.screenshot, failing };
  } finally {
    await browser.close();
  }
}

/**
 * A report as the reporter writes it, from results.testutil results and
 * the real captures in test/fixtures/captures: a pass, and a fail whose
 * restore has one mount more (the real after capture plus a cover stacked
 * on /b), judged by the real comparator.
 */
export async function writeSyntheticReport(dir: string): Promise<string> {
  const fixture = (name: string) => readFileSync(assetPath('test', 'fixtures', 'captures', name), 'latin1');
  const cell = {
    ...vmCell('vm-debian-6.12-criu-4.1.1'),
    facts: { ...vmCell('vm-debian-6.12-criu-4.1.1').facts, accel: 'tcg' as const },
  };
  const cover = '99 61 0:40 / /b rw,relatime - tmpfs cover rw,inode64\n';
  const files: Record<string, Record<string, string>> = {
    'slave-chain-3': {
      'before.capture': fixture('vm-trixie-slave-chain-3.before.capture'),
      'after.capture': `${fixture('vm-trixie-slave-chain-3.after.capture')}${cover}`,
      'restore.log':
        '(00.1) 1: mnt-v2: Mount 61 is detected as dir-mount\n(00.2) Error (criu/mount.c:1): <not really>\n',
    },
    'private-tmp-bind': {
      'before.capture': fixture('vm-trixie-private-tmp-bind.before.capture'),
      'after.capture': fixture('vm-trixie-private-tmp-bind.after.capture'),
      'dump.log': '(00.1) dump fine\n',
    },
  };
  const results = Object.entries(files).map(([name, f]) => {
    const rel = join(cell.id, name);
    mkdirSync(join(dir, rel), { recursive: true });
    for (const [k, v] of Object.entries(f)) writeFileSync(join(dir, rel, k), v, 'latin1');
    const differences = compareCaptures(
      parseCapture(f['before.capture']!),
      parseCapture(f['after.capture']!),
    ).differences.map((d) => ({ kind: d.kind, sentence: d.sentence, ...(d.mount ? { mount: d.mount } : {}) }));
    const dirName = name === 'slave-chain-3' ? 'propagation' : 'seed-000';
    return scenarioResult({
      scenario: name,
      outcome: differences.length ? 'fail' : 'pass',
      reason: differences[0]?.sentence ?? 'restored topology is identical up to renumbering',
      file: `scenarios/${dirName}/${name}.yaml`,
      cell: cell.id,
      differences,
      artifacts: Object.fromEntries(Object.keys(f).map((k) => [k, join(rel, k)])),
    });
  });
  const index = join(dir, 'index.html');
  await writeAtomic(index, await renderHtml(runResult(results, [cell]), runDirFiles(dir, assetPath())));
  return index;
}
