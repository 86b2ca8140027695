//! `retryPlugin()`: failed requests are tried again — fixed, linear or exponential backoff with
//! full jitter, honouring the server's wait (`Retry-After`, or "wait N seconds" in a 429's text).
//! A submit is retried only when the server provably did not take it (connection refused, 429,
//! 503): a reset, a timeout or a 500 may come after the job was created. The policy is plain Rust
//! (tested natively); the layer applies it around each attempt.

use super::builtin::{made, Builtin, BuiltinPlugin, Stage};
use super::Pipeline;
use crate::core::boundary::error::{Code, Context, Result, SdkError};
use crate::core::boundary::js::message_of;
use crate::core::boundary::platform;
use crate::core::boundary::reader::{FromJs, Reader};
use crate::core::transport::{Call, Fut, Layer, Next, Reply};
use js_sys::{Function, Promise};
use std::any::Any;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Backoff {
    Fixed,
    Linear,
    Exponential,
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub base_ms: f64,
    pub max_delay_ms: f64,
    pub jitter: bool,
    /// A server-requested wait longer than this is not waited for: the error is returned.
    pub max_retry_after_ms: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            backoff: Backoff::Exponential,
            base_ms: 200.0,
            max_delay_ms: 30_000.0,
            jitter: true,
            max_retry_after_ms: 120_000.0,
        }
    }
}

/// Whether the server provably did not accept a request: it refused the connection, or answered
/// 429 / 503 (refusals that the worker sends before it reads or runs anything). Only then is a
/// non-idempotent submit retried; a reset, a timeout or a 500 may come after the job was created.
pub fn provably_refused(e: &SdkError) -> bool {
    match e.code {
        Code::RateLimited | Code::CircuitOpen => true,
        Code::Http => e.context.status == Some(503),
        Code::Network => e
            .context
            .cause
            .as_deref()
            .is_some_and(|c| c.contains("ECONNREFUSED")),
        _ => false,
    }
}

impl RetryPolicy {
    /// The backoff before attempt `attempt + 1` (attempt counts from 1), before jitter, capped.
    pub fn backoff_ms(&self, attempt: u32) -> f64 {
        let n = attempt.max(1) as f64;
        let d = match self.backoff {
            Backoff::Fixed => self.base_ms,
            Backoff::Linear => self.base_ms * n,
            Backoff::Exponential => self.base_ms * 2f64.powi(attempt.max(1) as i32 - 1),
        };
        d.min(self.max_delay_ms)
    }

    /// The wait before trying again after `e` failed attempt `attempt`, or `None` to stop.
    /// `random` is in [0, 1) (full jitter: uniform in [0, backoff]). A server's wait
    /// (`retryAfterMs`, from `Retry-After` or "wait N seconds") is a floor.
    pub fn delay(&self, e: &SdkError, attempt: u32, idempotent: bool, random: f64) -> Option<f64> {
        if attempt >= self.max_attempts || !e.retryable {
            return None;
        }
        if !idempotent && !provably_refused(e) {
            return None;
        }
        let mut d = self.backoff_ms(attempt);
        if self.jitter {
            d *= random;
        }
        if let Some(after) = e.context.retry_after_ms {
            if after > self.max_retry_after_ms {
                return None;
            }
            d = d.max(after);
        }
        Some(d)
    }
}

pub struct Retry {
    pub policy: RetryPolicy,
    pub retry_if: Option<Function>,
    pub on_retry: Option<Function>,
    pub sleep: Option<Function>,
    pub random: Option<Function>,
}

impl Builtin for Retry {
    fn name(&self) -> &'static str {
        "retry"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn layers(self: Rc<Self>, pipeline: &Rc<Pipeline>) -> Vec<(Stage, Rc<dyn Layer>)> {
        vec![(Stage::Retry, Rc::new(RetryLayer(self, pipeline.clone())))]
    }
}

impl Retry {
    async fn sleep(&self, ms: f64, signal: Option<&JsValue>) -> Result<()> {
        match &self.sleep {
            Some(f) => {
                let p = f
                    .call1(&JsValue::NULL, &ms.into())
                    .map_err(|e| SdkError::new(Code::Plugin, message_of(&e)))?;
                JsFuture::from(Promise::resolve(&p))
                    .await
                    .map(|_| ())
                    .map_err(|e| SdkError::new(Code::Cancelled, message_of(&e)))
            }
            None => platform::sleep(ms, signal).await,
        }
    }
}

struct RetryLayer(Rc<Retry>, Rc<Pipeline>);

impl Layer for RetryLayer {
    fn call<'a>(&'a self, call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            if call.stream {
                return next.run(call).await;
            }
            let (rt, p) = (&self.0, &self.1);
            let (op, idempotent) = (call.op, call.method != "POST");
            let mut attempt = 1;
            loop {
                let mut e = match next.clone().run(call.clone()).await {
                    Ok(r) => return Ok(r),
                    Err(e) => e,
                };
                e.context.attempt = Some(attempt);
                let random = rt
                    .random
                    .as_ref()
                    .and_then(|f| f.call0(&JsValue::NULL).ok())
                    .and_then(|v| v.as_f64())
                    .unwrap_or_else(js_sys::Math::random);
                let mut delay = rt.policy.delay(&e, attempt, idempotent, random);
                if let (Some(_), Some(f)) = (delay, &rt.retry_if) {
                    let yes = f
                        .call2(&JsValue::NULL, &e.clone().into_js(), &attempt.into())
                        .map(|v| v.is_truthy());
                    if !yes.unwrap_or(false) {
                        delay = None;
                    }
                }
                let Some(delay) = delay else { return Err(e) };
                if call
                    .deadline
                    .is_some_and(|d| platform::now_ms() + delay >= d)
                {
                    return Err(deadline_error(op, e, attempt));
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
                rt.sleep(delay, call.signal.as_ref()).await?;
                attempt += 1;
            }
        })
    }
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

/// Options for `retryPlugin()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "retryPlugin options.")]
pub struct RetryOptions {
    /// Attempts in all, the first included (default 3).
    pub max_attempts: Option<f64>,
    #[js(ts = "'fixed' | 'linear' | 'exponential'")]
    pub backoff: Option<String>,
    pub base_delay_ms: Option<f64>,
    pub max_delay_ms: Option<f64>,
    /// Full jitter (default true): a uniform wait between 0 and the backoff.
    pub jitter: Option<bool>,
    /// A server asking for a longer wait than this (default 120000) is not retried.
    pub max_retry_after_ms: Option<f64>,
    #[js(ts = "(error: SandrunErrorLike, attempt: number) => boolean")]
    pub retry_if: Option<Function>,
    #[js(ts = "(error: SandrunErrorLike, attempt: number, delayMs: number) => void")]
    pub on_retry: Option<Function>,
    /// Replaces the timer (tests, custom schedulers).
    #[js(ts = "(ms: number) => Promise<void>")]
    pub sleep: Option<Function>,
    /// Replaces Math.random for the jitter.
    #[js(ts = "() => number")]
    pub random: Option<Function>,
}

/// Retries failed requests: fixed, linear or exponential backoff with full jitter, honouring the
/// server's wait (`Retry-After`, or "wait N seconds" in a 429's text). A submit is retried only
/// when the server provably did not take it (connection refused, 429, 503).
#[wasm_bindgen(js_name = retryPlugin)]
pub fn retry_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "RetryOptions")] options: Option<JsValue>,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    let o =
        RetryOptions::from_js(&options.unwrap_or(JsValue::UNDEFINED)).map_err(SdkError::into_js)?;
    let mut r = Reader::new(&JsValue::UNDEFINED, "retryPlugin options.");
    let d = RetryPolicy::default();
    let backoff = match o.backoff.as_deref() {
        None | Some("exponential") => Backoff::Exponential,
        Some("linear") => Backoff::Linear,
        Some("fixed") => Backoff::Fixed,
        Some(_) => {
            r.bad(
                "backoff",
                "must be \"fixed\", \"linear\" or \"exponential\"",
            );
            Backoff::Exponential
        }
    };
    let policy = RetryPolicy {
        max_attempts: o
            .max_attempts
            .map(|n| n.max(1.0) as u32)
            .unwrap_or(d.max_attempts),
        backoff,
        base_ms: o.base_delay_ms.unwrap_or(d.base_ms),
        max_delay_ms: o.max_delay_ms.unwrap_or(d.max_delay_ms),
        jitter: o.jitter.unwrap_or(true),
        max_retry_after_ms: o.max_retry_after_ms.unwrap_or(d.max_retry_after_ms),
    };
    made(
        r,
        Rc::new(Retry {
            policy,
            retry_if: o.retry_if,
            on_retry: o.on_retry,
            sleep: o.sleep,
            random: o.random,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Code) -> SdkError {
        SdkError::new(code, "x")
    }
    #[test]
    fn backoff_shapes_and_cap() {
        let mut p = RetryPolicy {
            base_ms: 100.0,
            max_delay_ms: 350.0,
            jitter: false,
            max_attempts: 10,
            ..Default::default()
        };
        let seq = |p: &RetryPolicy| (1..=4).map(|a| p.backoff_ms(a)).collect::<Vec<_>>();
        assert_eq!(seq(&p), [100.0, 200.0, 350.0, 350.0]);
        p.backoff = Backoff::Linear;
        assert_eq!(seq(&p), [100.0, 200.0, 300.0, 350.0]);
        p.backoff = Backoff::Fixed;
        assert_eq!(seq(&p), [100.0; 4]);
        p.jitter = true;
        p.backoff = Backoff::Exponential;
        let e = err(Code::Network);
        assert_eq!(
            p.delay(&e, 2, true, 0.5),
            Some(100.0),
            "full jitter: random × backoff"
        );
        assert_eq!(p.delay(&e, 10, true, 0.5), None, "attempts exhausted");
    }

    #[test]
    fn server_wait_is_a_floor_and_has_a_limit() {
        let p = RetryPolicy::default();
        let mut e = err(Code::RateLimited);
        e.context.retry_after_ms = Some(2000.0);
        assert_eq!(p.delay(&e, 1, true, 0.0), Some(2000.0));
        e.context.retry_after_ms = Some(500_000.0);
        assert_eq!(p.delay(&e, 1, true, 0.0), None);
        assert_eq!(p.delay(&err(Code::Validation), 1, true, 0.0), None);
    }

    #[test]
    fn submit_is_retried_only_when_provably_refused() {
        let p = RetryPolicy::default();
        let reset = err(Code::Network).cause("ECONNRESET: socket hang up");
        let refused = err(Code::Network).cause("ECONNREFUSED: connect");
        let mut s503 = err(Code::Http).retryable(true);
        s503.context.status = Some(503);
        let mut s500 = err(Code::Http).retryable(true);
        s500.context.status = Some(500);
        assert_eq!(p.delay(&reset, 1, false, 0.0), None);
        assert_eq!(p.delay(&err(Code::Timeout), 1, false, 0.0), None);
        assert_eq!(p.delay(&s500, 1, false, 0.0), None);
        assert!(p.delay(&refused, 1, false, 0.0).is_some());
        assert!(p.delay(&s503, 1, false, 0.0).is_some());
        assert!(p.delay(&err(Code::RateLimited), 1, false, 0.0).is_some());
        assert!(p.delay(&reset, 1, true, 0.0).is_some(), "a GET is retried");
    }
}
