// #/execution/<app>/<id> — one execution: its header, the decision (the
// selection, its reason and score breakdown), "why not this one?", the
// timeline of steps with durations as bars and candidate counts, and every
// step with its reasoning, collapsible JSON and candidate table.

import { api } from '../api.js';
import { h, badge, errorBox, loading, replace } from '../dom.js';
import * as fmt from '../format.js';
import { href, navigate, replaceHash, parseHash } from '../router.js';
import { subscribe } from '../live.js';
import { jsonSection, jsonView } from '../json_view.js';
import { timelineBar, scoreBars } from '../charts.js';
import { selectionOf, allCandidateIds, rankKey, trace } from '../trace.js';
import { candidateTable } from './candidate_table.js';

export function renderExecution(outlet, { args }) {
  const { app, id } = args;
  outlet.append(h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: '#/' }, 'Executions'), ' › ', h('span', { class: 'mono' }, id)));
  const liveNote = h('p', { class: 'live live-connecting', hidden: true, testid: 'execution-live' });
  const body = h('div', {}, loading());
  outlet.append(liveNote, body);
  let alive = true;
  let stopLive = null;
  const load = () => api.execution(app, id).then((data) => {
    if (!alive) return;
    // The trace asked for last (kept in the address) survives a redraw.
    replace(body, page(data, parseHash().params));
    const running = data.execution.status === 'running';
    liveNote.hidden = !running;
    // A running execution is redrawn each time a newer snapshot of it is committed.
    if (running && !stopLive) {
      stopLive = subscribe(api.streamUrl({ app, pipeline: data.execution.pipeline }), {
        onExecution: (e) => { if (e.id === id) load(); },
        onState: (st) => {
          liveNote.className = `live live-${st}`;
          liveNote.textContent = st === 'live' ? 'Running: this page updates when the execution sends its next snapshot.'
            : 'Running: waiting for the live connection…';
        },
      });
    } else if (!running && stopLive) {
      stopLive();
      stopLive = null;
    }
  }).catch((err) => {
    if (alive) replace(body, errorBox(err));
  });
  load();
  return () => {
    alive = false;
    if (stopLive) stopLive();
  };
}

function page({ execution: ex, steps }, params) {
  const selection = selectionOf(steps);
  const tables = new Map();   // step index → {element, highlight}
  const cards = new Map();    // step index → <details>

  // ---- header
  const header = h('section', { class: 'exec-head', testid: 'execution-header' },
    h('div', { class: 'page-head' },
      h('h1', {}, ex.pipeline, ' ', badge(ex.status)),
      h('div', { class: 'toolbar' }, compareControls(ex))),
    h('dl', { class: 'facts' },
      fact('App', ex.app), fact('Execution', h('span', { class: 'mono', testid: 'execution-id' }, ex.id)),
      fact('Environment', ex.environment ?? '—'), fact('Started', fmt.timeMs(ex.started_at)),
      fact('Duration', fmt.duration(ex.duration_ms)), fact('Steps', String(steps.length)),
      ...fmt.orderKeys(Object.keys(ex.metadata || {}), ex.metadata).map((k) => fact(k, fmt.scalar(ex.metadata[k], 120), 'meta'))),
    ex.error != null ? h('div', { class: 'error-box', testid: 'execution-error' },
      h('strong', {}, 'Execution error: '), errorText(ex.error)) : null);

  // ---- the decision
  const decision = h('section', { class: 'panel decision', testid: 'selection' }, h('h2', {}, 'Decision'));
  if (selection) {
    const v = selection.value;
    decision.append(h('p', { class: 'muted' }, `Selected at step ${selection.step.index} “${selection.step.name}”`));
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      decision.append(h('dl', { class: 'facts facts-tight' },
        fmt.orderKeys(Object.keys(v), v).map((k) => fact(k, fmt.scalar(v[k], 140)))));
    } else {
      decision.append(jsonView(v));
    }
    if (selection.step.reasoning) {
      decision.append(h('p', { class: 'reasoning', testid: 'selection-reason' }, h('strong', {}, 'Why: '), selection.step.reasoning));
    }
    const breakdown = scoreBreakdown(steps, selection);
    if (breakdown) {
      decision.append(h('h3', {}, `Score breakdown in step ${breakdown.step.index} “${breakdown.step.name}”`),
        scoreBars(breakdown.parts, { testid: 'score-breakdown', highlight: breakdown.totalKey }));
    }
    if (selection.candidateId) {
      decision.append(h('button', { type: 'button', testid: 'trace-selected', onclick: () => runTrace(selection.candidateId) },
        `Trace ${selection.candidateId} through the steps`));
    }
  } else {
    const failedStep = steps.find((st) => st.status === 'failed');
    decision.append(h('p', { class: ex.status === 'failed' ? 'fail-text' : 'muted' },
      ex.status === 'failed'
        ? `Nothing was selected: the execution failed${failedStep ? ` at step ${failedStep.index} “${failedStep.name}”` : ''}.`
        : 'No step recorded a selection.'));
    if (ex.result != null) decision.append(h('h3', {}, 'Result'), jsonView(ex.result));
  }

  // ---- why not this one?
  const ids = allCandidateIds(steps);
  const listId = 'candidate-ids';
  const whyIn = h('input', { type: 'search', list: listId, placeholder: 'candidate id', size: 18,
    'aria-label': 'Candidate id', testid: 'why-not-input', value: params.get('candidate') || '' });
  const whyOut = h('div', { class: 'why-result', role: 'status', testid: 'why-not-result' });
  const whyForm = h('form', { class: 'inline-form' }, whyIn,
    h('button', { type: 'submit', class: 'primary', testid: 'why-not-button' }, 'Why not this one?'));
  whyForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    runTrace(whyIn.value);
  });
  const picks = quickPicks(steps, selection);
  const why = h('section', { class: 'panel why', testid: 'why-not' },
    h('h2', {}, 'Why not this one?'),
    h('p', { class: 'muted' }, `Find a candidate by id (${fmt.number(ids.length)} evaluated in this run): where it was eliminated and why.`),
    whyForm, h('datalist', { id: listId }, ids.slice(0, 2000).map((x) => h('option', { value: x }))),
    picks.length ? h('p', { class: 'quick-picks' }, h('span', { class: 'muted' }, 'Try: '), picks.map(([cid, label], i) => [i ? ' · ' : '',
      h('button', { type: 'button', class: 'link-button', onclick: () => runTrace(cid) }, h('span', { class: 'mono' }, cid), ` (${label})`)])) : null,
    whyOut);

  function runTrace(query) {
    const q = String(query || '').trim();
    for (const t of tables.values()) t.highlight(null);
    if (!q) {
      replace(whyOut);
      replaceHash(href(['execution', ex.app, ex.id]));
      return;
    }
    whyIn.value = q;
    replaceHash(href(['execution', ex.app, ex.id], { candidate: q }));
    const result = trace(steps, q);
    const verdict = result.verdict;
    replace(whyOut,
      h('p', { class: `verdict verdict-${verdict.kind}`, testid: 'why-not-verdict', dataset: { kind: verdict.kind } }, verdict.text),
      result.appearances.length ? h('ol', { class: 'trail', testid: 'why-not-trail' }, result.appearances.map((a) => h('li', {},
        h('a', { href: `#step-${a.step.index}`, onclick: (ev) => {
          ev.preventDefault();
          reveal(a.step.index, result.id);
        } }, `step ${a.step.index} ${a.step.name}`), ': ',
        a.evaluation.passed === false ? h('span', { class: 'fail-text' }, `failed — ${(a.evaluation.reasons || []).join('; ') || 'no reason recorded'}`)
          : a.evaluation.passed === true ? h('span', { class: 'ok-text' }, 'passed') : 'no verdict',
        a.ranking ? ` · rank ${a.ranking.rank} of ${a.ranking.of} by ${a.ranking.key} (${fmt.score(a.ranking.value)})` : '',
        a.evaluation.metadata ? h('span', { class: 'muted' }, ` · ${fmt.orderKeys(Object.keys(a.evaluation.metadata), a.evaluation.metadata)
          .map((k) => `${k}: ${fmt.scalar(a.evaluation.metadata[k], 60)}`).join(', ')}`) : ''))) : null,
      result.suggestions.length ? h('p', {}, 'Ids containing it: ', result.suggestions.map((s, i) => [i ? ', ' : '',
        h('button', { type: 'button', class: 'link-button mono', onclick: () => runTrace(s) }, s)])) : null);
    for (const a of result.appearances) {
      tables.get(a.step.index)?.highlight(result.id);
      cards.get(a.step.index).open = true;
    }
    if (verdict.step && !result.appearances.length) cards.get(verdict.step.index).open = true;
    whyOut.scrollIntoView({ block: 'nearest' });
  }

  function reveal(index, candidate) {
    const card = cards.get(index);
    card.open = true;
    const rowEl = candidate ? tables.get(index)?.highlight(candidate) : null;
    (rowEl || card).scrollIntoView({ block: 'center' });
  }

  // ---- timeline
  const timeline = timelineSection(ex, steps, (index) => reveal(index));

  // ---- steps
  const stepList = h('div', { class: 'steps' });
  for (const st of steps) {
    const card = stepCard(st, steps.length <= 8 || st.status !== 'completed');
    cards.set(st.index, card);
    if ((st.evaluations || []).length) {
      const t = candidateTable(st, { selectedId: selection ? selection.candidateId : null });
      tables.set(st.index, t);
      card.append(t.element);
    }
    stepList.append(card);
  }

  const root = h('div', { class: 'execution' }, header,
    h('div', { class: 'two-col' }, decision, why), timeline,
    h('h2', { class: 'section-title' }, 'Steps'), stepList);
  if (params.get('candidate')) queueMicrotask(() => runTrace(params.get('candidate')));
  return root;
}

// Candidates worth asking about: the runners-up of the last scored step,
// and the first candidate each earlier step rejected.
function quickPicks(steps, selection) {
  const picks = [];
  const selectedId = selection ? selection.candidateId : null;
  const scored = [...steps].reverse().find((st) => rankKey(st.evaluations || []));
  if (scored) {
    const key = rankKey(scored.evaluations);
    const ranked = scored.evaluations.filter((e) => e.scores && typeof e.scores[key] === 'number' && String(e.candidate_id) !== selectedId)
      .sort((a, b) => b.scores[key] - a.scores[key]);
    ranked.slice(0, 2).forEach((e, i) => picks.push([String(e.candidate_id), `${i ? 'third' : 'runner-up'} by ${key}`]));
  }
  for (const st of steps) {
    const rejected = (st.evaluations || []).find((e) => e.passed === false);
    if (rejected) picks.push([String(rejected.candidate_id), `rejected by ${st.name}`]);
  }
  return picks.slice(0, 4);
}

function fact(label, value, cls) {
  return h('div', { class: ['fact', cls] }, h('dt', {}, label), h('dd', {}, value));
}

function errorText(error) {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && typeof error.message === 'string') {
    const rest = Object.entries(error).filter(([k]) => k !== 'message');
    return `${error.message}${rest.length ? ` (${rest.map(([k, v]) => `${k}: ${fmt.scalar(v)}`).join(', ')})` : ''}`;
  }
  return JSON.stringify(error);
}

// The selected candidate's scores in the last step that scored it.
function scoreBreakdown(steps, selection) {
  if (!selection.candidateId) return null;
  for (let i = steps.length - 1; i >= 0; i--) {
    const e = (steps[i].evaluations || []).find((x) => String(x.candidate_id) === selection.candidateId);
    if (e && e.scores && Object.keys(e.scores).length) {
      const totalKey = ['total', 'score', 'totalScore'].find((k) => k in e.scores);
      // The parts by their contribution, largest first, and the total last.
      const parts = Object.entries(e.scores).filter(([, v]) => typeof v === 'number').map(([label, value]) => ({ label, value }))
        .sort((a, b) => (a.label === totalKey) - (b.label === totalKey) || b.value - a.value);
      if (!parts.length) continue;
      return { step: steps[i], parts, totalKey };
    }
  }
  return null;
}

// "Compare with the previous run": of the same pipeline, or with the same
// value of one of the execution's metadata keys (the same product, say), so
// that a bad decision can be set beside the last one made for the same input.
function compareControls(ex) {
  const scalarKeys = fmt.orderKeys(Object.keys(ex.metadata || {}), ex.metadata)
    .filter((k) => ['string', 'number', 'boolean'].includes(typeof ex.metadata[k])).slice(0, 6);
  const scope = h('select', { class: 'scope-select', 'aria-label': 'Which previous run', testid: 'compare-previous-scope' },
    h('option', { value: '' }, 'of this pipeline'),
    scalarKeys.map((k) => h('option', { value: k }, `with the same ${k}`)));
  const note = h('span', { class: 'muted small', role: 'status', testid: 'compare-previous-note' });
  const prev = h('button', { type: 'button', testid: 'compare-previous', onclick: async () => {
    const key = scope.value;
    note.textContent = '';
    try {
      const { executions } = await api.executions({ app: ex.app, pipeline: ex.pipeline, until: ex.started_at, limit: 3,
        meta: key ? { [key]: String(ex.metadata[key]) } : undefined });
      const other = executions.find((e) => e.id !== ex.id);
      if (other) navigate(href(['compare', ex.app, other.id, ex.id]));
      else note.textContent = 'no earlier run';
    } catch (err) {
      note.textContent = err.message;
    }
  } }, 'Compare with previous run');
  const otherIn = h('input', { placeholder: 'other execution id', size: 16, 'aria-label': 'Execution id to compare with', testid: 'compare-with-input' });
  const form = h('form', { class: 'inline-form' }, otherIn, h('button', { type: 'submit' }, 'Compare'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (otherIn.value.trim()) navigate(href(['compare', ex.app, ex.id, otherIn.value.trim()]));
  });
  return [h('span', { class: 'inline-form' }, prev, scope, note), form];
}

function timelineSection(ex, steps, onPick) {
  const t0 = Date.parse(ex.started_at);
  const ends = steps.map((st) => Date.parse(st.ended_at)).filter((x) => !Number.isNaN(x));
  const exEnd = Date.parse(ex.ended_at);
  const t1 = Math.max(Number.isNaN(exEnd) ? t0 : exEnd, ...ends, t0 + 1);
  const span = t1 - t0;
  const maxElim = Math.max(0, ...steps.map((st) => fmt.eliminatedRatio(st) ?? 0));
  const rows = steps.map((st) => {
    const start = Date.parse(st.started_at);
    const known = !Number.isNaN(start) && st.duration_ms != null;
    const ratio = fmt.eliminatedRatio(st);
    const label = `${st.name}: ${fmt.duration(st.duration_ms)}`;
    return h('li', { class: ['tl-row', `tl-${st.status}`], testid: 'timeline-step', dataset: { step: st.name, status: st.status } },
      h('button', { type: 'button', class: 'link-button tl-name', onclick: () => onPick(st.index) },
        h('span', { class: 'muted' }, `${st.index}`), ' ', st.name),
      h('span', { class: 'tl-status' }, st.status !== 'completed' ? badge(st.status) : ''),
      h('span', { class: 'tl-bar' }, known ? timelineBar((start - t0) / span, st.duration_ms / span, st.status, label)
        : h('span', { class: 'muted' }, 'no timing recorded')),
      h('span', { class: 'tl-dur num' }, fmt.duration(st.duration_ms)),
      h('span', { class: 'tl-funnel num', testid: 'step-funnel' }, fmt.funnel(st) ?? ''),
      h('span', { class: ['tl-elim num', ratio != null && ratio === maxElim && ratio > 0 ? 'strong' : ''] },
        ratio != null ? fmt.eliminated(ratio) : ''));
  });
  return h('section', { class: 'panel timeline', testid: 'timeline' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'Timeline'),
      h('span', { class: 'muted' }, `${fmt.duration(span)} in all · per step: duration, candidates in → passed, share eliminated`)),
    h('ol', { class: 'tl' }, rows));
}

function stepCard(st, open) {
  const small = (v) => v !== null && v !== undefined && JSON.stringify(v).length < 400;
  const ratio = fmt.eliminatedRatio(st);
  const present = (v) => v !== null && v !== undefined;
  const sections = [['Input', 'input'], ['Output', 'output'], ['Filters', 'filters'], ['Selection', 'selection'], ['Metadata', 'metadata']];
  const missing = sections.filter(([, key]) => !present(st[key])).map(([title]) => title.toLowerCase());
  return h('details', { class: ['step', `step-${st.status}`], id: `step-${st.index}`, open, testid: 'step', dataset: { step: st.name, index: String(st.index) } },
    h('summary', {},
      h('h3', { class: 'step-title' }, h('span', { class: 'muted' }, `#${st.index} `), st.name),
      badge(st.status),
      h('span', { class: 'muted' }, fmt.duration(st.duration_ms)),
      st.candidates_in != null ? h('span', { class: 'funnel-text' }, `${fmt.funnel(st)} candidates (${fmt.percent(ratio)} eliminated)`) : null),
    st.reasoning ? h('p', { class: 'reasoning', testid: 'step-reasoning' }, h('strong', {}, 'Reasoning: '), st.reasoning) : null,
    st.error != null ? h('div', { class: 'error-box', testid: 'step-error' }, h('strong', {}, 'Error: '), errorText(st.error)) : null,
    h('div', { class: 'json-grid' }, sections.filter(([, key]) => present(st[key])).map(([title, key]) =>
      jsonSection(title, st[key], { open: key === 'selection' || small(st[key]), testid: `step-${key}` }))),
    missing.length ? h('p', { class: 'muted small' }, `Not recorded: ${missing.join(', ')}.`) : null);
}
