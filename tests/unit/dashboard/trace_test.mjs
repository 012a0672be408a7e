// dashboard/js/trace.js: a candidate's path through an execution's steps
// ("why not this one?"), on steps shaped like GET /v1/executions/{app}/{id}.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { candidateIdOf, selectionOf, rankKey, allCandidateIds, trace } from '../../../dashboard/js/trace.js';

const ev = (candidate_id, passed, extra = {}) => ({ position: 0, candidate_id, passed, reasons: [], scores: null, metadata: null, ...extra });

const STEPS = [
  { index: 0, name: 'search', output: { ids: ['A1', 'B2', 'C3', 'D4', 'Z9'] }, evaluations: [] },
  { index: 1, name: 'filter', evaluations: [
    ev('A1', true), ev('B2', true), ev('C3', false, { reasons: ['price 52.99 > 46.19', 'rating 3.8 < 4.0'] }),
    ev('D4', true),
  ] },
  { index: 2, name: 'rank', evaluations: [
    ev('A1', true, { scores: { relevance: 0.1, total: 0.705 } }),
    ev('B2', true, { scores: { relevance: 0.3, total: 0.499 } }),
    ev('D4', true, { scores: { relevance: 0.2, total: 0.6 } }),
  ] },
  { index: 3, name: 'select', selection: { id: 'A1', title: 'phone case' }, reasoning: 'highest total 0.705' },
];

describe('trace', () => {
  it('names the selection of the last step that made one', () => {
    const sel = selectionOf(STEPS);
    assert.equal(sel.step.name, 'select');
    assert.equal(sel.candidateId, 'A1');
    assert.equal(selectionOf([{ index: 0, name: 'x', selection: null }]), null);
    assert.equal(candidateIdOf('B7'), 'B7');
    assert.equal(candidateIdOf({ candidate_id: 42 }), '42');
    assert.equal(candidateIdOf({ title: 'no id' }), null);
  });

  it('orders by total when a step records one', () => {
    assert.equal(rankKey(STEPS[2].evaluations), 'total');
    assert.equal(rankKey([ev('x', true, { scores: { fit: 1 } })]), 'fit');
    assert.equal(rankKey([ev('x', true, { scores: { a: 1, b: 2 } })]), null);
    assert.deepEqual(allCandidateIds(STEPS), ['A1', 'B2', 'C3', 'D4']);
  });

  it('says where and why a rejected candidate was eliminated', () => {
    const r = trace(STEPS, 'C3');
    assert.equal(r.verdict.kind, 'eliminated');
    assert.equal(r.verdict.step.name, 'filter');
    assert.equal(r.verdict.text, 'C3 was eliminated at step 1 “filter”: price 52.99 > 46.19; rating 3.8 < 4.0.');
    assert.equal(r.appearances.length, 1);
  });

  it('ranks a candidate that passed everything against the selection', () => {
    const r = trace(STEPS, 'b2');   // ids match without regard to case
    assert.equal(r.id, 'B2');
    assert.equal(r.verdict.kind, 'not-selected');
    assert.equal(r.verdict.text, 'B2 passed every step that evaluated it (filter, rank) but was not selected. ' +
      'It ranked #3 of 3 in step 2 “rank” with total 0.499; the selected A1 had 0.705.');
  });

  it('recognises the selected candidate', () => {
    const r = trace(STEPS, 'A1');
    assert.equal(r.verdict.kind, 'selected');
    assert.equal(r.verdict.text, 'A1 was selected at step 3 “select”: highest total 0.705');
  });

  it('tells an id that no step evaluated, and one only mentioned', () => {
    const unknown = trace(STEPS, 'Q0');
    assert.equal(unknown.verdict.kind, 'unknown');
    assert.deepEqual(unknown.appearances, []);
    const mentioned = trace(STEPS, 'Z9');
    assert.equal(mentioned.verdict.kind, 'mentioned');
    assert.match(mentioned.verdict.text, /step 0 “search” mentions it/);
    assert.deepEqual(trace(STEPS, '1').suggestions, ['A1']);
  });

  it('reports a failure without reasons as such', () => {
    const r = trace([{ index: 0, name: 'gate', evaluations: [ev('X', false)] }], 'X');
    assert.equal(r.verdict.text, 'X was eliminated at step 0 “gate”: no reason recorded.');
  });
});
