// Live updates from GET /v1/stream (Server-Sent Events). Calls onExecution
// with each committed execution's summary and onLagged when the server says
// events were lost; reports its state ('connecting', 'live', 'retrying',
// 'unavailable') to onState. EventSource reconnects by itself after a network
// error; when the server refuses the stream (e.g. 503 at the subscriber
// limit) it gives up, so this retries after a pause. close() stops it all.

const RETRY_MS = 15000;

export function subscribe(url, { onExecution, onLagged, onState }) {
  let source = null;
  let timer = null;
  let closed = false;

  const open = () => {
    if (closed) return;
    onState('connecting');
    source = new EventSource(url);
    source.addEventListener('open', () => onState('live'));
    source.addEventListener('execution', (ev) => {
      let summary;
      try {
        summary = JSON.parse(ev.data);
      } catch {
        return;
      }
      onExecution(summary);
    });
    source.addEventListener('lagged', () => onLagged && onLagged());
    source.addEventListener('error', () => {
      if (closed) return;
      if (source.readyState === EventSource.CLOSED) {
        onState('unavailable');
        timer = setTimeout(open, RETRY_MS);
      } else {
        onState('retrying');
      }
    });
  };
  open();

  return () => {
    closed = true;
    clearTimeout(timer);
    if (source) source.close();
  };
}
