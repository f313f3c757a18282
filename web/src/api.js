// api.js - the console's client of gureumd's REST API (docs/API.md), same origin.
// Every call sends the token as "Authorization: Bearer"; a failed call throws an ApiError
// carrying the API's own words ({"error": {"code", "message"}}).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async call(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method, headers, cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'ECONNREFUSED', `gureumd did not answer ${method} ${path}: ${e.message}`);
    }
    const text = await res.text();
    let doc = null;
    try { doc = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!res.ok) {
      const e = doc && doc.error;
      throw new ApiError(res.status, e ? e.code : `HTTP ${res.status}`,
        e ? e.message : `${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
    return doc;
  }

  get(path) { return this.call('GET', path); }

  // A text/plain answer (logs): the body as text; errors as call() words them.
  async text(path) {
    let res;
    try {
      res = await fetch(path, { headers: { Authorization: `Bearer ${this.token}` }, cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, 'ECONNREFUSED', `gureumd did not answer GET ${path}: ${e.message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let doc = null;
      try { doc = JSON.parse(text); } catch { /* not JSON */ }
      const e = doc && doc.error;
      throw new ApiError(res.status, e ? e.code : `HTTP ${res.status}`,
        e ? e.message : `GET ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
    return text;
  }

  // An operation (202 answers) followed to its end: GET /v1/operations/ID?wait=MS until its
  // status is no longer "running"; onProgress(op) sees each state. Resolves with the ended
  // operation, throws an ApiError with the operation's own error when it failed.
  async waitOperation(op, onProgress) {
    while (op.status === 'running') {
      if (onProgress) onProgress(op);
      op = await this.get(`/v1/operations/${encodeURIComponent(op.id)}?wait=10000`);
    }
    if (op.status !== 'success') {
      const e = op.error || {};
      throw new ApiError(500, e.code || 'EIO', e.message || `operation ${op.id} ${op.status}`);
    }
    return op;
  }

  // The events stream (GET /v1/events, JSON lines): calls onEvent for each event until the
  // stream ends or signal aborts; resolves when it ended, rejects on errors.
  async events(after, onEvent, signal) {
    const q = after === null ? '' : `?after=${after}`;
    const res = await fetch(`/v1/events${q}`, {
      headers: { Authorization: `Bearer ${this.token}` }, signal, cache: 'no-store',
    });
    if (!res.ok) {
      const doc = await res.json().catch(() => null);
      throw new ApiError(res.status, doc?.error?.code || `HTTP ${res.status}`,
        doc?.error?.message || `events: HTTP ${res.status}`);
    }
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) onEvent(JSON.parse(line));
      }
    }
  }
}

// The websocket subprotocols that carry the token (a browser cannot set headers on a
// websocket): "gureum.v1" and "bearer.gureum.<base64url of the token's UTF-8>".
export function wsProtocols(token) {
  const bytes = new TextEncoder().encode(token);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return ['gureum.v1', `bearer.gureum.${b64}`];
}
