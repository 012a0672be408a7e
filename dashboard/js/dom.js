// DOM construction helpers. Every piece of data reaches the page as a text
// node or an attribute value set through the DOM, never as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

// h('a', {href, class, testid, onclick}, ...children): an HTML element.
// Props: `class`, `testid` (data-testid), `dataset` (object), `on<event>`
// (listener), booleans and non-string values as properties (checked, hidden),
// anything else as an attribute. Children: nodes, strings, numbers, arrays;
// null/false/undefined are skipped.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

// s('rect', {x, y, width, height, class}, ...children): an SVG element.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'testid') el.setAttribute('data-testid', v);
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (typeof v !== 'string' && k in el) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces all children of `el`.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// A labelled form control: <label>text <control></label>.
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control,
    hint ? h('span', { class: 'field-hint' }, hint) : null);
}

// <select> with [value, text] options; `value` preselected.
export function select(props, options, value) {
  const el = h('select', props);
  for (const [v, text] of options) {
    el.append(h('option', { value: v, selected: v === value }, text));
  }
  // A value not among the options (e.g. from a shared link) is kept visible.
  if (value && !options.some(([v]) => v === value)) {
    el.append(h('option', { value, selected: true }, value));
  }
  return el;
}

export function badge(status) {
  const text = status || 'unknown';
  return h('span', { class: `badge badge-${text.replace(/[^a-z]/g, '')}`, testid: 'status' }, text);
}

export function errorBox(error) {
  return h('div', { class: 'error-box', role: 'alert', testid: 'error' }, error.message || String(error));
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'muted loading', role: 'status' }, text);
}
