// Loading the wasm in browsers and bundlers, shared by the browser entries of @sandrun/sdk and
// @sandrun/sdk/full: lazily, on the first `Sandrun.create()` (or an explicit `init()`), with the
// browser platform; a failed load (offline, 404) may be retried. No top-level await.
import { browserPlatform } from './browser.js';
import { finishApi } from './api.js';

/**
 * `initWasm` and `wasm` are the generated module's default export and namespace; `defaultWasm`
 * says where the .wasm is when `init({ wasm })` does not (the entry's own
 * `new URL('./sandrun_sdk_bg.wasm', import.meta.url)`, which bundlers see and emit as an asset);
 * `platform` makes the platform the entry installs (the full entry's adds to the core's).
 */
export function browserLoader(initWasm, wasm, defaultWasm, platform = browserPlatform) {
  let source;
  let ready;
  const ensureInit = () => {
    ready ??= (async () => {
      await initWasm({ module_or_path: source ?? defaultWasm() });
      wasm.setPlatform(platform());
    })().catch((e) => {
      ready = undefined;
      throw e;
    });
    return ready;
  };
  finishApi(wasm, { ensureInit });
  /** Loads the wasm now instead of on the first `Sandrun.create()`; `wasm` says where it is. */
  function init(options = {}) {
    if (options.wasm !== undefined) {
      if (ready) throw new Error('@sandrun/sdk: init({ wasm }) must come before the first Sandrun.create()');
      source = options.wasm;
    }
    return ensureInit();
  }
  return { init };
}
