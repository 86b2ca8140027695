// Browser platform: fetch for HTTP, the DOM WebSocket for log streams. Requests stay CORS-simple
// (no custom headers) because the real Sandrun worker answers no preflight.
import { makeError } from './errors.js';

function abortError(message = 'aborted') {
  const e = new Error(message);
  e.code = 'ABORT_ERR';
  return e;
}

function timeoutError(ms) {
  const e = new Error(`no answer within ${ms} ms`);
  e.code = 'ETIMEDOUT';
  return e;
}

/**
 * What every fetch here is bound by: the caller's `signal`, and `timeoutMs` while armed. `failure`
 * says why a fetch (or a body read) failed: a timeout, an abort, or a network error.
 */
export function guard(signal, timeoutMs) {
  if (signal?.aborted) throw abortError();
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let timer;
  let timedOut = false;
  return {
    signal: controller.signal,
    arm() { if (timeoutMs) timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs); },
    disarm() { clearTimeout(timer); },
    end() { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); },
    abort() { this.end(); controller.abort(); },
    failure(e) {
      if (timedOut) return timeoutError(timeoutMs);
      if (signal?.aborted) return abortError();
      const err = new Error(e?.message ?? String(e));
      err.code = 'NETWORK';
      return err;
    },
  };
}

/** @param {import('../sandrun_sdk.js').PlatformRequest} req */
async function request(req) {
  const { method, url, headers = [], body, timeoutMs, signal, onProgress } = req;
  const g = guard(signal, timeoutMs);
  g.arm();
  const total = body ? body.byteLength : 0;
  try {
    // fetch has no upload progress, and XHR upload listeners would force a preflight: report
    // the start and the end of the upload.
    onProgress?.({ loaded: 0, total });
    const res = await fetch(url, { method, headers, body, signal: g.signal, cache: 'no-store' });
    onProgress?.({ loaded: total, total });
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, headers: [...res.headers], body: bytes };
  } catch (e) {
    throw g.failure(e);
  } finally {
    g.end();
  }
}

/** A pull-based reader over the DOM WebSocket: one message per `next()`, `null` at the end. */
export function socketReader(ws) {
  const queue = [];
  const waiters = [];
  let ended = false;
  let failure = null;
  const wake = () => {
    while (waiters.length && (queue.length || ended)) {
      const w = waiters.shift();
      if (queue.length) w.resolve(queue.shift());
      else if (failure) w.reject(failure);
      else w.resolve(null);
    }
  };
  const encoder = new TextEncoder();
  return {
    push(data) {
      queue.push(typeof data === 'string' ? encoder.encode(data) : new Uint8Array(data));
      wake();
    },
    end(err) {
      if (ended) return;
      ended = true;
      failure = err ?? null;
      wake();
    },
    reader: {
      next() {
        if (queue.length) return Promise.resolve(queue.shift());
        if (ended) return failure ? Promise.reject(failure) : Promise.resolve(null);
        return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
      },
      close() {
        ended = true;
        try { ws.close(); } catch { /* already closed */ }
        wake();
      },
    },
  };
}

function openStream(url) {
  return new Promise((resolve, reject) => {
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      reject(e);
      return;
    }
    ws.binaryType = 'arraybuffer';
    const r = socketReader(ws);
    let opened = false;
    ws.onopen = () => { opened = true; resolve(r.reader); };
    ws.onmessage = (ev) => r.push(ev.data);
    ws.onerror = () => {
      if (!opened) reject(new Error(`could not open ${url}`));
      r.end(new Error('the log stream broke'));
    };
    // 1005/1006 are how the worker ends a stream; 1007 means the job printed invalid UTF-8.
    ws.onclose = (ev) => {
      if (!opened) reject(new Error(`could not open ${url} (${ev.code})`));
      r.end(ev.code === 1007 ? new Error('the log stream carried invalid UTF-8') : null);
    };
  });
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(abortError()); return; }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(abortError()); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** gzip through the platform's CompressionStream (browsers, Node 18+): no compressor in the wasm. */
async function gzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The core entry's platform (the full entry's adds `requestStream`: js/browser-full.js). */
export function browserPlatform() {
  return { request, openStream, sleep, gzip, makeError };
}

export { sleep, gzip, abortError, timeoutError };
