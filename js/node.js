// Node.js platform. HTTP goes through node:http with canonical header names and a fresh
// connection per request: the real Sandrun worker matches header names case-sensitively (Node's
// fetch lowercases them) and closes every connection without saying so (a keep-alive pool then
// reuses a dead socket). The log stream goes over the `ws` package, for the same header-case
// reason and because Node 20 has no global WebSocket.
import http from 'node:http';
import https from 'node:https';
import { readdir, readFile, mkdir, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { makeError } from './errors.js';
import { sleep, gzip, abortError, timeoutError, socketReader } from './browser.js';

const CHUNK = 64 * 1024;

/** A node:http(s) request with the header names as given and a connection of its own. */
function clientRequest(method, url, headers, length) {
  const u = new URL(url);
  const h = {};
  for (const [k, v] of headers) h[k] = v;
  if (length !== undefined) h['Content-Length'] = String(length);
  return (u.protocol === 'https:' ? https : http).request({
    method,
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port || undefined,
    path: u.pathname + u.search,
    headers: h,
    agent: false,
  });
}

/** @param {import('../sandrun_sdk.js').PlatformRequest} req */
function request(req) {
  const { method, url, headers = [], body, timeoutMs, signal, onProgress } = req;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(abortError()); return; }
    const req = clientRequest(method, url, headers, body?.byteLength);
    let settled = false;
    const finish = (fn, v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn(v);
    };
    const timer = timeoutMs ? setTimeout(() => { req.destroy(); finish(reject, timeoutError(timeoutMs)); }, timeoutMs) : undefined;
    const onAbort = () => { req.destroy(); finish(reject, abortError()); };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => finish(reject, e));
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => finish(reject, e));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const pairs = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
        finish(resolve, { status: res.statusCode, headers: pairs, body: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) });
      });
    });
    if (!body) { req.end(); return; }
    const total = body.byteLength;
    let offset = 0;
    onProgress?.({ loaded: 0, total });
    const writeNext = () => {
      while (offset < total) {
        const end = Math.min(offset + CHUNK, total);
        const slice = body.subarray(offset, end);
        offset = end;
        const loaded = offset;
        const more = req.write(slice, () => onProgress?.({ loaded, total }));
        if (!more) { req.once('drain', writeNext); return; }
      }
      req.end();
    };
    writeNext();
  });
}

/**
 * One request whose answer is read piece by piece (IPFS uploads and downloads; see
 * `Platform.requestStream`). The body may be bytes, a Blob or a ReadableStream, and is streamed
 * (a stream goes chunked). `timeoutMs` bounds every wait on the server: for the answer while the
 * body is being sent (each piece sent starts it again), and for each piece of the answer, but not
 * a slow reader.
 */
function requestStream(req) {
  const { method, url, headers = [], body, timeoutMs, signal } = req;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(abortError()); return; }
    // A stream has no length: it goes chunked.
    const length = body instanceof Uint8Array ? body.byteLength : body instanceof Blob ? body.size : undefined;
    const creq = clientRequest(method, url, headers, length);
    let timer;
    let failure;
    const fail = (e) => { failure ??= e; clearTimeout(timer); creq.destroy(e); };
    const arm = () => { clearTimeout(timer); if (timeoutMs) timer = setTimeout(() => fail(timeoutError(timeoutMs)), timeoutMs); };
    const onAbort = () => fail(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); };
    creq.on('error', (e) => { done(); reject(failure ?? e); });
    let answered = false;
    creq.on('response', (res) => {
      answered = true;
      clearTimeout(timer);
      const pieces = res[Symbol.asyncIterator]();
      const pairs = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
      resolve({
        status: res.statusCode,
        headers: pairs,
        async next() {
          arm();
          try {
            const { value, done: end } = await pieces.next();
            if (end) done();
            return end ? null : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
          } catch (e) {
            done();
            throw failure ?? e;
          } finally {
            clearTimeout(timer);
          }
        },
        close() { done(); res.destroy(); creq.destroy(); },
      });
    });
    arm();
    if (!body || body instanceof Uint8Array) { creq.end(body); return; }
    const source = Readable.fromWeb(body instanceof Blob ? body.stream() : body);
    source.on('data', () => { if (!answered) arm(); });
    source.on('error', fail);
    source.pipe(creq);
  });
}

/** SHA-256 through OpenSSL, synchronously (local IPFS CIDs hash every byte of a file). */
function sha256(bytes) {
  return createHash('sha256').update(bytes).digest();
}

/**
 * The log stream over the `ws` package (given by the entry, so that this file has no bare
 * import): it sends canonical header names (`Upgrade`, `Connection`, `Sec-WebSocket-Key`), which
 * the real worker matches case-sensitively. No extensions (the worker takes none), and no UTF-8
 * check on text frames: a job may print invalid UTF-8, which the worker sends as it is; the SDK
 * reads frames as bytes.
 */
function streamOpener(WebSocket) {
  return (url) => new Promise((resolve, reject) => {
    if (!WebSocket) { reject(new Error('no WebSocket client: nodePlatform() needs { WebSocket } (the ws package)')); return; }
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    // close() would wait for the server's close frame, which the real worker never sends.
    const r = socketReader({ close() { ws.terminate(); } });
    let opened = false;
    ws.on('open', () => { opened = true; resolve(r.reader); });
    ws.on('message', (data) => r.push(data));
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      reject(new Error(`the server answered the stream request with ${res.statusCode}`));
      ws.terminate();
    });
    ws.on('error', (e) => { if (!opened) reject(e); r.end(e); });
    ws.on('close', () => r.end(null));
  });
}

async function readDirectory(dir) {
  const root = path.resolve(dir);
  if (!(await stat(root)).isDirectory()) throw new Error(`${dir} is not a folder`);
  const out = [];
  const walk = async (abs, rel) => {
    const entries = await readdir(abs, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else if (e.isFile()) out.push([r, new Uint8Array(await readFile(path.join(abs, e.name)))]);
      // Links and special files are skipped: a job folder is regular files.
    }
  };
  await walk(root, '');
  return out;
}

async function writeFileInside(dir, relative, bytes) {
  const root = path.resolve(dir);
  const target = path.resolve(root, relative);
  const rel = path.relative(root, target);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new Error(`refusing to write ${JSON.stringify(relative)}: it would leave ${dir}`);
  }
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, bytes);
  return target;
}

/** The Node platform; `WebSocket` is the `ws` package's class (the entry imports it). */
export function nodePlatform({ WebSocket } = {}) {
  return { request, requestStream, openStream: streamOpener(WebSocket), sleep, gzip, makeError, readDirectory, writeFileInside, sha256 };
}
