// The full entry's browser platform: the core's (js/browser.js) plus `requestStream`, which only
// the IPFS layer uses. Kept out of the core entry's glue (about 0.4 kB gzip of its 100 kB budget);
// without it the core reads every answer whole, which is all it needs.
import { browserPlatform, guard } from './browser.js';

/**
 * One request whose answer is read piece by piece (IPFS downloads; see `Platform.requestStream`).
 * `timeoutMs` bounds the wait for the answer and for each piece, not a slow reader. fetch streams
 * request bodies only over HTTP/2 in Chromium, so a ReadableStream body is read into a Blob first
 * (large Blobs are kept on disk by the browser, not in the page's memory).
 */
export async function requestStream(req) {
  const { method, url, headers = [], timeoutMs, signal } = req;
  const g = guard(signal, timeoutMs);
  let res;
  try {
    const body = req.body instanceof ReadableStream ? await new Response(req.body).blob() : req.body;
    g.arm();
    res = await fetch(url, { method, headers, body, signal: g.signal, cache: 'no-store' });
    g.disarm();
  } catch (e) {
    g.end();
    throw g.failure(e);
  }
  const reader = res.body?.getReader();
  return {
    status: res.status,
    headers: [...res.headers],
    async next() {
      if (!reader) return null;
      g.arm();
      try {
        const { value, done } = await reader.read();
        if (done) g.end();
        return done ? null : value;
      } catch (e) {
        g.end();
        throw g.failure(e);
      } finally {
        g.disarm();
      }
    },
    close() { g.abort(); },
  };
}

/** The platform the full entry installs in browsers. */
export function fullBrowserPlatform() {
  return { ...browserPlatform(), requestStream };
}
