// #/analytics?app=…&pipeline=…&range=24h&bucket=hour — one pipeline's runs
// over time (completed and failed), its failure rate, and the elimination
// funnel per step (average candidates in → passed).

import { api } from '../api.js';
import { h, field, select, errorBox, loading, replace } from '../dom.js';
import * as fmt from '../format.js';
import { href, navigate } from '../router.js';
import { runsChart, rateChart, funnelChart } from '../charts.js';

const RANGES = [['1h', 'Last hour', 3600e3, 'minute'], ['24h', 'Last 24 hours', 86400e3, 'hour'],
  ['7d', 'Last 7 days', 7 * 86400e3, 'day'], ['30d', 'Last 30 days', 30 * 86400e3, 'day']];

export function renderAnalytics(outlet, { params }) {
  const chosen = { app: params.get('app') || '', pipeline: params.get('pipeline') || '',
    range: params.get('range') || '24h', bucket: params.get('bucket') || '' };
  const range = RANGES.find((r) => r[0] === chosen.range) || RANGES[1];
  const bucket = chosen.bucket || range[3];

  const pipeSel = select({ testid: 'analytics-pipeline' }, [['', 'Loading…']], '');
  const rangeSel = select({ testid: 'analytics-range' }, RANGES.map((r) => [r[0], r[1]]), range[0]);
  const bucketSel = select({ testid: 'analytics-bucket' }, [['minute', 'minute'], ['hour', 'hour'], ['day', 'day']], bucket);
  const go = (overrides = {}) => {
    const [app, pipeline] = pipeSel.value ? JSON.parse(pipeSel.value) : ['', ''];
    navigate(href(['analytics'], { app, pipeline, range: rangeSel.value, bucket: bucketSel.value, ...overrides }));
  };
  pipeSel.addEventListener('change', () => go());
  rangeSel.addEventListener('change', () => go({ bucket: RANGES.find((r) => r[0] === rangeSel.value)[3] }));
  bucketSel.addEventListener('change', () => go());

  const body = h('div', {}, loading());
  outlet.append(h('h1', {}, 'Pipeline analytics'),
    h('form', { class: 'filters', 'aria-label': 'Choose a pipeline' },
      field('Pipeline', pipeSel), field('Range', rangeSel), field('Bucket', bucketSel)), body);

  let alive = true;
  api.pipelines().then(({ pipelines }) => {
    if (!alive) return;
    if (!pipelines.length) {
      replace(pipeSel, h('option', { value: '' }, 'No pipelines yet'));
      replace(body, h('p', { class: 'muted' }, 'No executions have been recorded yet.'));
      return;
    }
    const options = pipelines.map((p) => [JSON.stringify([p.app, p.pipeline]), `${p.pipeline} (${p.app})`]);
    let current = chosen.pipeline ? pipelines.find((p) => p.pipeline === chosen.pipeline && (!chosen.app || p.app === chosen.app)) : null;
    if (!current) current = pipelines.reduce((x, y) => (y.executions > x.executions ? y : x));
    replace(pipeSel, [...select({}, options, JSON.stringify([current.app, current.pipeline])).children]);
    pipeSel.value = JSON.stringify([current.app, current.pipeline]);
    const until = new Date();
    const since = new Date(until.getTime() - range[2]);
    return api.analytics({ app: current.app, pipeline: current.pipeline, since: since.toISOString(),
      until: until.toISOString(), bucket })
      .then((data) => alive && replace(body, report(current, data, bucket, since, until)));
  }).catch((err) => alive && replace(body, errorBox(err)));
  return () => {
    alive = false;
  };
}

const BUCKET_MS = { minute: 60e3, hour: 3600e3, day: 86400e3 };

// Every bucket from `since` to `until`, with the server's counts where it
// has some and zeros elsewhere, so the time axis has no gaps. Buckets start
// on whole UTC minutes, hours or days.
function fillBuckets(runs, bucket, since, until) {
  const step = BUCKET_MS[bucket];
  const byTime = new Map(runs.map((r) => [Date.parse(r.bucket), r]));
  const first = Math.floor(since.getTime() / step) * step;
  const out = [];
  for (let t = first; t <= until.getTime() && out.length < 2000; t += step) {
    const r = byTime.get(t);
    out.push(r ? { ...r, bucket: new Date(t).toISOString() } : { bucket: new Date(t).toISOString(), total: 0, failed: 0 });
    byTime.delete(t);
  }
  // Buckets that did not line up (another time zone's days) are kept as they are.
  return [...out, ...byTime.values()].sort((a, b) => Date.parse(a.bucket) - Date.parse(b.bucket));
}

function card(label, value, testid, cls) {
  return h('div', { class: ['card', cls], testid }, h('div', { class: 'card-value' }, value), h('div', { class: 'card-label' }, label));
}

function report(p, data, bucket, since, until) {
  const runs = fillBuckets(data.runs || [], bucket, since, until);
  const total = runs.reduce((n, r) => n + r.total, 0);
  const failed = runs.reduce((n, r) => n + r.failed, 0);
  const listLink = (status) => href([], { app: p.app, pipeline: p.pipeline, status, since: since.toISOString(), until: until.toISOString() });
  const funnelRows = (data.funnel || []).map((f) => ({ label: `${f.index} ${f.name}`, into: f.avg_candidates_in, passed: f.avg_candidates_passed }));
  return h('div', { class: 'analytics', testid: 'analytics' },
    h('div', { class: 'cards' },
      card('runs', fmt.number(total), 'analytics-total'),
      card('failed', fmt.number(failed), 'analytics-failed', failed ? 'card-bad' : ''),
      card('failure rate', fmt.percent(data.failure_rate, 1), 'analytics-failure-rate', data.failure_rate > 0.05 ? 'card-bad' : ''),
      h('div', { class: 'card card-links' }, h('a', { href: listLink('') }, 'See these runs'),
        h('a', { href: listLink('failed') }, 'See the failed runs'))),
    h('section', { class: 'panel' }, h('h2', {}, `Runs per ${bucket}`),
      h('p', { class: 'legend' }, h('span', { class: 'key key-ok' }), ' completed or running ', h('span', { class: 'key key-failed' }), ' failed'),
      total ? runsChart(runs, { bucket, testid: 'runs-chart' }) : h('p', { class: 'muted' }, 'No runs in this range.')),
    h('section', { class: 'panel' }, h('h2', {}, `Failure rate per ${bucket}`),
      total ? rateChart(runs.map((r) => ({ bucket: r.bucket, value: r.total ? r.failed / r.total : null })), { bucket, testid: 'rate-chart' })
        : h('p', { class: 'muted' }, 'No runs in this range.')),
    h('section', { class: 'panel' }, h('h2', {}, 'Elimination funnel per step'),
      h('p', { class: 'muted' }, 'Average candidates evaluated by each step and how many passed, over the runs in range.'),
      funnelRows.length ? funnelChart(funnelRows, { testid: 'funnel-chart' }) : h('p', { class: 'muted' }, 'No steps in this range.'),
      funnelRows.length ? h('table', { class: 'data', testid: 'funnel-table' },
        h('thead', {}, h('tr', {}, ['Step', 'Runs', 'Avg in', 'Avg passed', 'Eliminated'].map((t, i) => h('th', { scope: 'col', class: i ? 'num' : '' }, t)))),
        h('tbody', {}, (data.funnel || []).map((f) => h('tr', { testid: 'funnel-row', dataset: { step: f.name } },
          h('td', {}, `${f.index} ${f.name}`), h('td', { class: 'num' }, fmt.number(f.runs)),
          h('td', { class: 'num' }, fmt.number(f.avg_candidates_in, 1)), h('td', { class: 'num' }, fmt.number(f.avg_candidates_passed, 1)),
          h('td', { class: 'num' }, f.avg_candidates_in ? fmt.percent(1 - f.avg_candidates_passed / f.avg_candidates_in) : '—'))))) : null));
}
