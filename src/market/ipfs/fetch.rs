//! Requests to IPFS servers (the Kubo RPC node, gateways, pinning services). Each goes through the
//! client's transport layers, like a worker's requests (plugins, middleware, hooks), but ends in
//! the platform's streamed request instead of the core's whole-body one: the innermost layer here
//! (`Terminal`) sends it and keeps the open body for the caller, and the layers above see the
//! status and headers with an empty body. A layer that answers by itself (a middleware's stand-in
//! response) is read as a whole body. Error answers become the transport's typed errors (so retry
//! and circuit-breaker layers treat them as they treat a worker's); `failure.rs` turns them into
//! what the IPFS layer reports.

use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{pairs_js, string};
use crate::core::boundary::platform::{self, Failure, Request, Response, Streamed};
use crate::core::transport::status::{parse_json, status_error};
use crate::core::transport::{Body as CallBody, Call, CallOpts, Fut, Http, Layer, Next, Reply};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// Error answers are read up to this much (an HTML error page is not worth more).
const MAX_ERROR_BODY: usize = 64 * 1024;
/// JSON answers (pin lists, a node's NDJSON) are read up to this much.
pub const MAX_JSON_BODY: usize = 16 << 20;

/// What is sent.
pub enum Body {
    /// A small body the layers may see (JSON for pinning services).
    Bytes {
        content_type: &'static str,
        bytes: Vec<u8>,
    },
    /// A `ReadableStream` (Kubo's multipart uploads), streamed where the platform can.
    Stream {
        content_type: String,
        stream: JsValue,
    },
}

/// One server, reached through the client's layers.
#[derive(Clone)]
pub struct Endpoint {
    http: Http,
    /// Sent with every request (RPC auth, a pinning service's bearer token).
    headers: Vec<(String, String)>,
}

impl Endpoint {
    pub fn new(client: &Http, url: &str, headers: Vec<(String, String)>) -> Endpoint {
        Endpoint {
            http: client.to(url),
            headers,
        }
    }

    pub fn url(&self) -> &str {
        &self.http.endpoint
    }

    /// Sends a request; on a 2xx answer, its body is there to be read in pieces.
    pub async fn open(
        &self,
        op: &'static str,
        method: &'static str,
        path: &str,
        body: Option<Body>,
        opts: &CallOpts,
    ) -> Result<Streamed> {
        let mut headers = self.headers.clone();
        headers.extend(opts.headers.iter().cloned());
        let (call_body, upload) = match body {
            Some(Body::Bytes {
                content_type,
                bytes,
            }) => {
                headers.push(("Content-Type".into(), content_type.into()));
                (Some(CallBody::new(content_type, bytes)), None)
            }
            Some(Body::Stream {
                content_type,
                stream,
            }) => {
                headers.push(("Content-Type".into(), content_type));
                (None, Some(stream))
            }
            None => (None, None),
        };
        let call = Call {
            op,
            method,
            endpoint: self.http.endpoint.clone(),
            path: path.to_string(),
            url: format!("{}{}", self.http.endpoint, path),
            headers,
            body: call_body,
            timeout_ms: opts.timeout_ms.unwrap_or(self.http.request_timeout_ms),
            explicit_timeout_ms: opts.timeout_ms,
            deadline: None,
            signal: opts.signal.clone(),
            on_progress: None,
            job_id: None,
            stream: false,
        };
        let terminal = Rc::new(Terminal {
            streamed: upload.is_some(),
            upload: RefCell::new(upload),
            failed: RefCell::new(None),
            open: RefCell::new(None),
        });
        let mut stack: Vec<Rc<dyn Layer>> = self.http.layers.iter().cloned().collect();
        stack.push(terminal.clone());
        let reply = Next::new(Rc::from(stack)).run(call).await;
        let tag = |e: SdkError| e.op(op).endpoint(&self.http.endpoint);
        match reply.map_err(tag)? {
            Reply::Http(res) => Ok(terminal
                .open
                .borrow_mut()
                .take()
                .unwrap_or_else(|| Streamed::whole(res))),
            Reply::Stream(_) => Err(tag(SdkError::new(
                Code::Internal,
                format!("{op}: a layer answered with a socket"),
            ))),
        }
    }

    /// Sends a request and reads the whole answer (at most `max` bytes).
    pub async fn read(
        &self,
        op: &'static str,
        method: &'static str,
        path: &str,
        body: Option<Body>,
        opts: &CallOpts,
        max: usize,
    ) -> Result<Vec<u8>> {
        let mut res = self.open(op, method, path, body, opts).await?;
        read_to_end(&mut res, max)
            .await
            .map_err(|e| e.op(op).endpoint(&self.http.endpoint))
    }

    /// Sends a request and parses the answer as JSON.
    pub async fn json(
        &self,
        op: &'static str,
        method: &'static str,
        path: &str,
        body: Option<Body>,
        opts: &CallOpts,
    ) -> Result<JsValue> {
        let bytes = self
            .read(op, method, path, body, opts, MAX_JSON_BODY)
            .await?;
        parse_json(&bytes).map_err(|_| {
            SdkError::new(
                Code::Protocol,
                format!(
                    "{op}: {}{path} answered with something else than JSON",
                    self.http.endpoint
                ),
            )
            .op(op)
            .endpoint(&self.http.endpoint)
        })
    }
}

/// The rest of a body, up to `max` bytes (more is a `PROTOCOL` error).
pub async fn read_to_end(res: &mut Streamed, max: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(piece) = res.next().await.map_err(|f| failure("read", &f, ""))? {
        out.extend_from_slice(&piece);
        if out.len() > max {
            return Err(SdkError::new(
                Code::Protocol,
                format!("the answer is larger than {max} bytes"),
            ));
        }
    }
    Ok(out)
}

/// The error for a failure below HTTP, as the core's transport words it.
pub fn failure(op: &str, f: &Failure, endpoint: &str) -> SdkError {
    match f {
        Failure::Aborted => SdkError::new(Code::Cancelled, format!("{op} was aborted")),
        Failure::TimedOut => SdkError::new(
            Code::Timeout,
            format!("{op}: no answer from {endpoint} in time"),
        ),
        Failure::Network(cause) => SdkError::new(
            Code::Network,
            format!("{op}: could not reach {endpoint}: {cause}"),
        )
        .cause(cause.clone()),
    }
}

/// The innermost layer: the platform's streamed request.
struct Terminal {
    /// A streamed upload is read as it is sent, so it can be sent once: a layer that tries again
    /// (a retry plugin) gets an error that says so instead of an empty body.
    upload: RefCell<Option<JsValue>>,
    streamed: bool,
    /// Why the streamed upload failed, for an attempt that cannot send it again.
    failed: RefCell<Option<SdkError>>,
    /// The open answer of the last attempt (a retry layer may send more than once).
    open: RefCell<Option<Streamed>>,
}

impl Layer for Terminal {
    fn call<'a>(&'a self, call: Call, _next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            let upload = self.upload.borrow_mut().take();
            if self.streamed && upload.is_none() {
                let first = self.failed.borrow().clone();
                let e = first.unwrap_or_else(|| SdkError::new(Code::Network, "the upload failed"));
                let message = format!(
                    "{} (not sent again: the upload is read as it is sent)",
                    e.message
                );
                return Err(SdkError { message, ..e }.retryable(false));
            }
            let req = Request {
                method: call.method.to_string(),
                url: call.url.clone(),
                headers: pairs_js(&call.headers),
                body: upload.or_else(|| {
                    call.body
                        .as_ref()
                        .map(|b| js_sys::Uint8Array::from(&b.bytes[..]).into())
                }),
                timeout_ms: Some(call.timeout_ms),
                signal: call.signal.clone(),
                on_progress: None,
            };
            let mut res = match platform::request_stream(req).await? {
                Ok(res) => res,
                Err(f) => {
                    let e = failure(call.op, &f, &call.endpoint);
                    *self.failed.borrow_mut() = Some(e.clone());
                    return Err(e);
                }
            };
            let head = Response {
                status: res.status,
                headers: res.headers.clone(),
                body: Vec::new(),
            };
            if (200..300).contains(&res.status) {
                *self.open.borrow_mut() = Some(res);
                return Ok(Reply::Http(head));
            }
            let body = read_to_end(&mut res, MAX_ERROR_BODY)
                .await
                .unwrap_or_default();
            let e = answer_error(call.op, Response { body, ..head });
            *self.failed.borrow_mut() = Some(e.clone());
            Err(e)
        })
    }
}

/// An error answer as a typed error, with the server's own words: Kubo's `{"Message"}`, a pinning
/// service's `{"error": {"reason", "details"}}` (its `reason` is kept as `reason`), a gateway's
/// text.
fn answer_error(op: &'static str, res: Response) -> SdkError {
    let mut e = status_error(op, &res);
    let json = parse_json(&res.body).ok();
    let kubo = json.as_ref().and_then(|v| string(v, "Message"));
    let psa = json
        .as_ref()
        .and_then(|v| crate::core::boundary::js::prop(v, "error"))
        .filter(|v| v.is_object());
    if let Some(m) = kubo {
        e.message = format!("{op}: the server answered {}: {m}", res.status);
        e.context.cause = Some(m);
    } else if let Some(err) = psa {
        let reason = string(&err, "reason").unwrap_or_default();
        let details = string(&err, "details").unwrap_or_default();
        e.message = format!(
            "{op}: the server answered {}: {reason} {details}",
            res.status
        )
        .trim_end()
        .to_string();
        e.context.cause = Some(format!("{reason}: {details}"));
        let d = crate::core::boundary::js::Obj::new();
        d.set("reason", &reason);
        e = e.with_details(d.into());
    }
    e
}
