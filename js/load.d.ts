/** Where the `.wasm` is, for bundlers that do not handle `new URL('./sandrun_sdk_bg.wasm', import.meta.url)`. */
export interface InitOptions {
  wasm?: string | URL | Request | Response | BufferSource | WebAssembly.Module;
}
