//! The host platform: everything Rust needs from the JS side — HTTP, a log-stream socket, timers,
//! the error classes, and in Node the file system. The entry file of each npm entry hands it over
//! with `setPlatform(platform)` (`js/browser.js`, `js/node.js`). Rust never imports a platform
//! module itself, so the same `.wasm` serves browsers, bundlers and Node.
//!
//! The contract is typed on both sides: the `extern` block below is what Rust calls, and the
//! TypeScript section below it (`Platform`, emitted into the generated `.d.ts`) is what the JS
//! files are checked against (`tsc --checkJs` in the packaging tests).

use super::error::{Code, Result, SdkError};
use super::js::{code_of, message_of, number, pairs, pairs_js, prop, ToJs};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "Platform")]
    #[derive(Clone)]
    pub type Platform;
    #[wasm_bindgen(method, catch)]
    fn request(this: &Platform, req: &JsValue) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = requestStream)]
    fn request_stream(this: &Platform, req: &JsValue) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = sha256)]
    fn sha256_sync(this: &Platform, bytes: &Uint8Array)
        -> std::result::Result<Uint8Array, JsValue>;
    #[wasm_bindgen(method, catch, js_name = openStream)]
    fn open_stream(this: &Platform, url: &str) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn sleep(this: &Platform, ms: f64, signal: &JsValue) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = makeError)]
    fn make_error(
        this: &Platform,
        code: &str,
        message: &str,
        details: &JsValue,
    ) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn gzip(this: &Platform, bytes: &Uint8Array) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = readDirectory)]
    fn read_directory(this: &Platform, path: &str) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = writeFileInside)]
    fn write_file_inside(
        this: &Platform,
        dir: &str,
        relative: &str,
        bytes: &Uint8Array,
    ) -> std::result::Result<Promise, JsValue>;

    /// A message socket as `openStream` resolves it.
    #[wasm_bindgen(typescript_type = "StreamReader")]
    pub type StreamReader;
    #[wasm_bindgen(method, catch, js_name = next)]
    fn next_message(this: &StreamReader) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, js_name = close)]
    fn close_reader(this: &StreamReader);
}

#[wasm_bindgen(typescript_custom_section)]
const PLATFORM_TS: &'static str = r#"
/** What the SDK needs from its host; `js/browser.js` and `js/node.js` provide it. */
export interface Platform {
  /** One HTTP request. Network failures reject with an Error whose `code` is `ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, `ABORT_ERR`, … when known. */
  request(request: PlatformRequest): Promise<{ status: number; headers: [string, string][]; body: Uint8Array }>;
  /** One HTTP request whose answer is read in pieces (IPFS uploads and downloads): resolves with the status and headers; `timeoutMs` is the longest wait for the answer and for each piece. Failures as for `request`. Without it the SDK falls back to `request` (whole bodies). */
  requestStream?(request: PlatformStreamRequest): Promise<StreamedResponse>;
  /** SHA-256, synchronously (Node: node:crypto, several times the wasm's own): local IPFS CIDs use it when present. */
  sha256?(bytes: Uint8Array): Uint8Array;
  /** A message socket on a worker's `/stream/{id}`. */
  openStream(url: string): Promise<StreamReader>;
  /** Resolves after `ms`; rejects early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** gzip (the platform's `CompressionStream`). */
  gzip(bytes: Uint8Array): Promise<Uint8Array>;
  /** The error instance for a code (`js/errors.js`). */
  makeError(code: string, message: string, details: Record<string, unknown>): Error;
  /** Node: every file under a folder, as `[relativePath, bytes]`, sorted. */
  readDirectory?(path: string): Promise<[string, Uint8Array][]>;
  /** Node: writes inside `dir`, refusing paths that leave it; resolves with the written path. */
  writeFileInside?(dir: string, relative: string, bytes: Uint8Array): Promise<string>;
}
/** A `requestStream` answer: `next()` gives the body's next bytes, `null` at the end; `close()` stops the transfer. */
export interface StreamedResponse {
  status: number;
  headers: [string, string][];
  next(): Promise<Uint8Array | null>;
  close(): void;
}
/** A request whose body may also be a Blob or a stream (streamed where the platform can: Node; browsers' fetch streams uploads only over HTTP/2, so a stream is read into a Blob first). */
export type PlatformStreamRequest = Omit<PlatformRequest, 'body'> & { body?: Uint8Array | Blob | ReadableStream<Uint8Array> };
/** One message a call, `null` at the end. */
export interface StreamReader {
  next(): Promise<Uint8Array | string | null>;
  close(): void;
}
"#;

thread_local! {
    static PLATFORM: RefCell<Option<Platform>> = const { RefCell::new(None) };
}

/// Installs the platform (`setPlatform`, exported by the entries layer, calls it once before
/// anything else).
pub fn install(platform: JsValue) -> std::result::Result<(), JsValue> {
    for name in ["request", "openStream", "sleep", "gzip", "makeError"] {
        if !Reflect::get(&platform, &name.into())
            .map(|f| f.is_function())
            .unwrap_or(false)
        {
            return Err(js_sys::TypeError::new(&format!(
                "setPlatform: the platform has no {name}() function"
            ))
            .into());
        }
    }
    PLATFORM.with(|p| *p.borrow_mut() = Some(platform.unchecked_into()));
    Ok(())
}

fn platform() -> Result<Platform> {
    PLATFORM.with(|p| p.borrow().clone()).ok_or_else(|| {
        SdkError::new(
            Code::Internal,
            "no platform installed: import the SDK through its package entry",
        )
    })
}

/// Whether the platform has an optional member (`readDirectory`, `writeFileInside`: Node only).
pub fn has(name: &str) -> bool {
    platform()
        .map(|p| {
            Reflect::get(&p, &name.into())
                .map(|f| f.is_function())
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

/// Awaits a promise a platform call returned; a JS exception (thrown or rejected) is `Err`.
async fn settle(
    called: std::result::Result<Promise, JsValue>,
) -> std::result::Result<JsValue, JsValue> {
    JsFuture::from(called?).await
}

/// `makeError(code, message, details)`; a plain `Error` with `code` before a platform exists.
pub fn make_error(code: &str, message: &str, details: &JsValue) -> JsValue {
    if let Ok(Ok(e)) = platform().map(|p| p.make_error(code, message, details)) {
        return e;
    }
    let e = js_sys::Error::new(message);
    let _ = Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

/// One request as the platform takes it.
#[derive(sandrun_derive::ToJs)]
#[js(no_ts)]
pub struct Request {
    pub method: String,
    pub url: String,
    #[js(ts = "[string, string][]")]
    pub headers: JsValue,
    #[js(optional)]
    pub body: Option<JsValue>,
    #[js(optional)]
    pub timeout_ms: Option<f64>,
    #[js(optional)]
    pub signal: Option<JsValue>,
    #[js(optional)]
    pub on_progress: Option<JsValue>,
}

#[wasm_bindgen(typescript_custom_section)]
const REQUEST_TS: &'static str = r#"
export interface PlatformRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body?: Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Upload progress, `{ loaded, total }` in bytes. */
  onProgress?: (progress: { loaded: number; total: number }) => void;
}
"#;

#[derive(Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `{ status, headers, body }` as middleware and `onError` hooks see it.
    pub fn to_js_object(&self) -> JsValue {
        let o = super::js::Obj::new();
        o.set("status", &(self.status as f64))
            .set("headers", &pairs_js(&self.headers))
            .set(
                "body",
                &JsValue::from(Uint8Array::from(self.body.as_slice())),
            );
        o.into()
    }

    /// Reads `{ status, headers, body }` (what the platform, a middleware or a hook gives);
    /// `None` when it has no status.
    pub fn from_js_object(res: &JsValue) -> Option<Response> {
        let status = number(res, "status").filter(|s| *s >= 1.0)? as u16;
        let headers = prop(res, "headers").map(|h| pairs(&h)).unwrap_or_default();
        let body = prop(res, "body")
            .and_then(|b| b.dyn_into::<Uint8Array>().ok())
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Some(Response {
            status,
            headers,
            body,
        })
    }
}

/// What went wrong below HTTP, classified from the platform's exception.
pub enum Failure {
    Aborted,
    TimedOut,
    Network(String),
}

/// Sends one request; the inner result is the answer (any status) or the transport failure.
pub async fn request(req: Request) -> Result<std::result::Result<Response, Failure>> {
    let p = platform()?;
    match settle(p.request(&req.to_js())).await {
        Ok(res) => Response::from_js_object(&res).map(Ok).ok_or_else(|| {
            SdkError::new(
                Code::Internal,
                "the platform's request() resolved without a status",
            )
        }),
        Err(e) => Ok(Err(classify(&e))),
    }
}

/// An answer whose body is read in pieces (`requestStream`); dropping it ends the transfer.
pub struct Streamed {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    body: Option<StreamReader>,
    /// The whole body, when the platform has no `requestStream` and `request` answered.
    whole: Option<Vec<u8>>,
}

impl Streamed {
    /// An answer already read whole (a platform without `requestStream`, a layer's own answer).
    pub fn whole(res: Response) -> Streamed {
        Streamed {
            status: res.status,
            headers: res.headers,
            body: None,
            whole: Some(res.body),
        }
    }

    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body's next bytes, `None` at the end.
    pub async fn next(&mut self) -> std::result::Result<Option<Vec<u8>>, Failure> {
        let Some(body) = &self.body else {
            return Ok(self.whole.take());
        };
        match settle(body.next_message()).await {
            Ok(v) => Ok(v.dyn_into::<Uint8Array>().ok().map(|b| b.to_vec())),
            Err(e) => Err(classify(&e)),
        }
    }
}

impl Drop for Streamed {
    fn drop(&mut self) {
        if let Some(body) = &self.body {
            body.close_reader();
        }
    }
}

/// Sends one request whose answer is read in pieces (see `Streamed`); the inner result is the
/// answer (any status) or the transport failure. `req.body` may be bytes, a Blob or a
/// `ReadableStream`.
pub async fn request_stream(req: Request) -> Result<std::result::Result<Streamed, Failure>> {
    if !has("requestStream") {
        return Ok(request(req).await?.map(Streamed::whole));
    }
    let p = platform()?;
    match settle(p.request_stream(&req.to_js())).await {
        Ok(res) => {
            let status = number(&res, "status")
                .filter(|s| *s >= 1.0)
                .ok_or_else(|| {
                    SdkError::new(
                        Code::Internal,
                        "the platform's requestStream() resolved without a status",
                    )
                })?;
            Ok(Ok(Streamed {
                status: status as u16,
                headers: prop(&res, "headers").map(|h| pairs(&h)).unwrap_or_default(),
                body: Some(res.unchecked_into()),
                whole: None,
            }))
        }
        Err(e) => Ok(Err(classify(&e))),
    }
}

/// SHA-256 by the platform's synchronous `sha256` (Node), `None` where it has none.
pub fn sha256(bytes: &[u8]) -> Option<[u8; 32]> {
    let p = platform().ok()?;
    // SAFETY: the view of wasm memory is read only by the synchronous call below, and nothing
    // allocates in the wasm meanwhile, so the memory cannot grow and detach it. No copy: a CID
    // hashes every byte of a file, and copying each 256 KiB chunk out first adds a third to the
    // hashing (50 MiB in Node: 37 ms from views, 50 ms from copies).
    let view = unsafe { Uint8Array::view(bytes) };
    let digest = p.sha256_sync(&view).ok()?;
    let mut out = [0u8; 32];
    (digest.length() == 32).then(|| digest.copy_to(&mut out))?;
    Some(out)
}

fn classify(e: &JsValue) -> Failure {
    let code = code_of(e).unwrap_or_default();
    match code.as_str() {
        "ABORT_ERR" | "AbortError" => Failure::Aborted,
        "ETIMEDOUT" | "TimeoutError" => Failure::TimedOut,
        _ => Failure::Network(if code.is_empty() {
            message_of(e)
        } else {
            format!("{code}: {}", message_of(e))
        }),
    }
}

/// Whether an `AbortSignal` (if any) has fired.
pub fn aborted(signal: Option<&JsValue>) -> bool {
    // Structural: any object with an `aborted` flag (a polyfilled signal too).
    signal
        .filter(|s| s.is_object())
        .map(|s| s.unchecked_ref::<web_sys::AbortSignal>().aborted())
        .unwrap_or(false)
}

/// Waits `ms`; resolves early (with `Err(Cancelled)`) when `signal` aborts.
pub async fn sleep(ms: f64, signal: Option<&JsValue>) -> Result<()> {
    let p = platform()?;
    let s = signal.cloned().unwrap_or(JsValue::UNDEFINED);
    settle(p.sleep(ms, &s))
        .await
        .map(|_| ())
        .map_err(|_| SdkError::new(Code::Cancelled, "aborted"))
}

/// A promise that resolves after `ms` (without a signal the platform's sleep never rejects).
pub fn timer(ms: f64) -> Promise {
    match platform().map(|p| p.sleep(ms, &JsValue::UNDEFINED)) {
        Ok(Ok(p)) => p,
        _ => Promise::resolve(&JsValue::UNDEFINED),
    }
}

/// A message socket on `url` (the worker's `/stream/{id}`).
pub struct Socket(StreamReader);

impl Socket {
    pub async fn open(url: &str) -> Result<std::result::Result<Socket, String>> {
        let p = platform()?;
        Ok(settle(p.open_stream(url))
            .await
            .map(|r| Socket(r.unchecked_into()))
            .map_err(|e| message_of(&e)))
    }

    /// The next message, `Ok(None)` at the end, `Err` when the socket broke.
    pub async fn next(&self) -> std::result::Result<Option<Vec<u8>>, String> {
        match settle(self.0.next_message()).await {
            Ok(v) if v.is_null() || v.is_undefined() => Ok(None),
            Ok(v) => match v.dyn_into::<Uint8Array>() {
                Ok(bytes) => Ok(Some(bytes.to_vec())),
                Err(v) => Ok(v.as_string().map(String::into_bytes)),
            },
            Err(e) => Err(message_of(&e)),
        }
    }

    pub fn close(&self) {
        self.0.close_reader();
    }
}

/// `bytes` gzip'd by the platform.
pub async fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let p = platform()?;
    let v = settle(p.gzip(&Uint8Array::from(bytes)))
        .await
        .map_err(|e| {
            SdkError::new(
                Code::Unsupported,
                format!("this platform cannot gzip: {}", message_of(&e)),
            )
        })?;
    Ok(v.dyn_into::<Uint8Array>()
        .map(|b| b.to_vec())
        .unwrap_or_default())
}

/// Node: every file under `path`, as `(relative path, bytes)`.
pub async fn read_directory(path: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let p = platform()?;
    let v = settle(p.read_directory(path))
        .await
        .map_err(|e| SdkError::field(format!("directory(\"{path}\")"), message_of(&e)))?;
    Ok(Array::from(&v)
        .iter()
        .filter_map(|pair| {
            let pair = Array::from(&pair);
            let bytes = pair.get(1).dyn_into::<Uint8Array>().ok()?;
            Some((pair.get(0).as_string()?, bytes.to_vec()))
        })
        .collect())
}

/// Node: writes `bytes` to `relative` inside `dir` (the platform refuses paths that leave `dir`);
/// returns the written path.
pub async fn write_file_inside(dir: &str, relative: &str, bytes: &[u8]) -> Result<String> {
    let p = platform()?;
    let v = settle(p.write_file_inside(dir, relative, &Uint8Array::from(bytes)))
        .await
        .map_err(|e| SdkError::new(Code::Validation, message_of(&e)).op("downloadTo"))?;
    Ok(v.as_string().unwrap_or_default())
}

/// Reads a `Blob` (or `File`) fully.
pub async fn read_blob(blob: &JsValue) -> std::result::Result<Vec<u8>, String> {
    // Structural, like the builder's check: anything with `arrayBuffer()` (a File, a Blob from
    // another realm or a polyfill).
    if super::js::method(blob, "arrayBuffer").is_none() {
        return Err("not a Blob".into());
    }
    let blob: &web_sys::Blob = blob.unchecked_ref();
    let buf = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|e| message_of(&e))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Calls a user-supplied function that may return a promise, and awaits it.
pub async fn call_async(
    f: &Function,
    this: &JsValue,
    args: &[&JsValue],
) -> std::result::Result<JsValue, JsValue> {
    let arr: Array = args.iter().copied().collect();
    let v = f.apply(this, &arr)?;
    JsFuture::from(Promise::resolve(&v)).await
}
