// Snapshots with known ids and contents that the browser test posts to the
// real xrayd (POST /v1/executions) and then looks for in the dashboard. They
// follow the demo pipeline (examples/): one run reproduces the bad match (a
// phone case selected as the competitor of a laptop stand), one makes a good
// selection for the same product, one fails in the candidate search, and one
// belongs to another pipeline. Times are relative to `now` so that the runs
// fall inside the dashboard's default ranges.

export const APP = 'shopping-assistant';
export const PIPELINE = 'competitor-selection';
export const OTHER_PIPELINE = 'returns-triage';
export const IDS = {
  bad: 'fixture-bad-match-0001',
  good: 'fixture-good-match-0002',
  failed: 'fixture-failed-run-0003',
  other: 'fixture-triage-0004',
  live: 'fixture-live-0005',
  running: 'fixture-running-0006',
};

const PRODUCT = {
  productId: 'B0C1234567',
  productTitle: 'Adjustable Aluminum Laptop Stand for Desk, Compatible with MacBook, iPad, iPhone',
};

// Steps laid out from `t0` with the given durations (ms).
function timed(t0, durations) {
  let t = t0;
  return durations.map((d) => {
    const span = { started_at: new Date(t).toISOString(), ended_at: new Date(t + d).toISOString() };
    t += d + 2;
    return span;
  });
}

const FILTERS = {
  price: { min: 19.79, max: 46.19 },
  minRating: 4.0,
  minReviews: 100,
  category: { mode: 'department', department: 'Electronics' },
};

// [id, title, category, price, rating, reviews, reasons]
const BAD_CANDIDATES = [
  ['B0PHONECASE1', 'OtterBox Ventilated iPhone Case', 'Cell Phone Cases', 23.99, 5.0, 37339, []],
  ['B0PHONECASE2', 'ESR Ergonomic iPhone Case', 'Cell Phone Cases', 18.99, 4.5, 158253, ['price 18.99 < 19.79']],
  ['B0STAND00001', 'UGREEN Adjustable Notebook Stand', 'Laptop Stands', 42.99, 4.1, 604, []],
  ['B0STAND00042', 'Lamicall Ergonomic Notebook Stand', 'Laptop Stands', 52.99, 3.8, 264, ['price 52.99 > 46.19', 'rating 3.8 < 4.0']],
  ['B0LAMP000007', 'Nulaxy Portable Architect Lamp', 'Desk Lamps', 45.99, 4.1, 376, ["category 'Desk Lamps' (Home & Kitchen) outside department 'Electronics'"]],
  ['B0TABLET0003', 'OtterBox Adjustable Tablet Mount', 'Tablet Stands', 30.99, 4.7, 217, []],
  ['B0STAND00077', 'Anker Shockproof Notebook Stand', 'Laptop Stands', 54.99, 4.5, 1213, ['price 54.99 > 46.19']],
  ['B0MOUSE00009', 'Soundance Slim Silent Mouse', 'Wireless Mice', 24.99, 4.6, 62, ['reviews 62 < 100']],
];

// Score breakdowns (weights relevance .35, rating .25, reviews .25, price .15).
const BAD_SCORES = {
  B0PHONECASE1: { relevance: 0.117, rating: 0.25, reviews: 0.229, price: 0.109, total: 0.705 },
  B0STAND00001: { relevance: 0.117, rating: 0.138, reviews: 0.139, price: 0.105, total: 0.499 },
  B0TABLET0003: { relevance: 0, rating: 0.213, reviews: 0.117, price: 0.141, total: 0.471 },
};

const GOOD_CANDIDATES = [
  ['B0STAND10001', 'Rain Design Aluminum Laptop Stand', 'Laptop Stands', 39.99, 4.8, 5120, []],
  ['B0STAND10002', 'Nulaxy Adjustable Laptop Riser', 'Laptop Stands', 29.99, 4.6, 2210, []],
  ['B0STAND10003', 'Amazon Basics Foldable Laptop Stand', 'Laptop Stands', 17.99, 4.3, 880, ['price 17.99 < 19.79']],
  ['B0RISER10004', 'OMOTON Monitor Riser', 'Monitor Risers', 27.99, 4.4, 912, ["category 'Monitor Risers' (Office Products) outside department 'Electronics'"]],
  ['B0STAND10005', 'Soundance Compact Laptop Stand', 'Laptop Stands', 25.99, 3.9, 130, ['rating 3.9 < 4.0']],
];
const GOOD_SCORES = {
  B0STAND10001: { relevance: 0.233, rating: 0.225, reviews: 0.185, price: 0.12, total: 0.763 },
  B0STAND10002: { relevance: 0.35, rating: 0.2, reviews: 0.168, price: 0.136, total: 0.854 },
};

function evaluations(candidates) {
  return candidates.map(([id, title, category, price, rating, reviews, reasons]) => ({
    id, passed: reasons.length === 0, ...(reasons.length ? { reasons } : {}),
    metadata: { title, category, price, rating, reviews },
  }));
}

function competitorRun({ id, start, temperature, keywords, candidates, scores, byCategory, selected }) {
  const [kw, search, filter, rank, select] = timed(start, [820, 140, 12, 6, 1]);
  const kept = candidates.filter((c) => c[6].length === 0);
  const failed = candidates.length - kept.length;
  const top = Object.entries(scores).sort((a, b) => b[1].total - a[1].total);
  const [bestId, best] = top[0];
  const bestRow = candidates.find((c) => c[0] === bestId);
  const dropped = {};
  for (const c of candidates) for (const r of c[6]) dropped[r.split(' ')[0]] = (dropped[r.split(' ')[0]] || 0) + 1;
  return {
    id, app: APP, pipeline: PIPELINE, environment: 'test', status: 'completed',
    started_at: kw.started_at, ended_at: select.ended_at,
    metadata: { useCase: 'competitor-search', ...PRODUCT },
    result: { selectedId: bestId, selectedTitle: bestRow[1], selectedCategory: bestRow[2] },
    steps: [
      { name: 'generate_keywords', ...kw, input: { title: PRODUCT.productTitle, category: 'Laptop Stands' },
        output: { keywords }, metadata: { model: 'kw-gen-v2', temperature },
        reasoning: 'noun phrases of the category and title, expanded with device compatibility' },
      { name: 'search_candidates', ...search, input: { keywords, limit: candidates.length },
        output: { count: candidates.length, byCategory }, metadata: { index: 'catalog-v7', latencyMs: 140 } },
      { name: 'apply_filters', ...filter, input: { candidates: candidates.length }, filters: FILTERS,
        output: { kept: kept.length, dropped: failed }, evaluations: evaluations(candidates),
        reasoning: `kept ${kept.length} of ${candidates.length}; ${Object.entries(dropped).sort().map(([k, n]) => `${n} failed ${k}`).join('; ')}`,
        metadata: { filteredCount: failed } },
      { name: 'rank_candidates', ...rank, input: { candidates: kept.length, keywords },
        evaluations: kept.map(([cid]) => ({ id: cid, passed: true, scores: scores[cid] })),
        output: { top: top.map(([cid, s]) => ({ id: cid, total: s.total })) },
        metadata: { weights: { relevance: 0.35, rating: 0.25, reviews: 0.25, price: 0.15 } },
        reasoning: 'weighted sum; relevance is the share of generated keyword tokens in the title' },
      { name: 'select_competitor', ...select, input: { ranked: kept.length },
        selection: { id: bestId, title: bestRow[1], category: bestRow[2], price: bestRow[3], totalScore: best.total },
        reasoning: selected },
    ],
  };
}

export function fixtures(now = Date.now()) {
  const min = 60000;
  const bad = competitorRun({
    id: IDS.bad, start: now - 5 * min, temperature: 1.24,
    keywords: ['iphone compatible', 'iphone stand', 'laptop stand'],
    candidates: BAD_CANDIDATES, scores: BAD_SCORES,
    byCategory: { 'Cell Phone Cases': 2, 'Laptop Stands': 3, 'Desk Lamps': 1, 'Tablet Stands': 1, 'Wireless Mice': 1 },
    selected: 'highest total score 0.705 of 3 ranked: relevance 0.117 rating 0.250 reviews 0.229 price 0.109',
  });
  const good = competitorRun({
    id: IDS.good, start: now - 6 * min, temperature: 0.41,
    keywords: ['laptop stand', 'electronics laptop stand', 'adjustable laptop stand'],
    candidates: GOOD_CANDIDATES, scores: GOOD_SCORES,
    byCategory: { 'Laptop Stands': 4, 'Monitor Risers': 1 },
    selected: 'highest total score 0.854 of 2 ranked: relevance 0.350 rating 0.200 reviews 0.168 price 0.136',
  });
  const [kw, search] = timed(now - 7 * min, [760, 2000]);
  const failed = {
    id: IDS.failed, app: APP, pipeline: PIPELINE, environment: 'test', status: 'failed',
    started_at: kw.started_at, ended_at: search.ended_at,
    metadata: { useCase: 'competitor-search', ...PRODUCT },
    error: { message: 'candidate search failed', step: 'search_candidates' },
    steps: [
      { name: 'generate_keywords', ...kw, input: { title: PRODUCT.productTitle, category: 'Laptop Stands' },
        output: { keywords: ['laptop stand', 'electronics laptop stand'] }, metadata: { model: 'kw-gen-v2', temperature: 0.3 } },
      { name: 'search_candidates', ...search, status: 'failed', input: { keywords: ['laptop stand'], limit: 50 },
        error: { message: 'catalog search timed out after 2000 ms', backend: 'catalog-v7' } },
      { name: 'apply_filters', status: 'skipped', reasoning: 'no candidates to filter' },
    ],
  };
  const [classify, route] = timed(now - 8 * min, [300, 20]);
  const other = {
    id: IDS.other, app: APP, pipeline: OTHER_PIPELINE, environment: 'test', status: 'completed',
    started_at: classify.started_at, ended_at: route.ended_at, metadata: { orderId: 'O-7731' },
    steps: [
      { name: 'classify_reason', ...classify, input: { text: 'arrived with a cracked hinge' }, output: { reason: 'damaged' },
        reasoning: 'the text names physical damage' },
      { name: 'route_return', ...route, selection: { queue: 'damaged-goods' }, reasoning: 'damaged items go to inspection' },
    ],
  };
  return { bad, good, failed, other };
}

// A run posted while the list is open, to see it arrive live.
export function liveRun(now = Date.now()) {
  const [kw] = timed(now, [5]);
  return {
    id: IDS.live, app: APP, pipeline: PIPELINE, environment: 'test', status: 'completed',
    started_at: kw.started_at, ended_at: kw.ended_at, metadata: { useCase: 'competitor-search', productId: 'B0C2345678' },
    steps: [{ name: 'generate_keywords', ...kw, output: { keywords: ['wireless mouse'] } }],
  };
}

export async function post(ingestUrl, snapshot) {
  const res = await fetch(`${ingestUrl}/v1/executions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(snapshot),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`POST ${snapshot.id}: HTTP ${res.status} ${body}`);
  return body;
}

// A long-running execution: first sent as running with one step, then
// completed with two (the later snapshot replaces the earlier).
export function runningRun(now = Date.now()) {
  const [first, second] = timed(now - 2000, [400, 300]);
  const base = {
    id: IDS.running, app: APP, pipeline: OTHER_PIPELINE, environment: 'test',
    started_at: first.started_at, metadata: { orderId: 'O-7732' },
  };
  return {
    running: { ...base, status: 'running',
      steps: [{ name: 'classify_reason', ...first, output: { reason: 'wrong size' } }] },
    completed: { ...base, status: 'completed', ended_at: second.ended_at,
      steps: [{ name: 'classify_reason', ...first, output: { reason: 'wrong size' } },
        { name: 'route_return', ...second, selection: { queue: 'restock' }, reasoning: 'unused items go back to stock' }] },
  };
}
