// Node.js platform. HTTP goes through node:http with canonical header names and a fresh
// connection per request: the real Sandrun worker matches header names case-sensitively (Node's
// fetch lowercases them) and closes every connection without saying so (a keep-alive pool then
// reuses a dead socket). The log stream is a small WebSocket client over an node:http upgrade,
// for the same header-case reason and because Node 20 has no global WebSocket.
import http from 'node:http';
import https from 'node:https';
import { randomBytes, createHash } from 'node:crypto';
import { readdir, readFile, mkdir, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { makeError } from './errors.js';
import { sleep, abortError, timeoutError, socketReader } from './browser.js';

const CHUNK = 64 * 1024;

function request({ method, url, headers = [], body, timeoutMs, signal, onProgress }) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(abortError()); return; }
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const h = {};
    for (const [k, v] of headers) h[k] = v;
    if (body) h['Content-Length'] = String(body.byteLength);
    const req = lib.request({
      method,
      hostname: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port || undefined,
      path: u.pathname + u.search,
      headers: h,
      agent: false,
    });
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

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function maskedFrame(opcode, payload = Buffer.alloc(0)) {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 255]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

function openStream(url) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'wss:' ? https : http;
    const key = randomBytes(16).toString('base64');
    const req = lib.request({
      hostname: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port || undefined,
      path: u.pathname + u.search,
      agent: false,
      headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' },
    });
    req.on('error', reject);
    req.on('response', (res) => { res.resume(); reject(new Error(`the server answered the stream request with ${res.statusCode}`)); });
    req.on('upgrade', (res, socket, head) => {
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) {
        socket.destroy();
        reject(new Error('the server answered the WebSocket handshake wrongly'));
        return;
      }
      const r = socketReader({ close() {
        if (!socket.destroyed) socket.end(maskedFrame(0x8));
        socket.destroy();
      } });
      let buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
      let fragments = [];
      const parse = () => {
        for (;;) {
          if (buf.length < 2) return;
          const fin = (buf[0] & 0x80) !== 0;
          const opcode = buf[0] & 0x0f;
          const masked = (buf[1] & 0x80) !== 0;
          let len = buf[1] & 0x7f;
          let off = 2;
          if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
          else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
          const maskKey = masked ? buf.subarray(off, off + 4) : null;
          if (masked) off += 4;
          if (buf.length < off + len) return;
          const payload = Buffer.from(buf.subarray(off, off + len));
          if (maskKey) for (let i = 0; i < payload.length; i++) payload[i] ^= maskKey[i & 3];
          buf = buf.subarray(off + len);
          if (opcode === 0x8) { r.end(null); socket.end(); return; }
          if (opcode === 0x9) { socket.write(maskedFrame(0xA, payload)); continue; }
          if (opcode === 0xA) continue;
          fragments.push(payload);
          if (fin) {
            r.push(new Uint8Array(Buffer.concat(fragments)));
            fragments = [];
          }
        }
      };
      socket.on('data', (d) => { buf = Buffer.concat([buf, d]); parse(); });
      socket.on('end', () => r.end(null));
      socket.on('close', () => r.end(null));
      socket.on('error', (e) => r.end(e));
      parse();
      resolve(r.reader);
    });
    req.end();
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

export function nodePlatform() {
  return { request, openStream, sleep, makeError, readDirectory, writeFileInside };
}
