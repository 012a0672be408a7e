// #/ — the execution list: filters (kept in the address, so a filtered list
// can be shared), newest first with cursor paging, live updates from the
// event stream, and two rows picked for comparison.

import { api } from '../api.js';
import { h, field, select, badge, errorBox, replace } from '../dom.js';
import * as fmt from '../format.js';
import { href, navigate } from '../router.js';
import { subscribe } from '../live.js';

const FILTER_KEYS = ['app', 'pipeline', 'status', 'environment', 'since', 'until', 'q'];

// Filters from the address: the API's own parameter names.
function readFilters(params) {
  const f = { meta: {} };
  for (const k of FILTER_KEYS) f[k] = params.get(k) || '';
  for (const [k, v] of params) if (k.startsWith('meta.')) f.meta[k.slice(5)] = v;
  return f;
}

function filtersToParams(f) {
  const p = {};
  for (const k of FILTER_KEYS) if (f[k]) p[k] = f[k];
  for (const [k, v] of Object.entries(f.meta)) p[`meta.${k}`] = v;
  return p;
}

// "key=value; key2=value2" ↔ {key: value}.
function parseMeta(text) {
  const meta = {};
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) meta[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return meta;
}
const formatMeta = (meta) => Object.entries(meta).map(([k, v]) => `${k}=${v}`).join('; ');

// datetime-local (browser time) ↔ ISO 8601 UTC.
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const off = d.getTimezoneOffset() * 60000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}
const fromLocalInput = (v) => (v ? new Date(v).toISOString() : '');

const keyOf = (e) => `${e.app}\u0000${e.id}`;

export function renderList(outlet, { params }) {
  const filters = readFilters(params);
  let stopLive = null;
  let cursor = null;
  const rows = new Map();         // key → <tr>
  const picked = new Map();       // key → {app, id}, for comparison

  // ---- filter form
  const appSel = select({ name: 'app', testid: 'filter-app' }, [['', 'All apps']], filters.app);
  const pipeSel = select({ name: 'pipeline', testid: 'filter-pipeline' }, [['', 'All pipelines']], filters.pipeline);
  const statusSel = select({ name: 'status', testid: 'filter-status' },
    [['', 'Any status'], ['completed', 'completed'], ['failed', 'failed'], ['running', 'running']], filters.status);
  const envIn = h('input', { name: 'environment', value: filters.environment, placeholder: 'any', size: 8 });
  const sinceIn = h('input', { type: 'datetime-local', name: 'since', value: toLocalInput(filters.since) });
  const untilIn = h('input', { type: 'datetime-local', name: 'until', value: toLocalInput(filters.until) });
  const metaIn = h('input', { name: 'meta', value: formatMeta(filters.meta), placeholder: 'productId=B0C1234567', size: 22, testid: 'filter-meta' });
  const qIn = h('input', { type: 'search', name: 'q', value: filters.q, placeholder: 'text in a step’s reasoning', size: 22, testid: 'filter-q' });

  const form = h('form', { class: 'filters', testid: 'filters', 'aria-label': 'Filter executions' },
    field('App', appSel), field('Pipeline', pipeSel), field('Status', statusSel), field('Environment', envIn),
    field('Started after', sinceIn), field('Started before', untilIn), field('Metadata', metaIn),
    field('Reasoning contains', qIn),
    h('div', { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'primary', testid: 'apply-filters' }, 'Apply'),
      h('a', { href: '#/', class: 'button' }, 'Reset')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const next = {
      app: appSel.value, pipeline: pipeSel.value, status: statusSel.value, environment: envIn.value.trim(),
      since: fromLocalInput(sinceIn.value), until: fromLocalInput(untilIn.value), q: qIn.value.trim(),
      meta: parseMeta(metaIn.value),
    };
    navigate(href([], filtersToParams(next)));
  });
  // Choosing from a menu applies at once; typed filters wait for Apply/Enter.
  for (const el of [appSel, pipeSel, statusSel]) el.addEventListener('change', () => form.requestSubmit());

  api.pipelines().then(({ pipelines }) => {
    const apps = [...new Set(pipelines.map((p) => p.app))].sort();
    const pipes = [...new Set(pipelines.filter((p) => !filters.app || p.app === filters.app).map((p) => p.pipeline))].sort();
    replace(appSel, [...select({}, [['', 'All apps'], ...apps.map((a) => [a, a])], filters.app).children]);
    replace(pipeSel, [...select({}, [['', 'All pipelines'], ...pipes.map((p) => [p, p])], filters.pipeline).children]);
    appSel.value = filters.app;
    pipeSel.value = filters.pipeline;
  }).catch(() => { /* the menus stay minimal; the list itself reports errors */ });

  // ---- table
  const tbody = h('tbody', {});
  const status = h('p', { class: 'muted', role: 'status', testid: 'list-status' }, 'Loading…');
  const more = h('button', { type: 'button', hidden: true, testid: 'load-more', onclick: () => load() }, 'Load more');
  const compareBtn = h('button', { type: 'button', class: 'primary', disabled: true, testid: 'compare-selected', onclick: () => {
    const [a, b] = [...picked.values()];
    navigate(a.app === b.app ? href(['compare', a.app, a.id, b.id]) : href(['compare', a.app, a.id, b.app, b.id]));
  } }, 'Compare selected');
  const liveState = h('span', { class: 'live live-connecting', testid: 'live-state' }, 'connecting…');
  const pendingNote = h('span', { class: 'muted', testid: 'live-new' });

  const table = h('table', { class: 'data executions', testid: 'executions-table' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'narrow' }, h('span', { class: 'sr-only' }, 'Pick to compare')),
      h('th', { scope: 'col' }, 'Started'), h('th', { scope: 'col' }, 'Status'),
      h('th', { scope: 'col' }, 'Pipeline'), h('th', { scope: 'col' }, 'App'),
      h('th', { scope: 'col' }, 'Env'), h('th', { scope: 'col', class: 'num' }, 'Duration'),
      h('th', { scope: 'col', class: 'num' }, 'Steps'), h('th', { scope: 'col' }, 'Metadata'),
      h('th', { scope: 'col' }, 'Execution'))),
    tbody);

  const updatePicked = () => {
    compareBtn.disabled = picked.size !== 2;
    compareBtn.textContent = picked.size ? `Compare selected (${picked.size}/2)` : 'Compare selected';
  };

  function metaSummary(meta) {
    if (!meta || typeof meta !== 'object') return '';
    return fmt.orderKeys(Object.keys(meta), meta).map((k) => `${k}: ${fmt.scalar(meta[k], 60)}`).join(' · ');
  }

  function makeRow(e) {
    const key = keyOf(e);
    const link = href(['execution', e.app, e.id]);
    const box = h('input', { type: 'checkbox', 'aria-label': `Pick ${e.id} for comparison`, checked: picked.has(key),
      testid: 'pick', onchange: (ev) => {
        if (ev.target.checked) {
          if (picked.size >= 2) {
            ev.target.checked = false;
            return;
          }
          picked.set(key, { app: e.app, id: e.id });
        } else {
          picked.delete(key);
        }
        updatePicked();
      } });
    const meta = metaSummary(e.metadata);
    const tr = h('tr', { testid: 'execution-row', dataset: { id: e.id, app: e.app, status: e.status, started: e.started_at } },
      h('td', { class: 'narrow' }, box),
      h('td', { class: 'nowrap', title: e.started_at }, fmt.time(e.started_at)),
      h('td', {}, badge(e.status)),
      h('td', {}, e.pipeline),
      h('td', {}, e.app),
      h('td', {}, e.environment ?? '—'),
      h('td', { class: 'num' }, fmt.duration(e.duration_ms)),
      h('td', { class: 'num' }, e.step_count ?? '—'),
      h('td', { class: 'meta-cell', title: meta }, meta),
      h('td', { class: 'nowrap' }, h('a', { href: link, title: e.id, testid: 'execution-link' }, fmt.shortId(e.id))));
    // The whole row opens the execution; the checkbox and the link keep their own behaviour.
    tr.addEventListener('click', (ev) => {
      if (ev.target.closest('input, a, button')) return;
      navigate(link);
    });
    return tr;
  }

  // Inserts a row keeping newest-first order (rows carry data-started).
  function insertSorted(tr, startedAt) {
    for (const other of tbody.children) {
      if (other.dataset.started < startedAt) {
        tbody.insertBefore(tr, other);
        return;
      }
    }
    tbody.append(tr);
  }

  function showCount() {
    status.textContent = rows.size
      ? `${rows.size} execution${rows.size === 1 ? '' : 's'} shown${cursor ? ' (more available)' : ''}`
      : 'No executions match these filters.';
  }

  async function load() {
    more.disabled = true;
    try {
      const data = await api.executions({ ...filters, limit: 50, cursor });
      for (const e of data.executions) {
        if (rows.has(keyOf(e))) continue;
        const tr = makeRow(e);
        rows.set(keyOf(e), tr);
        tbody.append(tr);
      }
      cursor = data.next_cursor;
      more.hidden = !cursor;
      showCount();
    } catch (err) {
      replace(status, errorBox(err));
    } finally {
      more.disabled = false;
    }
  }

  // Live: on each event, re-read the first page with the same filters (the
  // server applies every filter) and merge what is new or changed.
  let paused = false;
  let pending = 0;
  let refreshTimer = null;
  async function refreshTop() {
    refreshTimer = null;
    try {
      const data = await api.executions({ ...filters, limit: 50 });
      let added = 0;
      for (const e of data.executions) {
        const key = keyOf(e);
        const tr = makeRow(e);
        const old = rows.get(key);
        if (old) {
          if (old.dataset.status !== e.status) old.replaceWith(tr);
          else continue;
        } else {
          insertSorted(tr, e.started_at);
          added++;
        }
        tr.classList.add('fresh');
        rows.set(key, tr);
      }
      if (added) showCount();
    } catch {
      /* the next event retries */
    }
  }
  const onExecution = () => {
    if (paused) {
      pending++;
      pendingNote.textContent = `${pending} new event${pending === 1 ? '' : 's'} while paused`;
      return;
    }
    if (!refreshTimer) refreshTimer = setTimeout(refreshTop, 400);
  };
  const pauseBox = h('input', { type: 'checkbox', testid: 'live-pause', onchange: (ev) => {
    paused = ev.target.checked;
    if (!paused && pending) {
      pending = 0;
      pendingNote.textContent = '';
      refreshTop();
    }
  } });
  const LIVE_TEXT = { connecting: 'connecting…', live: 'live', retrying: 'reconnecting…', unavailable: 'live updates unavailable' };
  stopLive = subscribe(api.streamUrl({ app: filters.app, pipeline: filters.pipeline }), {
    onExecution,
    onLagged: () => onExecution(),
    onState: (st) => {
      liveState.className = `live live-${st}`;
      liveState.textContent = LIVE_TEXT[st];
    },
  });

  outlet.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Executions'),
      h('div', { class: 'toolbar' }, liveState,
        h('label', { class: 'inline' }, pauseBox, ' Pause live updates'), pendingNote, compareBtn)),
    form, status, h('div', { class: 'table-wrap' }, table), more);
  load();

  return () => {
    if (stopLive) stopLive();
    clearTimeout(refreshTimer);
  };
}
