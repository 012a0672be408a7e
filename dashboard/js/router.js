// Hash routing: #/<segment>/<segment>?<query>. Segments are percent-decoded;
// the query is a URLSearchParams. A view is a function (outlet, {args,
// params}) that may return a cleanup function, called before the next view
// renders (to close event streams, timers).

const routes = [];
let cleanup = null;
let outlet = null;

// `pattern`: array of literal segments and ':name' placeholders; a trailing
// '*' accepts any further segments (given as args.rest). `title` names the
// page in the window title.
export function route(pattern, view, navKey, title) {
  routes.push({ pattern, view, navKey, title });
}

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const query = qi < 0 ? '' : raw.slice(qi + 1);
  const segments = path.split('/').filter(Boolean).map((seg) => {
    try {
      return decodeURIComponent(seg);
    } catch {
      return seg;
    }
  });
  return { segments, params: new URLSearchParams(query) };
}

// '#/execution/<app>/<id>?candidate=…' from segments and params.
export function href(segments, params) {
  const path = segments.map((seg) => encodeURIComponent(seg)).join('/');
  const q = params ? new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ).toString() : '';
  return `#/${path}${q ? `?${q}` : ''}`;
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

// Changes the address without re-rendering (state kept within a view).
export function replaceHash(hash) {
  history.replaceState(null, '', hash);
}

function match(segments) {
  for (const r of routes) {
    const args = {};
    let ok = true;
    let i = 0;
    for (; i < r.pattern.length; i++) {
      const p = r.pattern[i];
      if (p === '*') {
        args.rest = segments.slice(i);
        i = segments.length;
        break;
      }
      if (i >= segments.length) {
        ok = false;
        break;
      }
      if (p.startsWith(':')) args[p.slice(1)] = segments[i];
      else if (p !== segments[i]) {
        ok = false;
        break;
      }
    }
    if (ok && i === segments.length) return { r, args };
  }
  return null;
}

function render() {
  if (cleanup) {
    try {
      cleanup();
    } catch (e) {
      console.error(e);
    }
    cleanup = null;
  }
  const { segments, params } = parseHash();
  const found = match(segments);
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', !!found && a.dataset.nav === found.r.navKey);
    if (found && a.dataset.nav === found.r.navKey) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  outlet.replaceChildren();
  window.scrollTo(0, 0);
  if (!found) {
    const p = document.createElement('p');
    p.className = 'error-box';
    p.textContent = `No page at ${location.hash}.`;
    outlet.append(p);
    return;
  }
  document.title = found.r.title ? `${found.r.title} · xray` : 'xray';
  const result = found.r.view(outlet, { args: found.args, params });
  if (typeof result === 'function') cleanup = result;
}

export function start(target) {
  outlet = target;
  window.addEventListener('hashchange', render);
  render();
}
