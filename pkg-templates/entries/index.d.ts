// @sandrun/sdk — its TypeScript surface, the same for every condition (browser/bundler ESM, Node ESM,
// Node CommonJS): the core SDK, within the browser size budget.
// Classes, functions and data types come from the Rust (wasm-bindgen and the SDK's own derive);
// exports.d.ts names what this entry exports. Consumers need TypeScript >= 5.2 with lib
// `esnext.disposable` (or `skipLibCheck`).
import type { InitOptions } from './js/load.js';

export * from './exports.js';
export type * from './sandrun_sdk.js';
export * from './js/errors.js';
export type { InitOptions } from './js/load.js';

/**
 * Loads the wasm before the first `Sandrun.create()` (optional; Node loads it at import).
 * `wasm`: where the `.wasm` is, or its bytes/Response/compiled Module.
 */
export declare function init(options?: InitOptions): Promise<void>;
