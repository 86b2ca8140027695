//! The plugin pipeline woven into `Http` (feature `full`): middleware chain, retries, per-request
//! built-ins (rate limit, circuit breaker, timeouts, auth) and hooks. `Http::send` comes here only
//! when the client or job has plugins or middleware; without them it takes the plain path.

use super::{status_error, Body, CallOpts, Http};

use crate::convert::{num, Obj};
use crate::error::{js_message, Code, Context, Result, SdkError};
use crate::platform;
use crate::plugins::{ctx_obj, now_with, resilience, sleep_with, Builtin};
use js_sys::{Function, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// The last error the innermost operation failed with, so that a middleware that rethrows it
/// unchanged gives the caller the original typed error.
type Last = Rc<RefCell<Option<(JsValue, SdkError)>>>;

fn remember(last: &Last, e: SdkError) -> JsValue {
    let js = e.clone().into_js();
    *last.borrow_mut() = Some((js.clone(), e));
    js
}

impl Http {
    fn ctx(&self, op: &str, method: &str, path: &str, opts: &CallOpts) -> JsValue {
        let url = format!("{}{}", self.endpoint, path);
        ctx_obj(&[
            ("operation", op),
            ("method", method),
            ("url", &url),
            ("endpoint", &self.endpoint),
            ("jobId", opts.job_id.as_deref().unwrap_or("")),
        ])
    }

    /// `send` with a pipeline: its `onInit` hooks once, then the middleware chain (if any)
    /// around the operation.
    pub(super) async fn send_piped(
        &self,
        op: &'static str,
        method: &str,
        path: &str,
        body: Body<'_>,
        opts: &CallOpts,
    ) -> Result<platform::Response> {
        self.pipeline
            .init()
            .await
            .map_err(|e| self.tag(op, opts, e))?;
        if self.pipeline.middleware.is_empty() {
            self.operation(op, method, path, body, opts).await
        } else {
            self.through_middleware(op, method, path, body, opts).await
        }
    }

    /// The middleware chain: each `execute(next, context)` gets a `next()` that runs the rest
    /// and resolves with the response `{ status, headers, body }`.
    async fn through_middleware(
        &self,
        op: &'static str,
        method: &str,
        path: &str,
        body: Body<'_>,
        opts: &CallOpts,
    ) -> Result<platform::Response> {
        let last: Last = Rc::default();
        let ctx = self.ctx(op, method, path, opts);
        let innermost = {
            let (http, opts, last) = (self.clone(), opts.clone(), last.clone());
            let body: Option<(String, Rc<[u8]>)> = body.map(|(c, b)| (c.to_string(), Rc::from(b)));
            let (method, path) = (method.to_string(), path.to_string());
            Closure::<dyn FnMut() -> Promise>::new(move || {
                let (http, opts, last) = (http.clone(), opts.clone(), last.clone());
                let (body, method, path) = (body.clone(), method.clone(), path.clone());
                future_to_promise(async move {
                    let b = body.as_ref().map(|(c, b)| (c.as_str(), &b[..]));
                    match http.operation(op, &method, &path, b, &opts).await {
                        Ok(res) => Ok(response_js(&res)),
                        Err(e) => Err(remember(&last, e)),
                    }
                })
            })
            .into_js_value()
        };
        self.chain(op, opts, ctx, innermost, last).await
    }

    /// Runs the middleware chain, outermost first, around `innermost` (a JS function returning a
    /// promise of a response), and reads the response it resolves with.
    async fn chain(
        &self,
        op: &'static str,
        opts: &CallOpts,
        ctx: JsValue,
        innermost: JsValue,
        last: Last,
    ) -> Result<platform::Response> {
        let mut next = innermost;
        for mw in self.pipeline.middleware.iter().rev() {
            let (mw, prev, ctx) = (mw.clone(), next.clone(), ctx.clone());
            next = Closure::<dyn FnMut() -> JsValue>::new(move || -> JsValue {
                let f = Reflect::get(&mw, &"execute".into()).unwrap_or(JsValue::UNDEFINED);
                match f.unchecked_ref::<Function>().call2(&mw, &prev, &ctx) {
                    Ok(v) => v,
                    Err(e) => Promise::reject(&e).into(),
                }
            })
            .into_js_value();
        }
        let first: &Function = next.unchecked_ref();
        let out = match first.call0(&JsValue::NULL) {
            Ok(v) => JsFuture::from(Promise::resolve(&v)).await,
            Err(e) => Err(e),
        };
        match out {
            Ok(v) => match platform::read_response(&v) {
                Ok(res) if res.status != 0 => self.check(op, opts, res),
                _ => Err(self.tag(
                    op,
                    opts,
                    SdkError::new(
                        Code::Plugin,
                        format!("{op}: a middleware resolved with something else than a response"),
                    ),
                )),
            },
            Err(thrown) => {
                if let Some((js, e)) = last.borrow_mut().take() {
                    if js == thrown {
                        return Err(e);
                    }
                }
                Err(self.tag(op, opts, thrown_error(op, thrown, "a middleware")))
            }
        }
    }

    /// Opens the log stream at `url` through the middleware chain (operation `stream`): the
    /// innermost `next()` opens the socket and resolves with `{ status: 101 }`. `Ok(Err(why))`
    /// when the socket could not be opened (the caller falls back to `/logs`).
    pub(super) async fn open_stream_piped(
        &self,
        url: &str,
        opts: &CallOpts,
    ) -> Result<std::result::Result<platform::Socket, String>> {
        self.pipeline
            .init()
            .await
            .map_err(|e| self.tag("stream", opts, e))?;
        let opened: Rc<RefCell<Option<std::result::Result<platform::Socket, String>>>> =
            Rc::default();
        let last: Last = Rc::default();
        let innermost = {
            let (url, opened, last) = (url.to_string(), opened.clone(), last.clone());
            Closure::<dyn FnMut() -> Promise>::new(move || {
                let (url, opened, last) = (url.clone(), opened.clone(), last.clone());
                future_to_promise(async move {
                    match platform::Socket::open(&url).await {
                        Ok(Ok(sock)) => {
                            *opened.borrow_mut() = Some(Ok(sock));
                            let res = platform::Response {
                                status: 101,
                                headers: Vec::new(),
                                body: Vec::new(),
                            };
                            Ok(response_js(&res))
                        }
                        Ok(Err(why)) => {
                            *opened.borrow_mut() = Some(Err(why.clone()));
                            let e = SdkError::new(
                                Code::Network,
                                format!("stream: could not open {url}: {why}"),
                            );
                            Err(remember(&last, e))
                        }
                        Err(e) => Err(remember(&last, e)),
                    }
                })
            })
            .into_js_value()
        };
        let ctx = self.ctx(
            "stream",
            "GET",
            url.strip_prefix(&crate::config::ws_base(&self.endpoint))
                .unwrap_or(url),
            opts,
        );
        let outcome = self.chain("stream", opts, ctx, innermost, last).await;
        let socket = opened.borrow_mut().take();
        match (outcome, socket) {
            (_, Some(Err(why))) => Ok(Err(why)),
            (Ok(_), Some(Ok(sock))) => Ok(Ok(sock)),
            // A middleware failed the operation or never called next(): no stream, fall back.
            (Err(e), sock) => {
                if let Some(Ok(s)) = sock {
                    s.close();
                }
                Ok(Err(e.message))
            }
            (Ok(_), None) => Ok(Err(
                "a middleware answered the stream without opening it".into()
            )),
        }
    }

    /// One operation: attempts, retries (with the retry plugin), `onError` hooks, metrics.
    pub(super) async fn operation(
        &self,
        op: &'static str,
        method: &str,
        path: &str,
        body: Body<'_>,
        opts: &CallOpts,
    ) -> Result<platform::Response> {
        let p = &self.pipeline;
        let start = platform::now_ms();
        let (mut retry, mut deadline) = (None, None);
        for b in p.builtins() {
            match b {
                Builtin::Retry(r) => {
                    retry.get_or_insert(r);
                }
                Builtin::Timeout(t) => {
                    if let Some(d) = t.deadline_ms {
                        deadline = Some(start + d);
                    }
                }
                _ => {}
            }
        }
        let mut attempt = 1;
        let result = loop {
            let mut e = match self
                .attempt_piped(op, method, path, body, opts, deadline)
                .await
            {
                Ok(res) => break Ok(res),
                Err(e) => e,
            };
            e.context.attempt = Some(attempt);
            let Some(rt) = retry else { break Err(e) };
            let random = rt
                .random
                .as_ref()
                .and_then(|f| f.call0(&JsValue::NULL).ok())
                .and_then(|v| v.as_f64())
                .unwrap_or_else(js_sys::Math::random);
            let mut delay = rt.policy.delay(&e, attempt, method != "POST", random);
            if let (Some(_), Some(f)) = (delay, &rt.retry_if) {
                let yes = f
                    .call2(&JsValue::NULL, &e.clone().into_js(), &attempt.into())
                    .map(|v| v.is_truthy());
                if !yes.unwrap_or(false) {
                    delay = None;
                }
            }
            let Some(delay) = delay else { break Err(e) };
            if deadline.is_some_and(|d| platform::now_ms() + delay >= d) {
                break Err(deadline_error(op, e, attempt));
            }
            p.metrics(|m| m.retries += 1.0);
            p.log(
                2,
                "retry",
                &[("operation", op), ("message", &e.message)],
                &[("attempt", attempt as f64), ("delayMs", delay)],
            );
            if let Some(f) = &rt.on_retry {
                let _ = f.call3(
                    &JsValue::NULL,
                    &e.clone().into_js(),
                    &attempt.into(),
                    &delay.into(),
                );
            }
            sleep_with(&rt.sleep, delay, opts.signal.as_ref())
                .await
                .map_err(|x| self.tag(op, opts, x))?;
            attempt += 1;
        };
        let ms = platform::now_ms() - start;
        p.metrics(|m| m.observe(op, ms));
        let e = match result {
            Ok(res) => {
                if op == "submit" {
                    p.metrics(|m| m.submitted += 1.0);
                }
                return Ok(res);
            }
            Err(e) => e,
        };
        // onError: return a response to recover, throw to replace the error, or nothing.
        if p.has("onError") {
            let js = e.clone().into_js();
            let ctx = self.ctx(op, method, path, opts);
            for entry in &p.entries {
                let f = Reflect::get(&entry.js, &"onError".into()).unwrap_or(JsValue::UNDEFINED);
                let Some(f) = f.dyn_ref::<Function>().filter(|_| entry.builtin.is_none()) else {
                    continue;
                };
                let got = match f.call2(&entry.js, &js, &ctx) {
                    Ok(v) => JsFuture::from(Promise::resolve(&v)).await,
                    Err(x) => Err(x),
                };
                match got {
                    Ok(v) if v.is_object() => {
                        if let Ok(res) = platform::read_response(&v) {
                            if res.status != 0 {
                                p.log(
                                    1,
                                    "recovered",
                                    &[("operation", op), ("plugin", &entry.name)],
                                    &[],
                                );
                                return self.check(op, opts, res);
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(thrown) if thrown == js => break,
                    Err(thrown) => {
                        // A rethrow: what the plugin threw is what the caller gets.
                        let mut x = SdkError::new(Code::Internal, js_message(&thrown));
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
    }

    /// One HTTP request, with the per-request built-ins and hooks of the pipeline.
    pub(super) async fn attempt_piped(
        &self,
        op: &'static str,
        method: &str,
        path: &str,
        body: Body<'_>,
        opts: &CallOpts,
        deadline: Option<f64>,
    ) -> Result<platform::Response> {
        let p = &self.pipeline;
        let tag = |e: SdkError| self.tag(op, opts, e);
        let mut url = format!("{}{}", self.endpoint, path);
        let mut refreshed = false;
        loop {
            let mut headers: Vec<(String, String)> = Vec::new();
            if let Some((ct, _)) = body {
                headers.push(("Content-Type".into(), ct.to_string()));
            }
            let mut timeout = opts.timeout_ms.unwrap_or(self.request_timeout_ms);
            let (mut breaker, mut timeouts, mut auth) = (None, None, None);
            for b in p.builtins() {
                match b {
                    Builtin::RateLimit(l) => {
                        l.acquire(op, opts.signal.as_ref()).await.map_err(tag)?
                    }
                    Builtin::Breaker(br) => {
                        let now = now_with(&br.now);
                        let open = br.with(&self.endpoint, |c| {
                            c.admit(now)
                                .err()
                                .map(|ms| (ms, c.failures(), c.outcomes.len()))
                        });
                        if let Some((ms, failures, calls)) = open {
                            let mut e = SdkError::new(
                                Code::CircuitOpen,
                                format!(
                                    "{op}: the circuit for {} is open after {} failures in its last {} calls; next try in {} ms",
                                    self.endpoint,
                                    failures,
                                    calls,
                                    num(ms.ceil())
                                ),
                            );
                            e.context.retry_after_ms = Some(ms);
                            return Err(tag(e));
                        }
                        breaker = Some(br);
                    }
                    Builtin::Timeout(t) => {
                        timeout = t.request_timeout(op, opts.timeout_ms, self.request_timeout_ms);
                        timeouts = Some(t);
                    }
                    Builtin::Auth(a) => auth = Some(a),
                    _ => {}
                }
            }
            if let Some(d) = deadline {
                let left = d - platform::now_ms();
                if left <= 0.0 {
                    return Err(tag(SdkError::new(
                        Code::Timeout,
                        format!("{op}: the operation's deadline passed"),
                    )));
                }
                timeout = timeout.min(left);
            }
            if let Some(a) = auth {
                let req = ctx_obj(&[("method", method), ("url", &url)]);
                let extra = a.headers(&req).await.map_err(tag)?;
                if !extra.is_empty() && !a.warned.get() && !platform::has("readDirectory") {
                    a.warned.set(true);
                    p.report(&SdkError::new(
                        Code::Plugin,
                        "authPlugin: custom headers make browser requests need a CORS preflight, which the real Sandrun worker does not answer (OPTIONS → 404); use them with servers that allow it",
                    ));
                }
                headers.extend(extra);
            }
            if p.has("onRequest") {
                let req = request_js(method, &url, &headers);
                let ctx = self.ctx(op, method, path, opts);
                for e in &p.entries {
                    let v = p.call(e, "onRequest", &[&req, &ctx]).await.map_err(tag)?;
                    if v.is_object() {
                        if let Some(u) = Reflect::get(&v, &"url".into())
                            .ok()
                            .and_then(|u| u.as_string())
                        {
                            url = u;
                        }
                        let h = Reflect::get(&v, &"headers".into()).unwrap_or(JsValue::UNDEFINED);
                        if js_sys::Array::is_array(&h) {
                            headers = pairs(&h);
                        }
                    }
                }
            }
            if !p.entries.is_empty() {
                p.log(
                    0,
                    "request",
                    &[
                        ("operation", op),
                        ("method", method),
                        ("url", &url),
                        ("headers", &show_headers(&headers)),
                    ],
                    &[],
                );
            }
            let t0 = platform::now_ms();
            let res = self
                .transmit(op, method, &url, &headers, body, timeout, opts)
                .await
                .map_err(tag)?;
            if p.entries.is_empty() {
                return self.check(op, opts, res.map_err(tag)?);
            }
            let ms = platform::now_ms() - t0;
            p.metrics(|m| m.request(op));
            let checked = res.map_err(tag).and_then(|r| {
                if (200..300).contains(&r.status) {
                    Ok(r)
                } else {
                    Err(tag(status_error(op, &r)))
                }
            });
            if let Some(br) = breaker {
                let failed = checked.as_ref().err().is_some_and(resilience::is_failure);
                let now = now_with(&br.now);
                let change = br.with(&self.endpoint, |c| {
                    let before = c.state;
                    c.record(&br.cfg, failed, now);
                    (c.state != before).then_some(c.state)
                });
                if let Some(state) = change {
                    p.log(
                        2,
                        "circuit",
                        &[("endpoint", &self.endpoint), ("state", state.as_str())],
                        &[],
                    );
                }
            }
            if let (Some(t), Ok(_)) = (timeouts, &checked) {
                t.sample(ms);
            }
            let status = match &checked {
                Ok(r) => r.status,
                Err(e) => e.context.status.unwrap_or(0),
            };
            p.log(
                0,
                "response",
                &[("operation", op), ("url", &url)],
                &[("status", status as f64), ("durationMs", ms)],
            );
            if p.has("onResponse") {
                let r = Obj::new();
                r.set("status", &(status as f64)).set("durationMs", &ms);
                if let Ok(res) = &checked {
                    r.set_js("headers", &pairs_js(&res.headers));
                }
                let r: JsValue = r.into();
                let ctx = self.ctx(op, method, path, opts);
                p.each("onResponse", &[&r, &ctx]).await.map_err(tag)?;
            }
            if status == 401 && !refreshed {
                if let Some(a) = auth {
                    if a.refresh().await.map_err(tag)? {
                        refreshed = true;
                        continue;
                    }
                }
            }
            return checked;
        }
    }
}

/// `[[name, value], …]` → pairs.
fn pairs(v: &JsValue) -> Vec<(String, String)> {
    js_sys::Array::from(v)
        .iter()
        .filter_map(|p| {
            let p = js_sys::Array::from(&p);
            Some((p.get(0).as_string()?, p.get(1).as_string()?))
        })
        .collect()
}

fn pairs_js(h: &[(String, String)]) -> JsValue {
    h.iter()
        .map(|(k, v)| -> JsValue { js_sys::Array::of2(&k.into(), &v.into()).into() })
        .collect::<js_sys::Array>()
        .into()
}

fn request_js(method: &str, url: &str, headers: &[(String, String)]) -> JsValue {
    let o = Obj::new();
    o.set("method", &method.to_string())
        .set("url", &url.to_string());
    o.set_js("headers", &pairs_js(headers));
    o.into()
}

fn response_js(res: &platform::Response) -> JsValue {
    let o = Obj::new();
    o.set("status", &(res.status as f64));
    o.set_js("headers", &pairs_js(&res.headers));
    o.set_js(
        "body",
        &js_sys::Uint8Array::from(res.body.as_slice()).into(),
    );
    o.into()
}

/// Headers for a log line, secret ones replaced.
fn show_headers(h: &[(String, String)]) -> String {
    h.iter()
        .map(|(k, v)| {
            let v = if crate::plugins::observe::secret_header(k) {
                crate::plugins::observe::REDACTED
            } else {
                v
            };
            format!("{k}: {v}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What user code threw: a `SandrunError` passes unchanged, anything else is a PLUGIN error.
fn thrown_error(op: &str, thrown: JsValue, who: &str) -> SdkError {
    let code = Reflect::get(&thrown, &"code".into())
        .ok()
        .and_then(|c| c.as_string());
    let mut e = SdkError::new(
        if code.is_some() {
            Code::Internal
        } else {
            Code::Plugin
        },
        format!("{op}: {who} threw: {}", js_message(&thrown)),
    );
    e.context.plugin = Some(who.to_string());
    e.js = Some(thrown);
    e
}

fn deadline_error(op: &str, last: SdkError, attempt: u32) -> SdkError {
    let mut e = SdkError::new(
        Code::Timeout,
        format!(
            "{op}: the operation's deadline would pass before attempt {} (last error: {})",
            attempt + 1,
            last.message
        ),
    )
    .cause(last.message);
    e.context = Context {
        cause: e.context.cause.take(),
        attempt: Some(attempt),
        ..last.context
    };
    e
}
