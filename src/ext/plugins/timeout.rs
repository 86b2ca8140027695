//! `timeoutPlugin()`: a timeout per request and per operation, an overall deadline per operation
//! (retries included), and an adaptive request timeout learned from observed latencies (a
//! percentile times a multiplier, clamped).

use super::builtin::{made, Builtin, BuiltinPlugin, Stage};
use super::Pipeline;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::Obj;
use crate::core::boundary::platform;
use crate::core::boundary::reader::{FromJs, Reader};
use crate::core::transport::{Call, Fut, Layer, Next, Reply};
use sandrun_protocol::map::SortedMap;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The `p` quantile (0..1) of `samples` (nearest rank).
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p * s.len() as f64).ceil() as usize).clamp(1, s.len());
    Some(s[rank - 1])
}

pub struct Adaptive {
    pub percentile: f64,
    pub multiplier: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub min_samples: usize,
}

pub struct Timeouts {
    pub request_ms: Option<f64>,
    pub per_op: SortedMap<f64>,
    pub deadline_ms: Option<f64>,
    pub adaptive: Option<Adaptive>,
    pub samples: RefCell<Vec<f64>>,
}

/// How many recent latencies the adaptive timeout learns from.
const SAMPLES: usize = 100;

impl Timeouts {
    /// The timeout of one request of `op`; `explicit` is the caller's own (status polls).
    pub fn request_timeout(&self, op: &str, explicit: Option<f64>, default: f64) -> f64 {
        if let Some(t) = self.per_op.get(op) {
            return *t;
        }
        if let Some(t) = explicit {
            return t;
        }
        self.learned().or(self.request_ms).unwrap_or(default)
    }

    pub fn learned(&self) -> Option<f64> {
        let a = self.adaptive.as_ref()?;
        let s = self.samples.borrow();
        if s.len() < a.min_samples {
            return None;
        }
        Some((percentile(&s, a.percentile)? * a.multiplier).clamp(a.min_ms, a.max_ms))
    }

    fn sample(&self, ms: f64) {
        if self.adaptive.is_some() {
            let mut s = self.samples.borrow_mut();
            s.push(ms);
            if s.len() > SAMPLES {
                s.remove(0);
            }
        }
    }
}

impl Builtin for Timeouts {
    fn name(&self) -> &'static str {
        "timeout"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn layers(self: Rc<Self>, _pipeline: &Rc<Pipeline>) -> Vec<(Stage, Rc<dyn Layer>)> {
        let mut v: Vec<(Stage, Rc<dyn Layer>)> = Vec::new();
        if let Some(ms) = self.deadline_ms {
            v.push((Stage::Deadline, Rc::new(Deadline(ms))));
        }
        v.push((Stage::Timeout, Rc::new(PerRequest(self))));
        v
    }
    fn snapshot(&self) -> JsValue {
        let o = Obj::new();
        o.set("learnedMs", &self.learned())
            .set("samples", &(self.samples.borrow().len() as f64));
        o.into()
    }
}

/// Around the retries: the operation's deadline, which the retry layer and each request's
/// timeout respect.
struct Deadline(f64);

impl Layer for Deadline {
    fn call<'a>(&'a self, mut call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        if !call.stream {
            call.deadline = Some(platform::now_ms() + self.0);
        }
        next.run(call)
    }
}

/// Each request: its timeout (per operation, the caller's, learned, configured), never past the
/// operation's deadline; successful latencies teach the adaptive timeout.
struct PerRequest(Rc<Timeouts>);

impl Layer for PerRequest {
    fn call<'a>(&'a self, mut call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            if call.stream {
                return next.run(call).await;
            }
            let t = &self.0;
            let mut timeout = t.request_timeout(call.op, call.explicit_timeout_ms, call.timeout_ms);
            if let Some(d) = call.deadline {
                let left = d - platform::now_ms();
                if left <= 0.0 {
                    return Err(SdkError::new(
                        Code::Timeout,
                        format!("{}: the operation's deadline passed", call.op),
                    ));
                }
                timeout = timeout.min(left);
            }
            call.timeout_ms = timeout;
            let t0 = platform::now_ms();
            let result = next.run(call).await;
            if result.is_ok() {
                t.sample(platform::now_ms() - t0);
            }
            result
        })
    }
}

/// `adaptive` in `timeoutPlugin()` options.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "timeoutPlugin options.adaptive.")]
pub struct AdaptiveOptions {
    /// Which latency percentile (default 0.95).
    pub percentile: Option<f64>,
    /// Times that percentile (default 3).
    pub multiplier: Option<f64>,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Latencies needed before the learned timeout is used (default 5).
    pub min_samples: Option<f64>,
}

/// Options for `timeoutPlugin()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "timeoutPlugin options.")]
pub struct TimeoutOptions {
    pub request_ms: Option<f64>,
    /// Per operation (`submit`, `status`, `download`, `health`, …): wins over everything else.
    #[js(ts = "Record<string, number>")]
    pub operations: Option<SortedMap<f64>>,
    /// Whole operation, retries and waits included.
    pub deadline_ms: Option<f64>,
    #[js(ts = "boolean | AdaptiveOptions")]
    pub adaptive: Option<JsValue>,
}

/// Timeouts per request and per operation, an overall deadline per operation (retries
/// included), and an adaptive request timeout learned from observed latencies.
#[wasm_bindgen(js_name = timeoutPlugin)]
pub fn timeout_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "TimeoutOptions")] options: Option<JsValue>,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    let o = TimeoutOptions::from_js(&options.unwrap_or(JsValue::UNDEFINED))
        .map_err(SdkError::into_js)?;
    let adaptive = match o.adaptive {
        None => None,
        Some(v) if v.as_bool() == Some(false) => None,
        Some(v) => {
            let v = if v.is_object() { v } else { JsValue::UNDEFINED };
            let a = AdaptiveOptions::from_js(&v).map_err(SdkError::into_js)?;
            Some(Adaptive {
                percentile: a.percentile.unwrap_or(0.95),
                multiplier: a.multiplier.unwrap_or(3.0),
                min_ms: a.min_ms.unwrap_or(100.0),
                max_ms: a.max_ms.unwrap_or(60_000.0),
                min_samples: a.min_samples.unwrap_or(5.0) as usize,
            })
        }
    };
    made(
        Reader::new(&JsValue::UNDEFINED, ""),
        Rc::new(Timeouts {
            request_ms: o.request_ms,
            per_op: o.operations.unwrap_or_default(),
            deadline_ms: o.deadline_ms,
            adaptive,
            samples: RefCell::new(Vec::new()),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let s: Vec<f64> = (1..=100).map(|i| i as f64).collect();
        assert_eq!(percentile(&s, 0.95), Some(95.0));
        assert_eq!(percentile(&s, 0.5), Some(50.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
