// The dashboard in a real headless browser (Debian's Chromium driven by
// playwright-core) against a real xrayd: the list, filters and live updates,
// an execution with its candidate table and "why not this one?", a
// comparison of two runs, analytics and insights. run.sh starts PostgreSQL
// and xrayd, seeds the demo pipeline, and passes:
//   XRAY_DASHBOARD_URL  the explorer listener (dashboard and query API)
//   XRAY_INGEST_URL     xrayd's HTTP ingest listener
//   XRAY_ARTIFACTS      folder for screenshots
//   DEMO_APP, DEMO_RUNS, DEMO_FAILED  what xray-demo recorded (its own app,
//                       so that the fixtures' app holds only the fixtures)
// Screenshots are written at each stage, also when a step fails.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { APP, PIPELINE, OTHER_PIPELINE, IDS, fixtures, liveRun, runningRun, post } from './fixtures.mjs';

const BASE = process.env.XRAY_DASHBOARD_URL;
const INGEST = process.env.XRAY_INGEST_URL;
const ARTIFACTS = process.env.XRAY_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'xray-browser-artifacts-'));
const DEMO_APP = process.env.DEMO_APP || 'demo-shop';
const DEMO_RUNS = Number(process.env.DEMO_RUNS || 0);
const DEMO_FAILED = Number(process.env.DEMO_FAILED || 0);
assert.ok(BASE && INGEST, 'XRAY_DASHBOARD_URL and XRAY_INGEST_URL must be set (tests/browser/run.sh sets them)');
fs.mkdirSync(ARTIFACTS, { recursive: true });

let context;
let page;
let profile;
const problems = [];   // console errors, page errors, failed requests (CSP violations show up here)

async function shot(name, options = {}) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? false });
  return file;
}

const row = (id) => page.locator(`[data-testid="execution-row"][data-id="${id}"]`);

before(async () => {
  const seeded = fixtures();
  for (const snapshot of Object.values(seeded)) await post(INGEST, snapshot);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // EventSource connections are cut when a view closes; that is expected.
    if (!r.url().includes('/v1/stream')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
});

after(async () => {
  if (context) await context.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  console.log(`screenshots: ${ARTIFACTS}`);
});

// it() whose failure leaves a picture of what the browser showed.
function step(name, fn) {
  it(name, async () => {
    try {
      await fn();
    } catch (err) {
      const file = path.join(ARTIFACTS, `failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      if (page) await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      throw err;
    }
  });
}

describe('dashboard', () => {
  step('serves the page with a strict content security policy', async () => {
    const res = await page.goto(`${BASE}/`);
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'] || '';
    assert.match(csp, /default-src 'self'/);
    await page.waitForSelector('[data-testid="execution-row"]');
    assert.equal(await page.title(), 'Executions · xray');
  });

  step('lists executions newest first, pages with a cursor and updates live', async () => {
    await page.locator('[data-testid="live-state"].live-live').waitFor();
    const expected = DEMO_RUNS + 4;   // the demo runs plus the four fixtures
    if (expected > 50) {
      assert.equal(await page.locator('[data-testid="execution-row"]').count(), 50);
      await page.click('[data-testid="load-more"]');
    }
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="execution-row"]').length === n, expected);
    const started = await page.locator('[data-testid="execution-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.started));
    assert.deepEqual(started, [...started].sort().reverse(), 'newest first');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('01-list');

    // A run committed while the page is open appears without a reload.
    await post(INGEST, liveRun());
    await row(IDS.live).waitFor({ timeout: 15000 });
    assert.equal(await page.locator('[data-testid="execution-row"]').count(), expected + 1);
    assert.match(await row(IDS.live).innerText(), /competitor-selection/);
  });

  step('filters by status, app, pipeline, metadata and reasoning', async () => {
    await page.selectOption('[data-testid="filter-status"]', 'failed');
    await page.waitForURL(/status=failed/);
    await row(IDS.failed).waitFor();
    const statuses = await page.locator('[data-testid="execution-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.status));
    assert.equal(statuses.length, DEMO_FAILED + 1);
    assert.ok(statuses.every((s) => s === 'failed'), `only failed runs: ${statuses}`);
    await shot('02-list-failed');

    await page.goto(`${BASE}/#/`);
    await page.waitForSelector(`[data-testid="filter-app"] option[value="${APP}"]`, { state: 'attached' });
    await page.selectOption('[data-testid="filter-app"]', APP);
    await page.waitForURL(/app=shopping-assistant/);
    await page.waitForFunction(() => /5 executions shown/.test(document.querySelector('[data-testid="list-status"]').textContent));
    assert.deepEqual(await page.locator('[data-testid="execution-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.id)),
      [IDS.live, IDS.bad, IDS.good, IDS.failed, IDS.other]);

    await page.waitForSelector(`[data-testid="filter-pipeline"] option[value="${OTHER_PIPELINE}"]`, { state: 'attached' });
    await page.selectOption('[data-testid="filter-pipeline"]', OTHER_PIPELINE);
    await page.waitForURL(/app=shopping-assistant&pipeline=returns-triage/);
    await row(IDS.other).waitFor();
    await page.waitForFunction(() => /1 execution shown/.test(document.querySelector('[data-testid="list-status"]').textContent));
    assert.equal(await page.locator('[data-testid="execution-row"]').count(), 1);

    // A metadata filter typed into the form.
    await page.goto(`${BASE}/#/`);
    await page.fill('[data-testid="filter-meta"]', 'productId=B0C1234567');
    await page.fill('[data-testid="filter-q"]', 'device compatibility');
    await page.click('[data-testid="apply-filters"]');
    await page.waitForURL(/meta\.productId=B0C1234567/);
    await row(IDS.bad).waitFor();
    const ids = await page.locator('[data-testid="execution-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    assert.ok(ids.includes(IDS.good), 'the good run of the same product is listed');
    assert.ok(!ids.includes(IDS.other) && !ids.includes(IDS.live), `other products are filtered out: ${ids}`);
    await shot('03-list-filtered');
  });

  step('opens an execution: timeline, decision, step JSON', async () => {
    await row(IDS.bad).locator('[data-testid="execution-link"]').click();
    await page.waitForURL(new RegExp(`#/execution/${APP}/${IDS.bad}$`));
    await page.waitForSelector('[data-testid="execution-header"]');
    assert.equal(await page.locator('[data-testid="execution-id"]').innerText(), IDS.bad);

    const timeline = page.locator('[data-testid="timeline-step"]');
    assert.deepEqual(await timeline.evaluateAll((rows) => rows.map((r) => r.dataset.step)),
      ['generate_keywords', 'search_candidates', 'apply_filters', 'rank_candidates', 'select_competitor']);
    assert.equal(await page.locator('[data-testid="timeline-step"][data-step="apply_filters"] [data-testid="step-funnel"]').innerText(), '8 → 3');
    assert.equal(await page.locator('[data-testid="timeline-step"][data-step="rank_candidates"] [data-testid="step-funnel"]').innerText(), '3 → 3');
    assert.equal(await page.locator('[data-testid="timeline-step"] svg rect.span').count(), 5, 'a duration bar per step');

    const decision = page.locator('[data-testid="selection"]');
    const text = await decision.innerText();
    assert.match(text, /OtterBox Ventilated iPhone Case/);
    assert.match(text, /Cell Phone Cases/);
    assert.match(text, /Selected at step 4 “select_competitor”/);
    assert.equal(await page.locator('[data-testid="selection-reason"]').innerText(),
      'Why: highest total score 0.705 of 3 ranked: relevance 0.117 rating 0.250 reviews 0.229 price 0.109');
    // Largest contribution first, the total last (reviews and rating outweigh relevance).
    assert.equal(await page.locator('[data-testid="score-breakdown"]').getAttribute('aria-label'),
      'rating 0.250, reviews 0.229, relevance 0.117, price 0.109, total 0.705');

    // The keyword step shows the drift: temperature and the "iphone" keywords.
    const keywords = page.locator('[data-testid="step"][data-step="generate_keywords"]');
    assert.match(await keywords.locator('[data-testid="step-output"]').innerText(), /"iphone compatible"/);
    assert.match(await keywords.locator('[data-testid="step-metadata"]').innerText(), /temperature: 1\.24/);
    // The filter step's lenient category rule.
    assert.match(await page.locator('[data-testid="step"][data-step="apply_filters"] [data-testid="step-filters"]').innerText(),
      /mode: "department"/);
    await shot('04-execution');
    await shot('04-execution-full', { fullPage: true });
  });

  step('shows the candidate table with the reasons a candidate failed', async () => {
    const table = page.locator('[data-testid="candidate-table"][data-step="2"]');
    const failedRow = table.locator('[data-testid="candidate-row"][data-candidate="B0STAND00042"]');
    assert.equal(await failedRow.locator('[data-testid="status"]').innerText(), 'failed');
    assert.deepEqual(await failedRow.locator('[data-testid="reasons"] li').allInnerTexts(),
      ['price 52.99 > 46.19', 'rating 3.8 < 4.0']);
    const phoneRow = table.locator('[data-testid="candidate-row"][data-candidate="B0PHONECASE1"]');
    assert.equal(await phoneRow.locator('[data-testid="status"]').innerText(), 'passed');
    assert.equal(await phoneRow.locator('[data-testid="meta-category"]').innerText(), 'Cell Phone Cases');
    assert.match(await phoneRow.innerText(), /selected/);

    await table.locator('[data-testid="rejected-only"]').check();
    const rejected = table.locator('[data-testid="candidate-row"]');
    assert.equal(await rejected.count(), 5);
    assert.deepEqual(await rejected.evaluateAll((rows) => rows.map((r) => r.dataset.passed)), Array(5).fill('false'));
    assert.equal(await table.locator('[data-testid="candidate-count"]').innerText(), 'showing 5 of 8');
    assert.match(await table.locator('[data-testid="reason-chips"]').innerText(), /price 3/);
    await table.scrollIntoViewIfNeeded();
    await shot('05-rejected-only');
    await table.locator('[data-testid="rejected-only"]').uncheck();
    assert.equal(await table.locator('[data-testid="candidate-row"]').count(), 8);
  });

  step('answers "why not this one?" for a rejected and for a passed candidate', async () => {
    await page.fill('[data-testid="why-not-input"]', 'B0STAND00042');
    await page.click('[data-testid="why-not-button"]');
    const verdict = page.locator('[data-testid="why-not-verdict"]');
    assert.equal(await verdict.innerText(),
      'B0STAND00042 was eliminated at step 2 “apply_filters”: price 52.99 > 46.19; rating 3.8 < 4.0.');
    assert.equal(await verdict.getAttribute('data-kind'), 'eliminated');
    assert.equal(await page.locator('[data-testid="candidate-row"].highlight[data-candidate="B0STAND00042"]').count(), 1);
    assert.match(page.url(), /candidate=B0STAND00042/);
    await shot('06-why-not-rejected');

    await page.fill('[data-testid="why-not-input"]', 'B0STAND00001');
    await page.click('[data-testid="why-not-button"]');
    assert.equal(await verdict.innerText(),
      'B0STAND00001 passed every step that evaluated it (apply_filters, rank_candidates) but was not selected. ' +
      'It ranked #2 of 3 in step 3 “rank_candidates” with total 0.499; the selected B0PHONECASE1 had 0.705.');
    assert.equal(await page.locator('[data-testid="candidate-row"].highlight[data-candidate="B0STAND00001"]').count(), 2,
      'highlighted in the filter and the ranking tables');

    // The selected phone case, traced: it passed the filters as "Cell Phone Cases".
    await page.click('[data-testid="trace-selected"]');
    assert.equal(await verdict.getAttribute('data-kind'), 'selected');
    assert.match(await page.locator('[data-testid="why-not-trail"]').innerText(), /apply_filters: passed.*category: Cell Phone Cases/);

    await page.fill('[data-testid="why-not-input"]', 'B0NOTSEEN999');
    await page.click('[data-testid="why-not-button"]');
    assert.equal(await verdict.getAttribute('data-kind'), 'unknown');

    // A shared link opens with the candidate traced.
    await page.goto(`${BASE}/#/execution/${APP}/${IDS.bad}?candidate=B0LAMP000007`);
    await page.locator('[data-testid="why-not-verdict"]').waitFor();
    assert.equal(await verdict.innerText(),
      "B0LAMP000007 was eliminated at step 2 “apply_filters”: category 'Desk Lamps' (Home & Kitchen) outside department 'Electronics'.");
  });

  step('marks a failed execution and its failed and skipped steps', async () => {
    await page.goto(`${BASE}/#/execution/${APP}/${IDS.failed}`);
    await page.waitForSelector('[data-testid="execution-header"]');
    assert.match(await page.locator('[data-testid="execution-error"]').innerText(), /candidate search failed/);
    assert.equal(await page.locator('[data-testid="timeline-step"][data-status="failed"]').getAttribute('data-step'), 'search_candidates');
    assert.equal(await page.locator('[data-testid="timeline-step"][data-status="skipped"]').getAttribute('data-step'), 'apply_filters');
    assert.match(await page.locator('[data-testid="step"][data-step="search_candidates"] [data-testid="step-error"]').innerText(),
      /catalog search timed out after 2000 ms/);
    assert.match(await page.locator('[data-testid="selection"]').innerText(),
      /Nothing was selected: the execution failed at step 1 “search_candidates”/);
    await shot('07-failed-execution');
  });

  step('redraws a running execution when its completed snapshot arrives', async () => {
    const run = runningRun();
    await post(INGEST, run.running);
    await page.goto(`${BASE}/#/execution/${APP}/${IDS.running}`);
    const status = page.locator('[data-testid="execution-header"] h1 [data-testid="status"]');
    assert.equal(await status.innerText(), 'running');
    await page.locator('[data-testid="execution-live"].live-live').waitFor();
    assert.equal(await page.locator('[data-testid="timeline-step"]').count(), 1);
    await post(INGEST, run.completed);
    await page.waitForFunction(() => document.querySelector('[data-testid="execution-header"] h1 [data-testid="status"]')?.textContent === 'completed',
      null, { timeout: 15000 });
    assert.equal(await page.locator('[data-testid="timeline-step"]').count(), 2);
    assert.match(await page.locator('[data-testid="selection-reason"]').innerText(), /unused items go back to stock/);
    assert.ok(await page.locator('[data-testid="execution-live"]').isHidden());
  });

  step('compares two runs picked in the list', async () => {
    await page.goto(`${BASE}/#/?app=${APP}&meta.productId=B0C1234567&status=completed`);
    await row(IDS.good).waitFor();
    await row(IDS.bad).locator('[data-testid="pick"]').check();
    await row(IDS.good).locator('[data-testid="pick"]').check();
    await page.click('[data-testid="compare-selected"]');
    await page.waitForURL(/#\/compare\//);
    await page.waitForSelector('[data-testid="compare-facts"]');
    const selection = page.locator('[data-testid="compare-facts"] tr[data-fact="Selection"]');
    assert.equal(await selection.getAttribute('data-testid'), 'fact-differs');
    const [, left, right] = await selection.locator('th, td').allInnerTexts();
    const bad = left.includes('iPhone') ? left : right;
    const good = left.includes('iPhone') ? right : left;
    assert.match(bad, /OtterBox Ventilated iPhone Case · category: Cell Phone Cases/);
    assert.match(good, /Nulaxy Adjustable Laptop Riser · category: Laptop Stands/);
    assert.equal(await page.locator('[data-testid="compare-facts"] tr[data-fact="productId"]').getAttribute('data-testid'), 'fact');

    const steps = page.locator('[data-testid="compare-step"]');
    assert.equal(await steps.count(), 5);
    const kwDiff = page.locator('[data-testid="step-diff"][data-step="generate_keywords"]');
    const kwText = await kwDiff.innerText();
    assert.match(kwText, /output\.keywords\[0\]/);
    assert.match(kwText, /"iphone compatible"/);
    assert.match(kwText, /metadata\.temperature/);
    assert.match(await page.locator('[data-testid="compare-step"][data-step="apply_filters"]').innerText(), /8 → 3[\s\S]*5 → 2|5 → 2[\s\S]*8 → 3/);
    await shot('08-compare');
    await shot('08-compare-full', { fullPage: true });

    // From the bad run: the previous run for the same product is the good one.
    await page.goto(`${BASE}/#/execution/${APP}/${IDS.bad}`);
    await page.selectOption('[data-testid="compare-previous-scope"]', 'productId');
    await page.click('[data-testid="compare-previous"]');
    await page.waitForURL(new RegExp(`#/compare/${APP}/${IDS.good}/${IDS.bad}$`));
    await page.waitForSelector('[data-testid="compare-facts"]');
  });

  step('shows per-pipeline analytics: runs, failure rate, funnel', async () => {
    await page.click('nav a[data-nav="analytics"]');
    await page.waitForSelector('[data-testid="analytics"]');
    const value = (testid) => page.locator(`[data-testid="${testid}"] .card-value`).innerText();
    // The pipeline with the most runs comes first: the demo's.
    assert.equal(await page.locator('[data-testid="analytics-pipeline"]').inputValue(), JSON.stringify([DEMO_APP, PIPELINE]));
    assert.equal(await value('analytics-total'), DEMO_RUNS.toLocaleString('en-US'));
    assert.equal(await value('analytics-failed'), String(DEMO_FAILED));
    assert.equal(await value('analytics-failure-rate'), `${((DEMO_FAILED / DEMO_RUNS) * 100).toFixed(1)}%`);
    assert.ok(await page.locator('[data-testid="runs-chart"] rect.bar-ok').count() > 0);
    assert.deepEqual(await page.locator('[data-testid="funnel-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.step)),
      ['generate_keywords', 'search_candidates', 'apply_filters', 'rank_candidates', 'select_competitor']);
    assert.match(await page.locator('[data-testid="funnel-chart"]').getAttribute('aria-label'), /apply_filters: [\d.,]+ in, [\d.,]+ passed/);
    await shot('09-analytics', { fullPage: true });

    // The fixtures' app: bad, good, failed and live runs; one failed.
    await page.selectOption('[data-testid="analytics-pipeline"]', JSON.stringify([APP, PIPELINE]));
    await page.waitForURL(/app=shopping-assistant&pipeline=competitor-selection/);
    await page.waitForFunction(() => document.querySelector('[data-testid="analytics-total"] .card-value')?.textContent === '4');
    assert.equal(await value('analytics-failed'), '1');
    assert.equal(await value('analytics-failure-rate'), '25.0%');
    const funnel = page.locator('[data-testid="funnel-row"][data-step="apply_filters"] td');
    // apply_filters ran in the bad (8 → 3) and good (5 → 2) runs: 6.5 → 2.5 on average.
    assert.deepEqual((await funnel.allInnerTexts()).slice(2, 4), ['6.5', '2.5']);

    await page.selectOption('[data-testid="analytics-pipeline"]', JSON.stringify([APP, OTHER_PIPELINE]));
    await page.waitForURL(/pipeline=returns-triage/);
    // The triage run and the running-then-completed one.
    await page.waitForFunction(() => document.querySelector('[data-testid="analytics-total"] .card-value')?.textContent === '2');
  });

  step('answers the headline questions on the insights page', async () => {
    await page.goto(`${BASE}/#/insights?reason=rating%203.8&f_app=${APP}&e_app=${DEMO_APP}`);
    const rowLink = page.locator('[data-testid="failed-candidate-row"] a', { hasText: 'B0STAND00042' });
    await rowLink.waitFor();
    // Demo runs for the USB hub eliminate over 90 % of their candidates.
    await page.locator('[data-testid="elimination-row"]').first().waitFor();
    assert.match(await page.locator('[data-testid="elimination-row"]').first().innerText(), /apply_filters/);
    assert.equal(await page.locator('[data-testid="failed-candidate-row"]').count(), 1);
    await shot('10-insights');
    await rowLink.click();
    await page.waitForURL(/candidate=B0STAND00042/);
    await page.locator('[data-testid="why-not-verdict"][data-kind="eliminated"]').waitFor();
  });

  step('logged no errors in the browser', async () => {
    assert.deepEqual(problems, []);
  });
});
