// One step's candidate table: every evaluation with passed/failed, its
// reasons, scores (a sortable column each) and metadata; a "rejected only"
// toggle, a text filter, and the reasons grouped by rule as filter chips.
// candidateTable(step, {selectedId}) → {element, highlight(id) → row|null}.

import { h, badge, replace } from '../dom.js';
import * as fmt from '../format.js';

const PAGE = 200;

// "price 49.99 > 46.19" → "price"; "category 'X' outside…" → "category".
function ruleOf(reason) {
  const m = /^[^\s:(]+/.exec(reason.trim());
  return m ? m[0].toLowerCase() : reason;
}

function metaText(meta, skip = []) {
  if (!meta || typeof meta !== 'object') return '';
  return Object.entries(meta).filter(([k]) => !skip.includes(k)).map(([k, v]) => `${k}: ${fmt.scalar(v, 70)}`).join(' · ');
}

// Metadata keys that most candidates carry with a plain value get a column
// of their own (title, category, price…); the rest share a Details column.
function metaColumns(evaluations) {
  const counts = new Map();
  for (const e of evaluations) {
    if (!e.metadata || typeof e.metadata !== 'object') continue;
    for (const [k, v] of Object.entries(e.metadata)) {
      if (v === null || typeof v !== 'object') counts.set(k, (counts.get(k) || 0) + 1);
    }
  }
  const keys = [...counts.entries()].filter(([, n]) => n >= evaluations.length / 2).map(([k]) => k);
  return fmt.orderKeys(keys, ...evaluations.slice(0, 20).map((e) => e.metadata)).slice(0, 6);
}

// Score columns: the parts alphabetically, a total or score last.
function orderScores(keys) {
  const last = (k) => ['total', 'score', 'totalScore', 'final'].includes(k);
  return [...keys].sort((a, b) => last(a) - last(b) || a.localeCompare(b));
}

export function candidateTable(step, { selectedId } = {}) {
  const evaluations = step.evaluations || [];
  const seenScores = new Set();
  for (const e of evaluations) {
    if (e.scores && typeof e.scores === 'object') Object.keys(e.scores).forEach((k) => seenScores.add(k));
  }
  const scoreKeys = orderScores(seenScores).slice(-8);
  const metaKeys = metaColumns(evaluations);
  const hasMeta = evaluations.some((e) => e.metadata && Object.keys(e.metadata).some((k) => !metaKeys.includes(k)));
  const failedCount = evaluations.filter((e) => e.passed === false).length;
  const passedCount = evaluations.filter((e) => e.passed === true).length;

  const state = { rejectedOnly: false, text: '', sort: { key: 'position', dir: 1 }, limit: PAGE, highlight: null };

  // ---- controls
  const rejected = h('input', { type: 'checkbox', testid: 'rejected-only', onchange: (ev) => {
    state.rejectedOnly = ev.target.checked;
    draw();
  } });
  const filterIn = h('input', { type: 'search', placeholder: 'filter by id, reason, metadata', size: 26,
    'aria-label': `Filter the candidates of step ${step.index}`, testid: 'candidate-filter',
    oninput: (ev) => {
      state.text = ev.target.value.trim().toLowerCase();
      draw();
    } });
  const shownNote = h('span', { class: 'muted', role: 'status', testid: 'candidate-count' });

  const rules = new Map();
  for (const e of evaluations) {
    if (e.passed !== false) continue;
    for (const r of new Set((e.reasons || []).map(ruleOf))) rules.set(r, (rules.get(r) || 0) + 1);
  }
  const chips = h('div', { class: 'chips', testid: 'reason-chips', 'aria-label': 'Rejections by rule' },
    rules.size ? h('span', { class: 'muted' }, 'Failed by rule:') : null,
    [...rules.entries()].sort((a, b) => b[1] - a[1]).map(([rule, n]) => h('button', {
      type: 'button', class: 'chip', title: `Show the candidates that failed “${rule}”`,
      onclick: () => {
        filterIn.value = rule;
        state.text = rule;
        rejected.checked = true;
        state.rejectedOnly = true;
        draw();
      },
    }, `${rule} `, h('strong', {}, String(n)))));

  // ---- table
  const sortButton = (label, key) => h('button', { type: 'button', class: 'sort', onclick: (ev) => {
    state.sort = state.sort.key === key ? { key, dir: -state.sort.dir } : { key, dir: key.startsWith('score:') ? -1 : 1 };
    for (const b of thead.querySelectorAll('th')) b.removeAttribute('aria-sort');
    ev.target.closest('th').setAttribute('aria-sort', state.sort.dir > 0 ? 'ascending' : 'descending');
    draw();
  } }, label);
  const headCells = [
    h('th', { scope: 'col', class: 'num' }, sortButton('#', 'position')),
    h('th', { scope: 'col' }, sortButton('Candidate', 'id')),
    h('th', { scope: 'col' }, sortButton('Result', 'passed')),
    h('th', { scope: 'col' }, 'Reasons'),
    ...scoreKeys.map((k) => h('th', { scope: 'col', class: 'num' }, sortButton(k, `score:${k}`))),
    ...metaKeys.map((k) => h('th', { scope: 'col' }, sortButton(k, `meta:${k}`))),
    hasMeta ? h('th', { scope: 'col' }, 'Details') : null,
  ];
  const thead = h('thead', {}, h('tr', {}, headCells));
  const tbody = h('tbody', {});
  const moreBtn = h('button', { type: 'button', hidden: true, onclick: () => {
    state.limit = Infinity;
    draw();
  } });

  function sortValue(e, key) {
    if (key === 'position') return e.position;
    if (key === 'id') return String(e.candidate_id);
    if (key === 'passed') return e.passed === true ? 1 : e.passed === false ? 0 : 0.5;
    if (key.startsWith('meta:')) {
      const m = e.metadata ? e.metadata[key.slice(5)] : undefined;
      return m === undefined || m === null ? '' : m;
    }
    const v = e.scores ? e.scores[key.slice(6)] : undefined;
    return typeof v === 'number' ? v : -Infinity;
  }

  function matches(e) {
    if (state.highlight && String(e.candidate_id) === state.highlight) return true;
    if (state.rejectedOnly && e.passed !== false) return false;
    if (!state.text) return true;
    const hay = [e.candidate_id, ...(e.reasons || []), metaText(e.metadata)].join(' ').toLowerCase();
    return hay.includes(state.text);
  }

  function row(e) {
    const id = String(e.candidate_id);
    const isSelected = selectedId != null && id === selectedId;
    const result = e.passed === true ? 'passed' : e.passed === false ? 'failed' : 'no verdict';
    return h('tr', {
      testid: 'candidate-row',
      class: [e.passed === false ? 'row-failed' : '', isSelected ? 'row-selected' : '', state.highlight === id ? 'highlight' : ''],
      dataset: { candidate: id, passed: String(e.passed) },
    },
    h('td', { class: 'num muted' }, e.position),
    h('td', { class: 'nowrap mono' }, id, isSelected ? h('span', { class: 'tag tag-selected' }, 'selected') : null),
    h('td', {}, badge(result)),
    h('td', { testid: 'reasons' }, (e.reasons || []).length
      ? h('ul', { class: 'reasons' }, e.reasons.map((r) => h('li', {}, r)))
      : h('span', { class: 'muted' }, e.passed === false ? 'no reason recorded' : '')),
    ...scoreKeys.map((k) => h('td', { class: 'num' }, e.scores && k in e.scores ? fmt.score(e.scores[k]) : '')),
    ...metaKeys.map((k) => {
      const v = e.metadata ? e.metadata[k] : undefined;
      return h('td', { class: typeof v === 'number' ? 'num' : 'meta-col', testid: `meta-${k}` }, v === undefined ? '' : fmt.scalar(v, 90));
    }),
    hasMeta ? h('td', { class: 'meta-cell wrap' }, metaText(e.metadata, metaKeys)) : null);
  }

  function draw() {
    const { key, dir } = state.sort;
    const list = evaluations.filter(matches).sort((a, b) => {
      const va = sortValue(a, key);
      const vb = sortValue(b, key);
      return (va < vb ? -1 : va > vb ? 1 : 0) * dir || a.position - b.position;
    });
    const visible = list.slice(0, state.limit);
    replace(tbody, visible.map(row));
    moreBtn.hidden = list.length <= visible.length;
    moreBtn.textContent = `Show all ${list.length}`;
    shownNote.textContent = `showing ${visible.length} of ${evaluations.length}`;
  }
  draw();

  const element = h('div', { class: 'candidates', testid: 'candidate-table', dataset: { step: String(step.index) } },
    h('div', { class: 'candidates-head' },
      h('h3', {}, `Candidates: ${fmt.number(evaluations.length)} evaluated, `,
        h('span', { class: 'ok-text' }, `${fmt.number(passedCount)} passed`), ', ',
        h('span', { class: 'fail-text' }, `${fmt.number(failedCount)} failed`)),
      h('div', { class: 'toolbar' }, h('label', { class: 'inline' }, rejected, ' Rejected only'), filterIn, shownNote)),
    chips,
    step.evaluations_truncated
      ? h('p', { class: 'warn-box' }, `Only the first ${fmt.number(evaluations.length)} evaluations are shown (the step recorded more).`)
      : null,
    h('div', { class: 'table-wrap' }, h('table', { class: 'data candidates-table' }, thead, tbody)),
    moreBtn);

  // Marks candidate `id` (null clears), making sure its row is drawn; returns the row.
  function highlight(id) {
    state.highlight = id;
    draw();
    return id == null ? null : tbody.querySelector('tr.highlight');
  }

  return { element, highlight };
}
