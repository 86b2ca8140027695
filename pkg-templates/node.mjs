// @sandrun/sdk — Node.js entry (ESM; the CommonJS entry node.cjs is built from this file).
// The wasm is compiled synchronously from the file next to this one at import, so the SDK is
// ready at once; no top-level await.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import * as wasm from './sandrun_sdk.js';
import { nodePlatform } from './js/node.js';
import { finishApi } from './js/api.js';

wasm.initSync({ module: readFileSync(new URL('./sandrun_sdk_bg.wasm', import.meta.url)) });
wasm.setPlatform(nodePlatform({ WebSocket }));
finishApi(wasm, { ensureInit: () => Promise.resolve() });

/** Nothing to do in Node (the wasm is loaded at import); kept so code runs unchanged everywhere. */
export function init() {
  return Promise.resolve();
}

export { Sandrun, JobBuilder, JobExecution, LogStream } from './sandrun_sdk.js';
export * from './js/errors.js';
