// #/insights — the two headline questions, across executions:
// which steps eliminated more than a share of their candidates, and which
// candidates failed a given rule, with the reasons. Each answer links to
// the execution (and the candidate within it).

import { api } from '../api.js';
import { h, field, errorBox, replace } from '../dom.js';
import * as fmt from '../format.js';
import { href, navigate } from '../router.js';

export function renderInsights(outlet, { params }) {
  outlet.append(h('h1', {}, 'Insights'),
    eliminations(params), failedCandidates(params));
}

// A paged result table: fetch(cursor) → {rows, next}; row(item) → <tr>.
function pagedTable(headers, fetchPage, row, testid) {
  const tbody = h('tbody', {});
  const note = h('p', { class: 'muted', role: 'status' });
  let cursor = null;
  const more = h('button', { type: 'button', hidden: true, onclick: () => load() }, 'Load more');
  async function load() {
    more.disabled = true;
    try {
      const { rows, next } = await fetchPage(cursor);
      rows.forEach((r) => tbody.append(row(r)));
      cursor = next;
      more.hidden = !cursor;
      note.textContent = tbody.children.length ? `${tbody.children.length} shown${cursor ? ' (more available)' : ''}` : 'Nothing matches.';
    } catch (err) {
      replace(note, errorBox(err));
    } finally {
      more.disabled = false;
    }
  }
  load();
  return h('div', {}, note, h('div', { class: 'table-wrap' }, h('table', { class: 'data', testid },
    h('thead', {}, h('tr', {}, headers.map(([t, cls]) => h('th', { scope: 'col', class: cls }, t)))), tbody)), more);
}

function eliminations(params) {
  const minRatio = params.get('min_ratio') || '0.9';
  const app = params.get('e_app') || '';
  const pipeline = params.get('e_pipeline') || '';
  const step = params.get('e_step') || '';
  const ratioIn = h('input', { type: 'number', min: 0, max: 1, step: 0.01, value: minRatio, testid: 'min-ratio' });
  const appIn = h('input', { value: app, size: 16, placeholder: 'any' });
  const pipeIn = h('input', { value: pipeline, size: 16, placeholder: 'any' });
  const stepIn = h('input', { value: step, size: 14, placeholder: 'any' });
  const form = h('form', { class: 'filters' }, field('Eliminated more than', ratioIn, 'share, 0–1'),
    field('App', appIn), field('Pipeline', pipeIn), field('Step', stepIn), h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Ask')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = Object.fromEntries(params);
    navigate(href(['insights'], { ...p, min_ratio: ratioIn.value, e_app: appIn.value.trim(), e_pipeline: pipeIn.value.trim(), e_step: stepIn.value.trim() }));
  });
  const table = pagedTable([['Started'], ['App / pipeline'], ['Step'], ['In → passed', 'num'], ['Eliminated', 'num'], ['Execution']],
    async (cursor) => {
      const d = await api.eliminations({ min_ratio: minRatio, app, pipeline, step, limit: 50, cursor });
      return { rows: d.steps, next: d.next_cursor };
    },
    (r) => h('tr', { testid: 'elimination-row' },
      h('td', { class: 'nowrap' }, fmt.time(r.started_at)), h('td', {}, `${r.app} / ${r.pipeline}`),
      h('td', {}, `${r.index} ${r.name}`), h('td', { class: 'num' }, `${r.candidates_in} → ${r.candidates_passed}`),
      h('td', { class: 'num' }, fmt.percent(r.eliminated_ratio, 1)),
      h('td', {}, h('a', { href: href(['execution', r.app, r.execution_id]), title: r.execution_id }, fmt.shortId(r.execution_id)))),
    'eliminations-table');
  return h('section', { class: 'panel', testid: 'insight-eliminations' },
    h('h2', {}, 'Which steps eliminated most of their candidates?'), form, table);
}

function failedCandidates(params) {
  const reason = params.get('reason') || '';
  const app = params.get('f_app') || '';
  const pipeline = params.get('f_pipeline') || '';
  const step = params.get('f_step') || '';
  const reasonIn = h('input', { value: reason, size: 16, placeholder: 'e.g. rating', required: true, testid: 'reason-input' });
  const appIn = h('input', { value: app, size: 16, placeholder: 'any' });
  const pipeIn = h('input', { value: pipeline, size: 16, placeholder: 'any' });
  const stepIn = h('input', { value: step, size: 14, placeholder: 'any' });
  const form = h('form', { class: 'filters' }, field('Reason contains', reasonIn),
    field('App', appIn), field('Pipeline', pipeIn), field('Step', stepIn), h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Ask')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = Object.fromEntries(params);
    navigate(href(['insights'], { ...p, reason: reasonIn.value.trim(), f_app: appIn.value.trim(), f_pipeline: pipeIn.value.trim(), f_step: stepIn.value.trim() }));
  });
  const section = h('section', { class: 'panel', testid: 'insight-failed' },
    h('h2', {}, 'Which candidates failed a rule, and why?'), form);
  if (!reason) {
    section.append(h('p', { class: 'muted' }, 'Enter part of a reason (for example “rating” or “category”).'));
    return section;
  }
  section.append(pagedTable([['App / pipeline'], ['Step'], ['Candidate'], ['Reasons'], ['Execution']],
    async (cursor) => {
      const d = await api.failedCandidates({ reason, app, pipeline, step, limit: 50, cursor });
      return { rows: d.candidates, next: d.next_cursor };
    },
    (r) => h('tr', { testid: 'failed-candidate-row' },
      h('td', {}, `${r.app} / ${r.pipeline}`), h('td', {}, `${r.step_index} ${r.step_name}`),
      h('td', { class: 'mono' }, h('a', { href: href(['execution', r.app, r.execution_id], { candidate: r.candidate_id }) }, r.candidate_id)),
      h('td', {}, h('ul', { class: 'reasons' }, (r.reasons || []).map((x) => h('li', {}, x)))),
      h('td', {}, h('a', { href: href(['execution', r.app, r.execution_id]), title: r.execution_id }, fmt.shortId(r.execution_id)))),
    'failed-candidates-table'));
  return section;
}
