//! The layers of JS plugins' hooks: `onInit` before the first operation, the operation's
//! bookkeeping around the retries (latency, `onError`, the error counted and logged), and
//! `onRequest` / `onResponse` around each request as it is sent.

use super::{ctx_obj, show_headers, Pipeline};
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{message_of, pairs, pairs_js, prop, string, Obj};
use crate::core::boundary::platform::{self, Response};
use crate::core::transport::status::status_error;
use crate::core::transport::{Call, Fut, Layer, Next, Reply};
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// The context hooks and middleware get: `{ operation, method, url, endpoint, jobId }`.
pub fn call_ctx(call: &Call) -> JsValue {
    ctx_obj(&[
        ("operation", call.op),
        ("method", call.method),
        ("url", &format!("{}{}", call.endpoint, call.path)),
        ("endpoint", &call.endpoint),
        ("jobId", call.job_id.as_deref().unwrap_or("")),
    ])
}

/// Outermost: the dependency check and `onInit` of plugins that have not had it.
pub struct Init(pub Rc<Pipeline>);

impl Layer for Init {
    fn call<'a>(&'a self, call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            self.0.init().await?;
            next.run(call).await
        })
    }
}

/// Around the whole operation, retries included: its latency, the submitted counter, `onError`
/// hooks (which may recover with a response or replace the error), the error counted and logged.
pub struct Operation(pub Rc<Pipeline>);

impl Layer for Operation {
    fn call<'a>(&'a self, call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            if call.stream {
                return next.run(call).await;
            }
            let p = &self.0;
            let (op, start) = (call.op, platform::now_ms());
            let ctx = call_ctx(&call);
            let result = next.run(call).await;
            p.metrics(|m| m.observe(op, platform::now_ms() - start));
            let e = match result {
                Ok(r) => {
                    if op == "submit" {
                        p.metrics(|m| m.submitted += 1.0);
                    }
                    return Ok(r);
                }
                Err(e) => e,
            };
            if p.has("onError") {
                let js = e.clone().into_js();
                for entry in &p.entries {
                    let Some(f) = crate::core::boundary::js::method(&entry.js, "onError")
                        .filter(|_| entry.builtin.is_none())
                    else {
                        continue;
                    };
                    match platform::call_async(&f, &entry.js, &[&js, &ctx]).await {
                        Ok(v) if v.is_object() => {
                            if let Some(res) = Response::from_js_object(&v) {
                                p.log(
                                    1,
                                    "recovered",
                                    &[("operation", op), ("plugin", &entry.name)],
                                    &[],
                                );
                                return if (200..300).contains(&res.status) {
                                    Ok(Reply::Http(res))
                                } else {
                                    Err(status_error(op, &res))
                                };
                            }
                        }
                        Ok(_) => {}
                        Err(thrown) if thrown == js => break,
                        Err(thrown) => {
                            // A rethrow: what the plugin threw is what the caller gets.
                            let mut x = SdkError::new(Code::Internal, message_of(&thrown));
                            x.js = Some(thrown);
                            p.metrics(|m| m.error("THROWN"));
                            return Err(x);
                        }
                    }
                }
            }
            p.metrics(|m| m.error(e.code.as_str()));
            p.log(
                3,
                "error",
                &[
                    ("operation", op),
                    ("code", e.code.as_str()),
                    ("message", &e.message),
                ],
                &[],
            );
            Err(e)
        })
    }
}

/// Innermost: `onRequest` hooks (which may change the URL and headers), the request and response
/// logged, the attempt counted, `onResponse` hooks.
pub struct Request(pub Rc<Pipeline>);

impl Layer for Request {
    fn call<'a>(&'a self, mut call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            if call.stream {
                return next.run(call).await;
            }
            let p = &self.0;
            if p.has("onRequest") {
                let req = Obj::new();
                req.set("method", &call.method)
                    .set("url", &call.url)
                    .set("headers", &pairs_js(&call.headers));
                let req: JsValue = req.into();
                let ctx = call_ctx(&call);
                for e in &p.entries {
                    let v = p.call(e, "onRequest", &[&req, &ctx]).await?;
                    if v.is_object() {
                        if let Some(u) = string(&v, "url") {
                            call.url = u;
                        }
                        if let Some(h) = prop(&v, "headers").filter(js_sys::Array::is_array) {
                            call.headers = pairs(&h);
                        }
                    }
                }
            }
            let (op, url) = (call.op, call.url.clone());
            p.log(
                0,
                "request",
                &[
                    ("operation", op),
                    ("method", call.method),
                    ("url", &url),
                    ("headers", &show_headers(&call.headers)),
                ],
                &[],
            );
            let ctx = p.has("onResponse").then(|| call_ctx(&call));
            let t0 = platform::now_ms();
            let result = next.run(call).await;
            let ms = platform::now_ms() - t0;
            p.metrics(|m| m.request(op));
            let status = match &result {
                Ok(Reply::Http(r)) => r.status,
                Ok(Reply::Stream(_)) => 101,
                Err(e) => e.context.status.unwrap_or(0),
            };
            p.log(
                0,
                "response",
                &[("operation", op), ("url", &url)],
                &[("status", status as f64), ("durationMs", ms)],
            );
            if let Some(ctx) = ctx {
                let r = Obj::new();
                r.set("status", &(status as f64)).set("durationMs", &ms);
                if let Ok(Reply::Http(res)) = &result {
                    r.set("headers", &pairs_js(&res.headers));
                }
                let r: JsValue = r.into();
                p.each("onResponse", &[&r, &ctx]).await?;
            }
            result
        })
    }
}
