// Helpers for the IPFS scenarios (tests/common/ipfs.rs): data in the shapes users hand the SDK
// (Blob, File, ReadableStream, async iterable), reading streams back, memory figures, and a
// direct look at Kubo's pins that does not go through the SDK.

export function blobOf(bytes) {
  return new Blob([bytes]);
}

export function fileOf(bytes, name) {
  return new File([bytes], name);
}

/** A ReadableStream over `bytes` in pieces of `piece` bytes (copies: the source may be freed). */
export function streamOf(bytes, piece) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) { controller.close(); return; }
      controller.enqueue(bytes.slice(at, at + piece));
      at += piece;
    },
  });
}

/** An async iterable over `bytes` (what a Node stream is), in pieces of `piece` bytes. */
export function iterableOf(bytes, piece) {
  return {
    async *[Symbol.asyncIterator]() {
      for (let at = 0; at < bytes.length; at += piece) yield bytes.slice(at, at + piece);
    },
  };
}

/**
 * `size` deterministic bytes made as they are read (xorshift32 from `seed`, 1 MiB pieces): a large
 * file that never exists in memory. Every piece differs, so the DAG has no repeated block.
 */
export function generated(size, seed) {
  let x = seed >>> 0 || 1;
  let left = size;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) { controller.close(); return; }
      const n = Math.min(left, 1 << 20);
      const piece = new Uint8Array(n);
      const words = new Uint32Array(piece.buffer, 0, n >>> 2);
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        words[i] = x;
      }
      left -= n;
      controller.enqueue(piece);
    },
  });
}

/** Every byte of a ReadableStream. */
export async function readAll(stream) {
  const parts = [];
  let total = 0;
  for (const reader = stream.getReader(); ;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Whether a stream yields Uint8Array pieces (and how many) without keeping them. */
export async function countPieces(stream) {
  let pieces = 0;
  let bytes = 0;
  for (const reader = stream.getReader(); ;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (!(value instanceof Uint8Array)) throw new TypeError('a piece is not a Uint8Array');
    pieces += 1;
    bytes += value.length;
  }
  return { pieces, bytes };
}

/** Process memory in bytes (Node), or null in a browser. */
export function processMemory() {
  if (typeof process === 'undefined' || !process.memoryUsage) return null;
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

/** Kubo's recursive pin of `cid`, asked directly over its RPC API (not through the SDK). */
export async function kuboPinned(api, cid) {
  const res = await fetch(`${api}/api/v0/pin/ls?type=recursive&arg=${encodeURIComponent(cid)}`, { method: 'POST' });
  if (!res.ok) return false;
  const body = await res.json();
  return Object.keys(body.Keys ?? {}).length > 0;
}

/** A plugin whose `onRequest` rewrites the RPC `add` URL (a node that does not do as asked). */
export function rewritePlugin(name, from, to) {
  return {
    name,
    onRequest(req) {
      if (req.url.includes('/api/v0/add?')) return { url: req.url.replace(from, to) };
      return undefined;
    },
  };
}
