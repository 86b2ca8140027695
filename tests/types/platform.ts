// The platform glue provides what the wasm says it needs: `Platform` is declared in Rust
// (src/core/boundary/platform.rs, emitted into the generated .d.ts); js/browser.js, js/browser-full.js
// and js/node.js are read by TypeScript (allowJs) and what they return must be assignable to it.
import type { Platform } from '../node_modules/@sandrun/sdk/sandrun_sdk.js';
import { browserPlatform } from '../node_modules/@sandrun/sdk/js/browser.js';
import { fullBrowserPlatform } from '../node_modules/@sandrun/sdk/js/browser-full.js';
import { nodePlatform } from '../node_modules/@sandrun/sdk/js/node.js';

export const browser: Platform = browserPlatform();
export const browserFull: Platform = fullBrowserPlatform();
export const node: Platform = nodePlatform({ WebSocket: undefined });
