// The explorer query API client (docs/dashboard.md; the endpoints live on the
// same origin as the dashboard). Every call returns the parsed JSON body or
// throws an ApiError carrying the server's {error, code, field}.

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && body.error ? body.error : `HTTP ${status}`;
    super(status === 0 ? detail : `${detail} (HTTP ${status}${body && body.code ? `, ${body.code}` : ''})`);
    this.status = status;
    this.code = body ? body.code : undefined;
    this.field = body ? body.field : undefined;
  }
}

// Query string from an object; empty values are left out; `meta` is an
// object of metadata key → value sent as meta.<key>=<value>.
export function queryString(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (k === 'meta' && v && typeof v === 'object') {
      for (const [mk, mv] of Object.entries(v)) q.append(`meta.${mk}`, mv);
    } else if (v !== undefined && v !== null && v !== '') {
      q.append(k, v);
    }
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

async function request(path, options = {}) {
  let res;
  try {
    res = await fetch(path, { headers: { Accept: 'application/json' }, ...options });
  } catch (e) {
    throw new ApiError(0, { error: `cannot reach xrayd (${e.message})` });
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { error: text.slice(0, 200) };
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

export function executionPath(app, id) {
  return `/v1/executions/${encodeURIComponent(app)}/${encodeURIComponent(id)}`;
}

export const api = {
  executions: (params) => request(`/v1/executions${queryString(params)}`),
  execution: (app, id, params) => request(`${executionPath(app, id)}${queryString(params)}`),
  pipelines: () => request('/v1/pipelines'),
  analytics: (params) => request(`/v1/analytics/pipeline${queryString(params)}`),
  eliminations: (params) => request(`/v1/insights/eliminations${queryString(params)}`),
  failedCandidates: (params) => request(`/v1/insights/failed-candidates${queryString(params)}`),
  query: (body) => request('/v1/query', {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  }),
  streamUrl: (params) => `/v1/stream${queryString(params)}`,
};
