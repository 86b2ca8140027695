use super::ratelimit::retry_after_ms;
use crate::error::{Code, Result, SdkError};
use crate::platform::{self, Failure, Request};
use js_sys::Function;
use wasm_bindgen::JsValue;

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
pub struct Http {
    pub endpoint: String,
    pub request_timeout_ms: f64,
}

impl Http {
    /// Sends a request and returns the response if its status is 2xx; anything else becomes the
    /// matching error.
    pub async fn send(
        &self,
        op: &'static str,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
        opts: &CallOpts,
    ) -> Result<platform::Response> {
        let url = format!("{}{}", self.endpoint, path);
        let mut headers = Vec::new();
        if let Some((ct, _)) = body {
            headers.push(("Content-Type", ct.to_string()));
        }
        let req = Request {
            method,
            url,
            headers,
            body: body.map(|(_, b)| b),
            timeout_ms: Some(opts.timeout_ms.unwrap_or(self.request_timeout_ms)),
            signal: opts.signal.as_ref(),
            on_progress: opts.on_progress.as_ref(),
        };
        let tag = |e: SdkError| {
            let e = e.op(op).endpoint(&self.endpoint);
            match &opts.job_id {
                Some(id) => e.job(id),
                None => e,
            }
        };
        let res = match platform::request(req).await.map_err(tag)? {
            Ok(res) => res,
            Err(Failure::Aborted) => {
                return Err(tag(SdkError::new(
                    Code::Cancelled,
                    format!("{op} was aborted"),
                )))
            }
            Err(Failure::TimedOut) => {
                return Err(tag(SdkError::new(
                    Code::Timeout,
                    format!("{op}: no answer from {} in time", self.endpoint),
                )))
            }
            Err(Failure::Network(cause)) => {
                return Err(tag(SdkError::new(
                    Code::Network,
                    format!("{op}: could not reach {}: {cause}", self.endpoint),
                )
                .cause(cause)))
            }
        };
        if (200..300).contains(&res.status) {
            return Ok(res);
        }
        Err(tag(status_error(op, &res)))
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
