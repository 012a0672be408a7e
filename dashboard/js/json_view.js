// A collapsible JSON tree built from DOM nodes (<details> per object/array).
// Objects and arrays nested deeper than `openDepth` start closed; long arrays
// show their first items and a button for the rest.

import { h } from './dom.js';

const ARRAY_PAGE = 50;

export function jsonView(value, { openDepth = 1, testid } = {}) {
  // The root object or array shows its members directly (its size is in the
  // section's title); nested ones are collapsible.
  const root = value !== null && typeof value === 'object' && !inlineable(value)
    ? members(value, 0, openDepth, 'j-list j-root') : node(value, 0, openDepth);
  return h('div', { class: 'json', testid }, root);
}

// A labelled collapsible section holding a JSON tree: "Input {2 keys}".
export function jsonSection(title, value, { open = false, testid } = {}) {
  const empty = value === null || value === undefined;
  return h('details', { class: 'json-section', open: open && !empty, testid },
    h('summary', {}, h('span', { class: 'json-section-title' }, title), ' ',
      h('span', { class: 'muted' }, empty ? 'null' : describe(value))),
    empty ? null : jsonView(value, { openDepth: 2 }));
}

function describe(v) {
  if (Array.isArray(v)) return `[${v.length} item${v.length === 1 ? '' : 's'}]`;
  if (v !== null && typeof v === 'object') {
    const n = Object.keys(v).length;
    return `{${n} key${n === 1 ? '' : 's'}}`;
  }
  return typeof v;
}

function primitive(v) {
  if (v === null) return h('span', { class: 'j-null' }, 'null');
  switch (typeof v) {
    case 'string': return h('span', { class: 'j-str' }, JSON.stringify(v));
    case 'number': return h('span', { class: 'j-num' }, String(v));
    case 'boolean': return h('span', { class: 'j-bool' }, String(v));
    default: return h('span', {}, String(v));
  }
}

const isPrimitive = (x) => x === null || typeof x !== 'object';

// Small arrays and objects of primitives read best on one line.
function inlineable(v) {
  if (Array.isArray(v)) return v.length <= 8 && v.every(isPrimitive) && JSON.stringify(v).length <= 120;
  const e = Object.entries(v);
  return e.length <= 5 && e.every(([, x]) => isPrimitive(x)) && JSON.stringify(v).length <= 90;
}

function inline(v) {
  const arr = Array.isArray(v);
  const line = h('span', { class: 'j-inline' }, h('span', { class: 'j-punct' }, arr ? '[' : '{'));
  (arr ? v.map((x) => [null, x]) : Object.entries(v)).forEach(([k, x], i) => {
    if (i) line.append(h('span', { class: 'j-punct' }, ', '));
    if (k !== null) line.append(h('span', { class: 'j-key' }, k), h('span', { class: 'j-punct' }, ': '));
    line.append(primitive(x));
  });
  line.append(h('span', { class: 'j-punct' }, arr ? ']' : '}'));
  return line;
}

function node(v, depth, openDepth) {
  if (isPrimitive(v)) return primitive(v);
  if (Object.keys(v).length === 0) return h('span', { class: 'j-punct' }, Array.isArray(v) ? '[]' : '{}');
  if (inlineable(v)) return inline(v);
  return h('details', { class: 'j-node', open: depth < openDepth },
    h('summary', { class: 'j-punct' }, describe(v)), members(v, depth, openDepth));
}

// The members of an object or array as a list, the long tail behind a button.
function members(v, depth, openDepth, cls = 'j-list') {
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  const list = h('ul', { class: cls });
  const addItems = (from, to) => {
    for (const [k, x] of entries.slice(from, to)) {
      list.append(h('li', {},
        h('span', { class: Array.isArray(v) ? 'j-index' : 'j-key' }, Array.isArray(v) ? `${k}` : k),
        h('span', { class: 'j-punct' }, ': '), node(x, depth + 1, openDepth)));
    }
  };
  addItems(0, ARRAY_PAGE);
  if (entries.length > ARRAY_PAGE) {
    let shown = ARRAY_PAGE;
    const more = h('li', {}, h('button', {
      type: 'button',
      class: 'link-button',
      onclick: () => {
        more.remove();
        addItems(shown, entries.length);
        shown = entries.length;
      },
    }, `show ${entries.length - ARRAY_PAGE} more`));
    list.append(more);
  }
  return list;
}
