// Source of sandrun.iife.js (the `<script src>` build; not shipped as is), bundled by esbuild from
// the full entry's folder (pkg/full/) as an IIFE whose global `Sandrun` is this module's namespace:
// `Sandrun.create(...)`, `Sandrun.Sandrun`, `Sandrun.ValidationError`, … The wasm is inlined
// (base64) and instantiated on the first `Sandrun.create()` (or `Sandrun.init()`).
import initWasm, * as wasm from './sandrun_sdk.js';
import wasmBytes from './sandrun_sdk_bg.wasm';
import { browserLoader } from '../js/load.js';
import { fullBrowserPlatform } from '../js/browser-full.js';

export const { init } = browserLoader(initWasm, wasm, () => wasmBytes, fullBrowserPlatform);
/** `Sandrun.create(config)` on the global: the same as `Sandrun.Sandrun.create(config)`. */
export function create(config) {
  return wasm.Sandrun.create(config);
}
export * from './exports.js';
export * from '../js/errors.js';
