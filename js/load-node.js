// Loading the wasm in Node, shared by the Node entries of @sandrun/sdk and @sandrun/sdk/full: the
// module is compiled synchronously from the file next to the entry, at import, so the SDK is ready
// at once (no top-level await), with the Node platform and the `ws` package for log streams.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { nodePlatform } from './node.js';
import { finishApi } from './api.js';

/** `wasm` is the generated module's namespace, `wasmUrl` where its .wasm is. */
export function loadNode(wasm, wasmUrl) {
  wasm.initSync({ module: readFileSync(wasmUrl) });
  wasm.setPlatform(nodePlatform({ WebSocket }));
  finishApi(wasm, { ensureInit: () => Promise.resolve() });
  /** Nothing to do in Node (the wasm is loaded at import); kept so code runs unchanged everywhere. */
  return { init: () => Promise.resolve() };
}
