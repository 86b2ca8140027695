// @sandrun/sdk/full — browser and bundler entry (ESM): the core SDK plus plugins, pools, consensus and the node agent.
// The wasm is fetched and instantiated on the first `Sandrun.create()` (or `init()`), from
// `./sandrun_sdk_bg.wasm` next to this file: bundlers that understand
// `new URL(..., import.meta.url)` (Vite, webpack 5, Parcel, Rollup with a URL plugin) emit it as an
// asset. Elsewhere, call `init({ wasm })` first with a URL, Response, bytes or WebAssembly.Module.
import initWasm, * as wasm from './sandrun_sdk.js';
import { browserLoader } from '../js/load.js';
import { fullBrowserPlatform } from '../js/browser-full.js';

export const { init } = browserLoader(initWasm, wasm, () => new URL('./sandrun_sdk_bg.wasm', import.meta.url), fullBrowserPlatform);
export * from './exports.js';
export * from '../js/errors.js';
