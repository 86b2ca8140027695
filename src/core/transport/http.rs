//! `Http`: requests to one server through the client's layers. Only CORS-simple requests (GET, or
//! POST of `multipart/form-data`, no custom headers) go to servers that may lack preflight
//! support; layers that add headers (auth) warn about that in browsers.

use super::call::{Body, Call, CallOpts, Reply};
use super::layer::{Next, Stack};
use super::status::parse_json;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::platform::{Response, Socket};
use std::rc::Rc;
use wasm_bindgen::JsValue;

#[derive(Clone)]
pub struct Http {
    pub endpoint: String,
    pub request_timeout_ms: f64,
    pub layers: Stack,
}

impl Http {
    pub fn new(endpoint: &str, request_timeout_ms: f64) -> Http {
        Http {
            endpoint: endpoint.to_string(),
            request_timeout_ms,
            layers: Rc::from(Vec::new()),
        }
    }

    /// The same layers, to another server.
    pub fn to(&self, endpoint: &str) -> Http {
        Http {
            endpoint: endpoint.to_string(),
            ..self.clone()
        }
    }

    fn call(
        &self,
        op: &'static str,
        method: &'static str,
        path: &str,
        body: Option<Body>,
        opts: &CallOpts,
    ) -> Call {
        let mut headers = Vec::new();
        if let Some(b) = &body {
            headers.push(("Content-Type".to_string(), b.content_type.clone()));
        }
        headers.extend(opts.headers.iter().cloned());
        Call {
            op,
            method,
            endpoint: self.endpoint.clone(),
            path: path.to_string(),
            url: format!("{}{}", self.endpoint, path),
            headers,
            body,
            timeout_ms: opts.timeout_ms.unwrap_or(self.request_timeout_ms),
            explicit_timeout_ms: opts.timeout_ms,
            deadline: None,
            signal: opts.signal.clone(),
            on_progress: opts.on_progress.clone(),
            job_id: opts.job_id.clone(),
            stream: false,
        }
    }

    fn tag(&self, op: &'static str, opts: &CallOpts, e: SdkError) -> SdkError {
        let e = e.op(op).endpoint(&self.endpoint);
        match &opts.job_id {
            Some(id) => e.job(id),
            None => e,
        }
    }

    /// Sends a request through the layers; a 2xx answer, or the matching error.
    pub async fn send(
        &self,
        op: &'static str,
        method: &'static str,
        path: &str,
        body: Option<Body>,
        opts: &CallOpts,
    ) -> Result<Response> {
        let call = self.call(op, method, path, body, opts);
        match Next::new(self.layers.clone()).run(call).await {
            Ok(Reply::Http(res)) => Ok(res),
            Ok(Reply::Stream(_)) => Err(self.tag(
                op,
                opts,
                SdkError::new(
                    Code::Internal,
                    format!("{op}: a layer answered with a socket"),
                ),
            )),
            Err(e) => Err(self.tag(op, opts, e)),
        }
    }

    /// Opens the log stream at `url` (operation `stream`, through the layers). `Err(why)` when
    /// it could not be opened: the caller falls back to `/logs`.
    pub async fn open_stream(
        &self,
        url: &str,
        opts: &CallOpts,
    ) -> std::result::Result<Rc<Socket>, String> {
        let path = sandrun_protocol::text::find(url, "/stream/").map_or(url, |i| &url[i..]);
        let mut call = self.call("stream", "GET", path, None, opts);
        call.url = url.to_string();
        call.stream = true;
        match Next::new(self.layers.clone()).run(call).await {
            Ok(Reply::Stream(s)) => Ok(s),
            Ok(Reply::Http(_)) => Err("a layer answered the stream without opening it".into()),
            Err(e) => Err(e.message),
        }
    }

    /// GET `path` and read its JSON with `read`, which is also told whether the body was escaped
    /// byte by byte (`sandrun_protocol::text::is_bytewise`). An answer of another shape (the real
    /// worker answers unknown GET paths with its info body) is a `PROTOCOL` error.
    pub async fn get_json<T>(
        &self,
        op: &'static str,
        path: &str,
        opts: &CallOpts,
        read: impl FnOnce(&JsValue, bool) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let res = self.send(op, "GET", path, None, opts).await?;
        self.read_json(op, path, opts, &res, read)
    }

    /// Reads a JSON answer with `read` (see `get_json`).
    pub fn read_json<T>(
        &self,
        op: &'static str,
        path: &str,
        opts: &CallOpts,
        res: &Response,
        read: impl FnOnce(&JsValue, bool) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let bytewise = sandrun_protocol::text::is_bytewise(&res.body);
        parse_json(&res.body)
            .map_err(String::from)
            .and_then(|v| read(&v, bytewise))
            .map_err(|why| {
                let e = SdkError::new(
                    Code::Protocol,
                    format!(
                        "{op}: {}{path} answered with something else than expected ({why})",
                        self.endpoint
                    ),
                );
                self.tag(op, opts, e)
            })
    }

    /// POST a JSON body (brokers, coordinators' JSON APIs) and read the answer with `read`.
    pub async fn post_json<T>(
        &self,
        op: &'static str,
        path: &str,
        body: &JsValue,
        opts: &CallOpts,
        read: impl FnOnce(&JsValue, bool) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let text = js_sys::JSON::stringify(body)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        let body = Body::new("application/json", text.into_bytes());
        let res = self.send(op, "POST", path, Some(body), opts).await?;
        self.read_json(op, path, opts, &res, read)
    }
}
