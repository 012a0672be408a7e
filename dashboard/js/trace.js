// Tracing one candidate through an execution's steps: where it was
// evaluated, where it was eliminated and why, or how it ranked against the
// selection. Pure functions over the steps of GET /v1/executions/{app}/{id}.

// The id a selection names: a string/number selection, or its id field.
export function candidateIdOf(selection) {
  if (typeof selection === 'string' || typeof selection === 'number') return String(selection);
  if (selection && typeof selection === 'object') {
    for (const k of ['id', 'candidate_id', 'candidateId']) {
      const v = selection[k];
      if (v !== null && v !== undefined && typeof v !== 'object') return String(v);
    }
  }
  return null;
}

// The execution's decision: the last step that recorded a selection.
export function selectionOf(steps) {
  for (let i = steps.length - 1; i >= 0; i--) {
    const value = steps[i].selection;
    if (value !== null && value !== undefined) {
      return { step: steps[i], value, candidateId: candidateIdOf(value) };
    }
  }
  return null;
}

// The score that orders a step's candidates: 'total' or 'score' when
// recorded, else the only score when there is just one; null otherwise.
export function rankKey(evaluations) {
  const keys = new Set();
  for (const e of evaluations) if (e.scores && typeof e.scores === 'object') Object.keys(e.scores).forEach((k) => keys.add(k));
  for (const k of ['total', 'score', 'final', 'totalScore']) if (keys.has(k)) return k;
  return keys.size === 1 ? [...keys][0] : null;
}

// Rank (1-based) of `evaluation` among the step's candidates by `key`, descending.
function rankIn(evaluations, evaluation, key) {
  const v = evaluation.scores ? evaluation.scores[key] : undefined;
  if (typeof v !== 'number') return null;
  const scored = evaluations.filter((e) => e.scores && typeof e.scores[key] === 'number');
  return { rank: 1 + scored.filter((e) => e.scores[key] > v).length, of: scored.length, key, value: v };
}

// Every candidate id evaluated in the execution (for autocompletion).
export function allCandidateIds(steps) {
  const ids = new Set();
  for (const st of steps) for (const e of st.evaluations || []) ids.add(String(e.candidate_id));
  return [...ids];
}

function mentions(value, id) {
  if (value === null || value === undefined) return false;
  return JSON.stringify(value).includes(id);
}

const stepLabel = (st) => `step ${st.index} “${st.name}”`;

// The story of candidate `query` in `steps`:
// { id, appearances: [{step, evaluation, ranking}], verdict: {kind, step?, text},
//   suggestions: [ids] }  with kind one of
// 'eliminated' | 'selected' | 'not-selected' | 'mentioned' | 'unknown'.
export function trace(steps, query) {
  const wanted = String(query).trim();
  const lower = wanted.toLowerCase();
  const ids = allCandidateIds(steps);
  const id = ids.find((x) => x === wanted) ?? ids.find((x) => x.toLowerCase() === lower) ?? wanted;
  const appearances = [];
  for (const st of steps) {
    for (const e of st.evaluations || []) {
      if (String(e.candidate_id) !== id) continue;
      const key = rankKey(st.evaluations);
      appearances.push({ step: st, evaluation: e, ranking: key ? rankIn(st.evaluations, e, key) : null });
    }
  }
  const selection = selectionOf(steps);
  const result = { id, appearances, suggestions: [], verdict: null };

  if (!appearances.length) {
    result.suggestions = ids.filter((x) => x.toLowerCase().includes(lower)).slice(0, 8);
    const seenIn = steps.filter((st) => ['input', 'output', 'selection', 'metadata'].some((k) => mentions(st[k], id)));
    if (seenIn.length) {
      result.verdict = { kind: 'mentioned', step: seenIn[0],
        text: `“${id}” was never evaluated as a candidate, but ${seenIn.map(stepLabel).join(', ')} mention${seenIn.length === 1 ? 's' : ''} it.` };
    } else {
      result.verdict = { kind: 'unknown',
        text: `No step of this execution evaluated a candidate “${id}”: it never reached the filters (for example, the search did not return it).` };
    }
    return result;
  }

  const failed = appearances.find((a) => a.evaluation.passed === false);
  if (failed) {
    const reasons = failed.evaluation.reasons || [];
    result.verdict = { kind: 'eliminated', step: failed.step, reasons,
      text: `${id} was eliminated at ${stepLabel(failed.step)}: ${reasons.length ? reasons.join('; ') : 'no reason recorded'}.` };
    return result;
  }

  if (selection && selection.candidateId === id) {
    result.verdict = { kind: 'selected', step: selection.step,
      text: `${id} was selected at ${stepLabel(selection.step)}${selection.step.reasoning ? `: ${selection.step.reasoning}` : '.'}` };
    return result;
  }

  const names = appearances.map((a) => a.step.name).join(', ');
  let text = `${id} passed every step that evaluated it (${names}) but was not selected.`;
  const ranked = [...appearances].reverse().find((a) => a.ranking);
  if (ranked) {
    const r = ranked.ranking;
    text += ` It ranked #${r.rank} of ${r.of} in ${stepLabel(ranked.step)} with ${r.key} ${r.value}`;
    const winner = selection && selection.candidateId
      ? (ranked.step.evaluations || []).find((e) => String(e.candidate_id) === selection.candidateId) : null;
    if (winner && winner.scores && typeof winner.scores[r.key] === 'number') {
      text += `; the selected ${selection.candidateId} had ${winner.scores[r.key]}`;
    }
    text += '.';
  }
  result.verdict = { kind: 'not-selected', step: ranked ? ranked.step : appearances[appearances.length - 1].step, text };
  return result;
}
