// Source of sandrun.iife.js (the `<script src>` build; not shipped as is), bundled from the full
// entry (pkg/full/: plugins, pools, consensus; its `./js/` imports become `../js/`). esbuild bundles it as
// an IIFE whose global `Sandrun` is this module's namespace: `Sandrun.create(...)`,
// `Sandrun.Sandrun`, `Sandrun.ValidationError`, … The wasm is inlined (base64) and instantiated
// asynchronously on the first `Sandrun.create()` (or `Sandrun.init()`).
import initWasm, * as wasm from './sandrun_sdk.js';
import wasmBytes from './sandrun_sdk_bg.wasm';
import { browserPlatform } from './js/browser.js';
import { finishApi } from './js/api.js';

let ready;
function ensureInit() {
  ready ??= (async () => {
    await initWasm({ module_or_path: wasmBytes });
    wasm.setPlatform(browserPlatform());
  })();
  return ready;
}
finishApi(wasm, { ensureInit });

export function init() {
  return ensureInit();
}
/** `Sandrun.create(config)` on the global: the same as `Sandrun.Sandrun.create(config)`. */
export function create(config) {
  return wasm.Sandrun.create(config);
}
export { Sandrun, JobBuilder, JobExecution, LogStream } from './sandrun_sdk.js';
export { Pool, PoolBuilder, Node, NodeBuilder } from './sandrun_sdk.js';
export { retryPlugin, circuitBreakerPlugin, timeoutPlugin, rateLimitPlugin, authPlugin, loggingPlugin, metricsPlugin, BuiltinPlugin } from './sandrun_sdk.js';
export * from './js/errors.js';
