// Small SVG charts drawn from data: stacked bars over time, a line, an
// elimination funnel, horizontal score bars, and a duration bar. Each chart
// scales to its container's width (viewBox) and carries a text description
// (aria-label, <title> per mark) for screen readers and tooltips.

import { s } from './dom.js';
import * as fmt from './format.js';

const W = 960;

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// Short labels for the x axis: a bucket start as HH:MM or MM-DD.
function bucketLabel(iso, bucket) {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  if (bucket === 'day') return `${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return `${p(d.getHours())}:${p(d.getMinutes())}`;
}

// A maximum for counts that splits into four whole-number ticks.
function countMax(v) {
  return 4 * Math.max(1, niceMax(Math.ceil(v / 4)));
}

function yAxis(svg, { max, top, bottom, left, right, format }) {
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = bottom - ((bottom - top) * i) / 4;
    svg.append(s('line', { x1: left, x2: right, y1: y, y2: y, class: 'grid' }));
    svg.append(s('text', { x: left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, format(v)));
  }
}

// Stacked bars: rows [{bucket, total, failed}]: completed part and failed part.
export function runsChart(rows, { bucket = 'hour', testid } = {}) {
  const H = 200, left = 44, right = W - 8, top = 10, bottom = H - 28;
  const max = countMax(Math.max(1, ...rows.map((r) => r.total)));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', testid,
    'aria-label': `Runs per ${bucket}: ${rows.map((r) => `${bucketLabel(r.bucket, bucket)} ${r.total} (${r.failed} failed)`).join(', ')}` });
  yAxis(svg, { max, top, bottom, left, right, format: (v) => fmt.number(v) });
  const n = Math.max(rows.length, 1);
  const slot = (right - left) / n;
  const bw = Math.max(2, Math.min(40, slot * 0.7));
  const every = Math.ceil(n / 12);
  rows.forEach((r, i) => {
    const x = left + slot * i + (slot - bw) / 2;
    const hTotal = ((bottom - top) * r.total) / max;
    const hFailed = ((bottom - top) * r.failed) / max;
    const g = s('g', { class: 'bar' },
      s('title', {}, `${fmt.time(r.bucket)}: ${r.total} runs, ${r.failed} failed`));
    g.append(s('rect', { x, y: bottom - hTotal, width: bw, height: hTotal - hFailed, class: 'bar-ok' }));
    if (r.failed) g.append(s('rect', { x, y: bottom - hFailed, width: bw, height: hFailed, class: 'bar-failed' }));
    svg.append(g);
    if (i % every === 0) {
      svg.append(s('text', { x: x + bw / 2, y: H - 10, class: 'axis', 'text-anchor': 'middle' }, bucketLabel(r.bucket, bucket)));
    }
  });
  svg.append(s('line', { x1: left, x2: right, y1: bottom, y2: bottom, class: 'axis-line' }));
  return svg;
}

// A line of ratios (0..1) over buckets: points [{bucket, value}] (value null = no runs).
export function rateChart(points, { bucket = 'hour', testid } = {}) {
  const H = 160, left = 44, right = W - 8, top = 10, bottom = H - 28;
  const peak = Math.max(0, ...points.map((p) => p.value ?? 0));
  const max = [0.04, 0.08, 0.2, 0.4, 0.6, 0.8, 1].find((m) => m >= peak) ?? 1;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', testid,
    'aria-label': `Failure rate per ${bucket}` });
  yAxis(svg, { max, top, bottom, left, right, format: (v) => fmt.percent(v, Number.isInteger(Math.round(v * 1000) / 10) ? 0 : 1) });
  const n = Math.max(points.length, 1);
  const slot = (right - left) / n;
  const xy = points.map((p, i) => [left + slot * i + slot / 2,
    p.value == null ? null : bottom - ((bottom - top) * p.value) / max]);
  let d = '';
  xy.forEach(([x, y]) => {
    if (y == null) return;
    d += `${d ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
  });
  if (d) svg.append(s('path', { d, class: 'line' }));
  const every = Math.ceil(n / 12);
  points.forEach((p, i) => {
    const [x, y] = xy[i];
    if (y != null) {
      svg.append(s('circle', { cx: x, cy: y, r: 3, class: 'dot' },
        s('title', {}, `${fmt.time(p.bucket)}: ${fmt.percent(p.value, 1)} failed`)));
    }
    if (i % every === 0) svg.append(s('text', { x, y: H - 10, class: 'axis', 'text-anchor': 'middle' }, bucketLabel(p.bucket, bucket)));
  });
  svg.append(s('line', { x1: left, x2: right, y1: bottom, y2: bottom, class: 'axis-line' }));
  return svg;
}

// Elimination funnel: rows [{label, into, passed}] as paired bars (in, passed).
export function funnelChart(rows, { testid } = {}) {
  const rowH = 32, labelW = 200, right = W - 200;
  const H = Math.max(rowH * rows.length + 8, 40);
  const max = Math.max(1, ...rows.map((r) => r.into ?? 0));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart funnel', role: 'img', testid,
    'aria-label': rows.map((r) => `${r.label}: ${r.into == null ? 'no candidates' : `${fmt.number(r.into, 1)} in, ${fmt.number(r.passed, 1)} passed`}`).join('; ') });
  rows.forEach((r, i) => {
    const y = 4 + i * rowH;
    svg.append(s('text', { x: labelW - 8, y: y + 20, class: 'label', 'text-anchor': 'end' }, r.label));
    if (r.into == null) {
      svg.append(s('text', { x: labelW, y: y + 20, class: 'axis' }, 'no candidates evaluated'));
      return;
    }
    const wIn = ((right - labelW) * r.into) / max;
    const wPass = ((right - labelW) * r.passed) / max;
    const eliminated = r.into ? 1 - r.passed / r.into : 0;
    svg.append(s('g', {},
      s('title', {}, `${r.label}: ${fmt.number(r.into, 1)} in → ${fmt.number(r.passed, 1)} passed (${fmt.percent(eliminated)} eliminated)`),
      s('rect', { x: labelW, y: y + 6, width: Math.max(wIn, 1), height: 20, class: 'bar-in' }),
      s('rect', { x: labelW, y: y + 6, width: Math.max(wPass, r.passed ? 1 : 0), height: 20, class: 'bar-passed' })));
    svg.append(s('text', { x: labelW + Math.max(wIn, 1) + 8, y: y + 20, class: 'value' },
      `${fmt.number(r.into, 1)} → ${fmt.number(r.passed, 1)}  (${fmt.eliminated(eliminated)})`));
  });
  return svg;
}

// Horizontal bars for a score breakdown: parts [{label, value}].
export function scoreBars(parts, { max, testid, highlight } = {}) {
  const rowH = 22, labelW = 110, right = 360;
  const W2 = 420;
  const H = rowH * parts.length + 4;
  const top = max ?? Math.max(1e-9, ...parts.map((p) => Math.abs(p.value)));
  const svg = s('svg', { viewBox: `0 0 ${W2} ${H}`, class: 'chart scores', role: 'img', testid,
    'aria-label': parts.map((p) => `${p.label} ${fmt.score(p.value)}`).join(', ') });
  parts.forEach((p, i) => {
    const y = 2 + i * rowH;
    const w = Math.max(0, ((right - labelW) * p.value) / top);
    svg.append(s('text', { x: labelW - 6, y: y + 15, class: 'label', 'text-anchor': 'end' }, p.label));
    svg.append(s('rect', { x: labelW, y: y + 4, width: w, height: 14, class: p.label === highlight ? 'bar-total' : 'bar-score' }));
    svg.append(s('text', { x: labelW + w + 6, y: y + 15, class: 'value' }, fmt.score(p.value)));
  });
  return svg;
}

// One step's place on the execution's timeline: a bar from `start` for
// `length`, both as fractions of the execution's span.
export function timelineBar(start, length, status, label) {
  const svg = s('svg', { viewBox: '0 0 1000 12', preserveAspectRatio: 'none', class: 'timeline-bar', 'aria-hidden': 'true' });
  svg.append(s('rect', { x: 0, y: 0, width: 1000, height: 12, class: 'track' }));
  const x = Math.min(1000, Math.max(0, start * 1000));
  const w = Math.max(3, Math.min(1000 - x, length * 1000));
  svg.append(s('rect', { x, y: 0, width: w, height: 12, class: `span span-${status}` }, s('title', {}, label)));
  return svg;
}
