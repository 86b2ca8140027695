//! The platform object the entry file hands over (`setPlatform`): everything Rust needs from the
//! host — HTTP, a log-stream socket, timers, error classes, and in Node the file system. See
//! `docs/architecture.md` for the contract. Rust never imports a platform module itself, so the
//! same `.wasm` serves browsers, bundlers and Node.

use crate::error::{js_code, js_message, Code, Result, SdkError};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

thread_local! {
    static PLATFORM: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Installs the platform (called once by each entry file before any other call).
#[wasm_bindgen(js_name = setPlatform)]
pub fn set_platform(platform: JsValue) -> std::result::Result<(), JsValue> {
    for name in ["request", "openStream", "sleep", "makeError"] {
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
    PLATFORM.with(|p| *p.borrow_mut() = Some(platform));
    Ok(())
}

fn platform() -> Result<JsValue> {
    PLATFORM.with(|p| p.borrow().clone()).ok_or_else(|| {
        SdkError::new(
            Code::Internal,
            "no platform installed: import the SDK through its package entry",
        )
    })
}

fn method(name: &str) -> Result<(JsValue, Function)> {
    let p = platform()?;
    let f = Reflect::get(&p, &name.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    match f {
        Some(f) => Ok((p, f)),
        None => Err(SdkError::new(
            Code::Unsupported,
            format!("this platform cannot {name}(): it is available in Node.js only"),
        )),
    }
}

/// Calls an async platform method and awaits it; a JS exception becomes `Err(JsValue)`.
async fn call(name: &str, args: &[&JsValue]) -> Result<std::result::Result<JsValue, JsValue>> {
    let (this, f) = method(name)?;
    let arr: Array = args.iter().copied().collect();
    let ret = match f.apply(&this, &arr) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    Ok(JsFuture::from(Promise::resolve(&ret)).await)
}

pub fn has(name: &str) -> bool {
    method(name).is_ok()
}

/// `makeError(code, message, details)`; falls back to a plain `Error` before a platform exists.
pub fn make_error(code: &str, message: &str, details: &JsValue) -> JsValue {
    if let Ok((this, f)) = method("makeError") {
        if let Ok(e) = f.call3(&this, &code.into(), &message.into(), details) {
            return e;
        }
    }
    let e = js_sys::Error::new(message);
    let _ = Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

pub struct Request<'a> {
    pub method: &'a str,
    pub url: String,
    pub headers: Vec<(&'a str, String)>,
    pub body: Option<&'a [u8]>,
    pub timeout_ms: Option<f64>,
    pub signal: Option<&'a JsValue>,
    pub on_progress: Option<&'a Function>,
}

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
}

/// What went wrong below HTTP: classified from the platform's exception.
pub enum Failure {
    Aborted,
    TimedOut,
    Network(String),
}

pub async fn request(req: Request<'_>) -> Result<std::result::Result<Response, Failure>> {
    let obj = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&obj, &k.into(), v);
    };
    set("method", &req.method.into());
    set("url", &req.url.as_str().into());
    let headers: Array = req
        .headers
        .iter()
        .map(|(k, v)| -> JsValue { Array::of2(&(*k).into(), &v.as_str().into()).into() })
        .collect();
    set("headers", &headers);
    if let Some(body) = req.body {
        set("body", &Uint8Array::from(body));
    }
    if let Some(t) = req.timeout_ms {
        set("timeoutMs", &t.into());
    }
    if let Some(s) = req.signal {
        set("signal", s);
    }
    if let Some(p) = req.on_progress {
        set("onProgress", p);
    }
    match call("request", &[&obj]).await? {
        Ok(res) => Ok(Ok(read_response(&res)?)),
        Err(e) => Ok(Err(classify(&e))),
    }
}

pub fn read_response(res: &JsValue) -> Result<Response> {
    let get = |k: &str| Reflect::get(res, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let status = get("status").as_f64().unwrap_or(0.0) as u16;
    let headers = Array::from(&get("headers"))
        .iter()
        .filter_map(|pair| {
            let pair = Array::from(&pair);
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect();
    let body = get("body");
    let body = if body.is_instance_of::<Uint8Array>() {
        Uint8Array::from(body).to_vec()
    } else {
        Vec::new()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn classify(e: &JsValue) -> Failure {
    let code = js_code(e).unwrap_or_default();
    match code.as_str() {
        "ABORT_ERR" | "AbortError" => Failure::Aborted,
        "ETIMEDOUT" | "TimeoutError" => Failure::TimedOut,
        _ => Failure::Network(if code.is_empty() {
            js_message(e)
        } else {
            format!("{code}: {}", js_message(e))
        }),
    }
}

/// Whether an `AbortSignal` (if any) has fired.
pub fn aborted(signal: Option<&JsValue>) -> bool {
    signal
        .and_then(|s| Reflect::get(s, &"aborted".into()).ok())
        .and_then(|a| a.as_bool())
        .unwrap_or(false)
}

/// Waits `ms`; resolves early (with `Err(Cancelled)`) when `signal` aborts.
pub async fn sleep(ms: f64, signal: Option<&JsValue>) -> Result<()> {
    let s = signal.cloned().unwrap_or(JsValue::UNDEFINED);
    match call("sleep", &[&ms.into(), &s]).await? {
        Ok(_) => Ok(()),
        Err(_) => Err(SdkError::new(Code::Cancelled, "aborted")),
    }
}

/// A message socket on `url` (the worker's `/stream/{id}`).
pub struct Socket(JsValue);

impl Socket {
    pub async fn open(url: &str) -> Result<std::result::Result<Socket, String>> {
        Ok(call("openStream", &[&url.into()])
            .await?
            .map(Socket)
            .map_err(|e| js_message(&e)))
    }

    /// The next message, `Ok(None)` at the end, `Err` when the socket broke.
    pub async fn next(&self) -> std::result::Result<Option<Vec<u8>>, String> {
        let f = Reflect::get(&self.0, &"next".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or("the stream object has no next()")?;
        let p = f.call0(&self.0).map_err(|e| js_message(&e))?;
        match JsFuture::from(Promise::resolve(&p)).await {
            Ok(v) if v.is_null() || v.is_undefined() => Ok(None),
            Ok(v) if v.is_instance_of::<Uint8Array>() => Ok(Some(Uint8Array::from(v).to_vec())),
            Ok(v) => Ok(v.as_string().map(String::into_bytes)),
            Err(e) => Err(js_message(&e)),
        }
    }

    pub fn close(&self) {
        if let Ok(f) = Reflect::get(&self.0, &"close".into()).and_then(|f| f.dyn_into::<Function>())
        {
            let _ = f.call0(&self.0);
        }
    }
}

/// Node: every file under `path`, as `(relative path, bytes)`.
pub async fn read_directory(path: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let v = call("readDirectory", &[&path.into()])
        .await?
        .map_err(|e| SdkError::field(format!("directory({path:?})"), js_message(&e)))?;
    Ok(Array::from(&v)
        .iter()
        .filter_map(|pair| {
            let pair = Array::from(&pair);
            let bytes = pair.get(1);
            Some((
                pair.get(0).as_string()?,
                bytes.dyn_into::<Uint8Array>().ok()?.to_vec(),
            ))
        })
        .collect())
}

/// Node: writes `bytes` to `relative` inside `dir` (the platform refuses paths that leave `dir`);
/// returns the written path.
pub async fn write_file_inside(dir: &str, relative: &str, bytes: &[u8]) -> Result<String> {
    let v = call(
        "writeFileInside",
        &[
            &dir.into(),
            &relative.into(),
            &Uint8Array::from(bytes).into(),
        ],
    )
    .await?
    .map_err(|e| SdkError::new(Code::Validation, js_message(&e)).op("downloadTo"))?;
    Ok(v.as_string().unwrap_or_default())
}

/// Reads a `Blob` (or `File`) fully.
pub async fn read_blob(blob: &JsValue) -> std::result::Result<Vec<u8>, String> {
    let f = Reflect::get(blob, &"arrayBuffer".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or("not a Blob")?;
    let p = f.call0(blob).map_err(|e| js_message(&e))?;
    let buf = JsFuture::from(Promise::resolve(&p))
        .await
        .map_err(|e| js_message(&e))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
