// @sandrun/sdk/full — Node.js entry (ESM; the CommonJS entry node.cjs is built from this file):
// the core SDK plus plugins, pools, consensus and the node agent. The wasm is compiled from the file next to this one at import.
import * as wasm from './sandrun_sdk.js';
import { loadNode } from '../js/load-node.js';

export const { init } = loadNode(wasm, new URL('./sandrun_sdk_bg.wasm', import.meta.url));
export * from './exports.js';
export * from '../js/errors.js';
