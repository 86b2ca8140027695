#[cfg(feature = "full")]
mod piped;

use super::ratelimit::retry_after_ms;
use crate::error::{Code, Result, SdkError};
use crate::platform::{self, Failure, Request};
use js_sys::Function;
use wasm_bindgen::prelude::*;

/// Per-call options.
#[derive(Default, Clone)]
pub struct CallOpts {
    pub timeout_ms: Option<f64>,
    pub signal: Option<JsValue>,
    pub on_progress: Option<Function>,
    pub job_id: Option<String>,
}

/// HTTP to one worker. Only CORS-simple requests (GET, or POST of `multipart/form-data`, no
/// custom headers) go to servers that may lack preflight support.
///
/// With plugins (`pipeline`, feature `full`; see `piped.rs`), one operation (`send`) is: the middleware chain, outermost first,
/// around the retry loop; each attempt takes a rate-limit token, passes the circuit breaker, gets
/// the auth headers, goes through `onRequest` hooks, is sent with its timeout (capped by the
/// operation's deadline), and its answer is recorded (breaker, adaptive timeout, metrics) and
/// shown to `onResponse` hooks. A failure that is not retried goes through `onError` hooks.
#[derive(Clone)]
pub struct Http {
    pub endpoint: String,
    pub request_timeout_ms: f64,
    #[cfg(feature = "full")]
    pub pipeline: std::rc::Rc<crate::plugins::Pipeline>,
}

type Body<'a> = Option<(&'a str, &'a [u8])>;

impl Http {
    pub fn new(endpoint: &str, request_timeout_ms: f64) -> Http {
        Http {
            endpoint: endpoint.to_string(),
            request_timeout_ms,
            #[cfg(feature = "full")]
            pipeline: Default::default(),
        }
    }

    fn tag(&self, op: &'static str, opts: &CallOpts, e: SdkError) -> SdkError {
        let e = e.op(op).endpoint(&self.endpoint);
        match &opts.job_id {
            Some(id) => e.job(id),
            None => e,
        }
    }

    /// Sends a request and returns the response if its status is 2xx; anything else becomes the
    /// matching error.
    pub async fn send(
        &self,
        op: &'static str,
        method: &str,
        path: &str,
        body: Body<'_>,
        opts: &CallOpts,
    ) -> Result<platform::Response> {
        #[cfg(feature = "full")]
        if !self.pipeline.is_empty() {
            return self.send_piped(op, method, path, body, opts).await;
        }
        self.attempt(op, method, path, body, opts).await
    }

    /// Opens the log stream at `url` (through the middleware chain when there is one, operation
    /// `stream`). `Ok(Err(why))` when the socket could not be opened (the caller falls back to
    /// `/logs`).
    pub async fn open_stream(
        &self,
        url: &str,
        opts: &CallOpts,
    ) -> Result<std::result::Result<platform::Socket, String>> {
        #[cfg(feature = "full")]
        if !self.pipeline.middleware.is_empty() {
            return self.open_stream_piped(url, opts).await;
        }
        let _ = opts;
        platform::Socket::open(url).await
    }

    /// 2xx → the response; anything else → the matching error.
    fn check(
        &self,
        op: &'static str,
        opts: &CallOpts,
        res: platform::Response,
    ) -> Result<platform::Response> {
        if (200..300).contains(&res.status) {
            Ok(res)
        } else {
            Err(self.tag(op, opts, status_error(op, &res)))
        }
    }

    /// One HTTP request (no pipeline).
    async fn attempt(
        &self,
        op: &'static str,
        method: &str,
        path: &str,
        body: Body<'_>,
        opts: &CallOpts,
    ) -> Result<platform::Response> {
        let tag = |e: SdkError| self.tag(op, opts, e);
        let url = format!("{}{}", self.endpoint, path);
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some((ct, _)) = body {
            headers.push(("Content-Type".into(), ct.to_string()));
        }
        let timeout = opts.timeout_ms.unwrap_or(self.request_timeout_ms);
        let res = self
            .transmit(op, method, &url, &headers, body, timeout, opts)
            .await
            .map_err(tag)?;
        self.check(op, opts, res.map_err(tag)?)
    }

    /// Sends one request through the platform; the inner result is the answer or the transport
    /// failure (abort, timeout, network) as an error, neither tagged yet.
    #[allow(clippy::too_many_arguments)]
    async fn transmit(
        &self,
        op: &'static str,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Body<'_>,
        timeout: f64,
        opts: &CallOpts,
    ) -> Result<Result<platform::Response>> {
        let req = Request {
            method,
            url: url.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect(),
            body: body.map(|(_, b)| b),
            timeout_ms: Some(timeout),
            signal: opts.signal.as_ref(),
            on_progress: opts.on_progress.as_ref(),
        };
        let sent = platform::request(req).await?;
        Ok(match sent {
            Ok(res) => Ok(res),
            Err(Failure::Aborted) => {
                Err(SdkError::new(Code::Cancelled, format!("{op} was aborted")))
            }
            Err(Failure::TimedOut) => Err(SdkError::new(
                Code::Timeout,
                format!("{op}: no answer from {} in time", self.endpoint),
            )),
            Err(Failure::Network(cause)) => Err(SdkError::new(
                Code::Network,
                format!("{op}: could not reach {}: {cause}", self.endpoint),
            )
            .cause(cause)),
        })
    }

    /// GET `path` and read its JSON with `read`, which is also told whether the body was escaped
    /// byte by byte (`sandrun_protocol::text::is_bytewise`). An answer of another shape (the real
    /// worker answers unknown GET paths with its info body) is a `PROTOCOL` error.
    pub async fn get_json<T>(
        &self,
        op: &'static str,
        path: &str,
        opts: &CallOpts,
        read: fn(&JsValue, bool) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let (value, bytewise) = self.get_value(op, path, opts).await?;
        read(&value, bytewise).map_err(|why| self.wrong_shape(op, path, opts, &why))
    }

    async fn get_value(
        &self,
        op: &'static str,
        path: &str,
        opts: &CallOpts,
    ) -> Result<(JsValue, bool)> {
        let res = self.send(op, "GET", path, None, opts).await?;
        let value = parse_value(&res.body).map_err(|why| self.wrong_shape(op, path, opts, why))?;
        Ok((value, sandrun_protocol::text::is_bytewise(&res.body)))
    }

    fn wrong_shape(&self, op: &'static str, path: &str, opts: &CallOpts, why: &str) -> SdkError {
        let e = SdkError::new(
            Code::Protocol,
            format!(
                "{op}: {}{path} answered with something else than expected ({why})",
                self.endpoint
            ),
        )
        .op(op)
        .endpoint(&self.endpoint);
        match &opts.job_id {
            Some(id) => e.job(id),
            None => e,
        }
    }
}

/// JSON bytes → a JS value, through the host's `JSON.parse` (no JSON parser in the wasm).
pub fn parse_value(bytes: &[u8]) -> std::result::Result<JsValue, &'static str> {
    js_sys::JSON::parse(&String::from_utf8_lossy(bytes)).map_err(|_| "not JSON")
}

fn status_error(op: &'static str, res: &platform::Response) -> SdkError {
    let text = parse_value(&res.body)
        .ok()
        .and_then(|v| super::wire::string(&v, "error"))
        .map(|e| {
            sandrun_protocol::text::recover_text(&e, sandrun_protocol::text::is_bytewise(&res.body))
        })
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&res.body)
                .chars()
                .take(200)
                .collect()
        });
    let mut e = match res.status {
        404 => SdkError::new(Code::NotFound, format!("{op}: not found ({text})")),
        429 => {
            let mut e = SdkError::new(
                Code::RateLimited,
                format!("{op}: rate limited by the worker: {text}"),
            );
            e.context.retry_after_ms = retry_after_ms(res.header("Retry-After"), &text);
            e
        }
        413 => SdkError::new(
            Code::Http,
            format!("{op}: the worker refused the request as too large (over 100 MiB)"),
        )
        .retryable(false),
        s => SdkError::new(Code::Http, format!("{op}: the worker answered {s}: {text}"))
            .retryable(s >= 500),
    };
    e.context.status = Some(res.status);
    e.cause(text)
}
