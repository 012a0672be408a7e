// Formatting of durations, times, numbers and short ids for display.

export function duration(ms) {
  if (ms == null || Number.isNaN(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60000);
  const sec = Math.round((ms % 60000) / 1000);
  return `${m}m ${String(sec).padStart(2, '0')}s`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// "2026-11-22 10:00:00" in the browser's time zone.
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// Time with milliseconds, for step starts.
export function timeMs(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${time(iso)}.${pad(d.getMilliseconds(), 3)}`;
}

export function number(n, digits = 0) {
  if (n == null || Number.isNaN(n)) return '—';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function percent(ratio, digits = 0) {
  if (ratio == null || Number.isNaN(ratio)) return '—';
  return `${(ratio * 100).toFixed(digits)}%`;
}

// Ids are often UUIDs: the last 12 characters tell them apart in a list.
export function shortId(id) {
  const text = String(id);
  return text.length > 14 ? `…${text.slice(-12)}` : text;
}

// A JSON value as one short line ("laptop stand", 4.6, {…3}).
export function scalar(v, max = 80) {
  let text;
  if (v === null || v === undefined) text = 'null';
  else if (typeof v === 'string') text = v;
  else if (Array.isArray(v)) text = v.every((x) => typeof x !== 'object' || x === null) ? v.join(', ') : `[${v.length} items]`;
  else if (typeof v === 'object') text = `{${Object.keys(v).length} keys}`;
  else text = String(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// Score values are small fractions in most pipelines: three decimals.
export function score(v) {
  if (typeof v !== 'number') return scalar(v);
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

// Candidate counts of a step: "50 → 12" (null when the step evaluated none).
export function funnel(step) {
  if (step.candidates_in == null) return null;
  return `${number(step.candidates_in)} → ${number(step.candidates_passed)}`;
}

export function eliminatedRatio(step) {
  if (!step.candidates_in) return null;
  return 1 - step.candidates_passed / step.candidates_in;
}

// A share of candidates eliminated: "−62%", or "0%" when none were.
export function eliminated(ratio) {
  if (ratio == null) return '';
  return ratio > 0 ? `−${percent(ratio)}` : '0%';
}

// Keys of a recorded object in reading order. PostgreSQL's jsonb does not
// keep the order the application wrote (it sorts keys by length), so: ids
// first, then names and titles, other text, then numbers and the rest;
// alphabetical within each group. `values` are sample objects for the types.
const FIRST = ['id', 'candidate_id', 'candidateId', 'name', 'title', 'label'];
export function orderKeys(keys, ...samples) {
  const kind = (k) => {
    const i = FIRST.indexOf(k);
    if (i >= 0) return i;
    const v = samples.map((o) => (o && typeof o === 'object' ? o[k] : undefined)).find((x) => x !== undefined && x !== null);
    return typeof v === 'string' ? FIRST.length : FIRST.length + 1;
  };
  return [...keys].sort((a, b) => kind(a) - kind(b) || a.localeCompare(b));
}
