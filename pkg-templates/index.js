// @sandrun/sdk — browser and bundler entry (ESM).
// The wasm is fetched and instantiated lazily, on the first `Sandrun.create()` (or an explicit
// `init()`), from `./sandrun_sdk_bg.wasm` next to this file: bundlers that understand
// `new URL(..., import.meta.url)` (Vite, webpack 5, Parcel, Rollup with a URL plugin) emit it as an
// asset. Elsewhere, call `init({ wasm })` first with a URL, Response, bytes or WebAssembly.Module.
// No top-level await.
import initWasm, * as wasm from './sandrun_sdk.js';
import { browserPlatform } from './js/browser.js';
import { finishApi } from './js/api.js';

let source;
let ready;

/**
 * Loads the wasm now instead of on the first `Sandrun.create()`. Optional.
 * `options.wasm`: where the `.wasm` is (URL or string), or its bytes, Response or compiled Module.
 */
export function init(options = {}) {
  if (options.wasm !== undefined) {
    if (ready) throw new Error('@sandrun/sdk: init({ wasm }) must come before the first Sandrun.create()');
    source = options.wasm;
  }
  return ensureInit();
}

function ensureInit() {
  ready ??= (async () => {
    await initWasm({ module_or_path: source ?? new URL('./sandrun_sdk_bg.wasm', import.meta.url) });
    wasm.setPlatform(browserPlatform());
  })().catch((e) => {
    ready = undefined; // a failed load (offline, 404) may be retried
    throw e;
  });
  return ready;
}

finishApi(wasm, { ensureInit });

export { Sandrun, JobBuilder, JobExecution, LogStream } from './sandrun_sdk.js';
export * from './js/errors.js';
