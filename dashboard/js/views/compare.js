// #/compare/<app>/<id1>/<id2> (or …/<app1>/<id1>/<app2>/<id2>) — two
// executions side by side: their facts and decisions, then step by step
// (status, duration, candidates in → passed, reasoning) with differences
// highlighted, and per step the JSON fields whose values differ.
// #/compare alone asks for the two ids.

import { api } from '../api.js';
import { h, field, errorBox, loading, replace, badge } from '../dom.js';
import * as fmt from '../format.js';
import { href, navigate } from '../router.js';
import { selectionOf } from '../trace.js';

export function renderCompare(outlet, { args }) {
  const rest = args.rest || [];
  let pair = null;
  if (rest.length === 3) pair = [{ app: rest[0], id: rest[1] }, { app: rest[0], id: rest[2] }];
  else if (rest.length === 4) pair = [{ app: rest[0], id: rest[1] }, { app: rest[2], id: rest[3] }];

  outlet.append(h('h1', {}, 'Compare two executions'), picker(pair));
  if (!pair) {
    outlet.append(h('p', { class: 'muted' }, 'Pick two rows in the execution list, or enter two execution ids.'));
    return undefined;
  }
  const body = h('div', {}, loading());
  outlet.append(body);
  let alive = true;
  Promise.all(pair.map((p) => api.execution(p.app, p.id, { evaluations_limit: 1 })))
    .then(([a, b]) => alive && replace(body, comparison(a, b)))
    .catch((err) => alive && replace(body, errorBox(err)));
  return () => {
    alive = false;
  };
}

function picker(pair) {
  const app = h('input', { name: 'app', value: pair ? pair[0].app : '', size: 18, required: true });
  const a = h('input', { name: 'a', value: pair ? pair[0].id : '', size: 38, required: true, testid: 'compare-a' });
  const b = h('input', { name: 'b', value: pair ? pair[1].id : '', size: 38, required: true, testid: 'compare-b' });
  const form = h('form', { class: 'filters' }, field('App', app), field('Execution A', a), field('Execution B', b),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Compare')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    navigate(href(['compare', app.value.trim(), a.value.trim(), b.value.trim()]));
  });
  return form;
}

// Flattens JSON into path → printable leaf ("keywords[0]" → "laptop stand").
function flatten(v, prefix = '', out = new Map()) {
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [`${prefix}[${i}]`, x]) : Object.entries(v).map(([k, x]) => [prefix ? `${prefix}.${k}` : k, x]);
    if (!entries.length) out.set(prefix, Array.isArray(v) ? '[]' : '{}');
    for (const [p, x] of entries.slice(0, 500)) flatten(x, p, out);
  } else {
    out.set(prefix, v === undefined ? 'null' : JSON.stringify(v));
  }
  return out;
}

// Rows [path, left, right] where two JSON values differ.
function jsonDiff(a, b) {
  const fa = flatten(a ?? null);
  const fb = flatten(b ?? null);
  const paths = [...new Set([...fa.keys(), ...fb.keys()])];
  return paths.filter((p) => fa.get(p) !== fb.get(p)).map((p) => [p, fa.get(p), fb.get(p)]);
}

const SECTIONS = ['input', 'output', 'filters', 'selection', 'metadata', 'error'];

function comparison(A, B) {
  const a = A.execution;
  const b = B.execution;
  const root = h('div', { class: 'compare', testid: 'compare' });

  // ---- facts side by side
  const factRows = [
    ['Execution', (x) => x.id, true],
    ['App', (x) => x.app],
    ['Pipeline', (x) => x.pipeline],
    ['Status', (x) => x.status],
    ['Environment', (x) => x.environment ?? '—'],
    ['Started', (x) => fmt.timeMs(x.started_at), true],
    ['Duration', (x) => fmt.duration(x.duration_ms), true],
    ['Steps', (x) => String(x.step_count)],
  ];
  const metaKeys = [...new Set([...Object.keys(a.metadata || {}), ...Object.keys(b.metadata || {})])];
  for (const k of metaKeys) factRows.push([k, (x) => fmt.scalar((x.metadata || {})[k] ?? '—', 120)]);
  const selA = selectionOf(A.steps);
  const selB = selectionOf(B.steps);
  const selText = (sel) => {
    if (!sel) return 'nothing selected';
    const v = sel.value;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return fmt.scalar(v);
    return fmt.orderKeys(Object.keys(v), v).map((k) => `${k}: ${fmt.scalar(v[k], 80)}`).join(' · ');
  };
  factRows.push(['Selection', (x) => selText(x === a ? selA : selB)]);
  factRows.push(['Why', (x) => ((x === a ? selA : selB)?.step.reasoning) ?? '—']);

  const headLink = (x, label) => h('th', { scope: 'col' }, h('a', { href: href(['execution', x.app, x.id]) }, label), ' ', badge(x.status));
  root.append(h('section', { class: 'panel' }, h('h2', {}, 'Executions'),
    h('table', { class: 'data side-by-side', testid: 'compare-facts' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), headLink(a, 'A'), headLink(b, 'B'))),
      h('tbody', {}, factRows.map(([label, get, expected]) => {
        const va = get(a);
        const vb = get(b);
        const differs = va !== vb && !expected;
        return h('tr', { class: differs ? 'differs' : '', testid: differs ? 'fact-differs' : 'fact', dataset: { fact: label } },
          h('th', { scope: 'row' }, label), h('td', { class: 'wrap' }, va), h('td', { class: 'wrap' }, vb));
      })))));

  // ---- step by step
  const n = Math.max(A.steps.length, B.steps.length);
  const stepRows = [];
  const details = [];
  for (let i = 0; i < n; i++) {
    const sa = A.steps[i];
    const sb = B.steps[i];
    const name = sa && sb && sa.name !== sb.name ? `${sa.name} / ${sb.name}` : (sa || sb).name;
    // A cell marks what differs from the other side.
    const cell = (st, other) => {
      if (!st) return h('span', { class: 'muted' }, 'no such step');
      const mark = (differs) => (other && differs ? 'diff-mark' : '');
      return h('div', { class: 'step-cell' },
        h('div', {}, h('span', { class: mark(st.status !== other?.status) }, badge(st.status)), ' ', fmt.duration(st.duration_ms),
          st.candidates_in != null ? h('span', { class: ['funnel-text', mark(st.candidates_in !== other?.candidates_in || st.candidates_passed !== other?.candidates_passed)], testid: 'compare-funnel' },
            `${fmt.funnel(st)} (${fmt.eliminated(fmt.eliminatedRatio(st))})`) : ''),
        st.reasoning ? h('div', { class: ['reasoning small', mark((st.reasoning ?? '') !== (other?.reasoning ?? ''))] }, st.reasoning) : null);
    };
    const diffs = [];
    if (sa && sb) {
      for (const sec of SECTIONS) for (const [p, l, r] of jsonDiff(sa[sec], sb[sec])) diffs.push([`${sec}${p ? (p.startsWith('[') ? '' : '.') + p : ''}`, l, r]);
    }
    const changed = !sa || !sb || sa.name !== sb.name || sa.status !== sb.status ||
      sa.candidates_in !== sb.candidates_in || sa.candidates_passed !== sb.candidates_passed ||
      (sa.reasoning ?? '') !== (sb.reasoning ?? '') || diffs.length > 0;
    stepRows.push(h('tr', { testid: 'compare-step', dataset: { step: name, changed: String(changed) } },
      h('th', { scope: 'row', class: (!sa || !sb || sa.name !== sb.name) ? 'diff-mark' : '' }, h('span', { class: 'muted' }, `${i} `), name,
        diffs.length ? h('div', { class: 'small' }, h('a', { href: `#diff-${i}`, onclick: (ev) => {
          ev.preventDefault();
          const d = document.getElementById(`diff-${i}`);
          d.open = true;
          d.scrollIntoView({ block: 'start' });
        } }, `${diffs.length} field${diffs.length === 1 ? '' : 's'} differ`)) : (sa && sb ? h('div', { class: 'small muted' }, 'same fields') : null)),
      h('td', {}, cell(sa, sb)), h('td', {}, cell(sb, sa))));
    if (diffs.length) {
      details.push(h('details', { class: 'panel diff', id: `diff-${i}`, open: diffs.length <= 8, testid: 'step-diff', dataset: { step: name } },
        h('summary', {}, h('strong', {}, `${i} ${name}`), ` — ${diffs.length} field${diffs.length === 1 ? '' : 's'} differ`),
        h('table', { class: 'data diff-table' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'A'), h('th', { scope: 'col' }, 'B'))),
          h('tbody', {}, diffs.slice(0, 300).map(([p, l, r]) => h('tr', {},
            h('td', { class: 'mono' }, p), h('td', { class: 'wrap mono' }, l ?? '—'), h('td', { class: 'wrap mono' }, r ?? '—')))))));
    }
  }
  root.append(h('section', { class: 'panel' }, h('h2', {}, 'Step by step'),
    h('table', { class: 'data side-by-side steps-compare', testid: 'compare-steps' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Step'), h('th', { scope: 'col' }, 'A'), h('th', { scope: 'col' }, 'B'))),
      h('tbody', {}, stepRows))));
  if (details.length) root.append(h('h2', { class: 'section-title' }, 'Field differences'), ...details);
  return root;
}
