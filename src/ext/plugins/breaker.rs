//! `circuitBreakerPlugin()`: a circuit per endpoint. After too many failures in its window it
//! opens (calls fail at once with a `CircuitOpenError` saying when it tries again), then lets one
//! probe through (half-open) and closes when that succeeds. The state machine is plain Rust
//! (tested natively); the layer admits and records each attempt.

use super::builtin::{made, Builtin, BuiltinPlugin, Stage};
use super::Pipeline;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{num, Obj};
use crate::core::boundary::platform;
use crate::core::boundary::reader::{FromJs, Reader};
use crate::core::transport::{Call, Fut, Layer, Next, Reply};
use js_sys::Function;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

#[derive(Clone, Debug)]
pub struct BreakerCfg {
    /// Failure rate over the window that opens the circuit (0..1].
    pub failure_rate: f64,
    /// Calls the window keeps (the last N outcomes).
    pub window: usize,
    /// Fewest calls in the window before the rate counts.
    pub minimum_calls: usize,
    pub cooldown_ms: f64,
}

impl Default for BreakerCfg {
    fn default() -> Self {
        BreakerCfg {
            failure_rate: 0.5,
            window: 10,
            minimum_calls: 5,
            cooldown_ms: 30_000.0,
        }
    }
}

/// One endpoint's circuit.
#[derive(Clone, Debug)]
pub struct Circuit {
    pub state: BreakerState,
    /// Recent outcomes, true = failure.
    pub outcomes: Vec<bool>,
    pub open_until: f64,
    pub probing: bool,
}

impl Circuit {
    pub fn new() -> Circuit {
        Circuit {
            state: BreakerState::Closed,
            outcomes: Vec::new(),
            open_until: 0.0,
            probing: false,
        }
    }

    pub fn failures(&self) -> usize {
        self.outcomes.iter().filter(|f| **f).count()
    }

    /// May a call go now? `Err(ms)`: open, try again in `ms`.
    pub fn admit(&mut self, now: f64) -> std::result::Result<(), f64> {
        match self.state {
            BreakerState::Closed => Ok(()),
            BreakerState::Open if now < self.open_until => Err(self.open_until - now),
            BreakerState::Open | BreakerState::HalfOpen => {
                // One probe at a time; other calls wait as if open.
                if self.probing {
                    return Err(0.0f64.max(self.open_until - now));
                }
                self.state = BreakerState::HalfOpen;
                self.probing = true;
                Ok(())
            }
        }
    }

    pub fn record(&mut self, cfg: &BreakerCfg, failed: bool, now: f64) {
        if self.state == BreakerState::HalfOpen {
            self.probing = false;
            if failed {
                self.state = BreakerState::Open;
                self.open_until = now + cfg.cooldown_ms;
            } else {
                self.state = BreakerState::Closed;
                self.outcomes.clear();
            }
            return;
        }
        self.outcomes.push(failed);
        if self.outcomes.len() > cfg.window {
            self.outcomes.remove(0);
        }
        let n = self.outcomes.len();
        if self.state == BreakerState::Closed
            && n >= cfg.minimum_calls
            && self.failures() as f64 >= cfg.failure_rate * n as f64
        {
            self.state = BreakerState::Open;
            self.open_until = now + cfg.cooldown_ms;
        }
    }
}

impl Default for Circuit {
    fn default() -> Self {
        Circuit::new()
    }
}

/// Does this outcome count against the endpoint's health? Throttling and client errors do not.
pub fn is_failure(e: &SdkError) -> bool {
    match e.code {
        Code::Network | Code::Timeout => true,
        Code::Http => e.context.status.is_some_and(|s| s >= 500),
        _ => false,
    }
}

pub struct Breaker {
    pub cfg: BreakerCfg,
    pub circuits: RefCell<Vec<(String, Circuit)>>,
    pub now: Option<Function>,
}

impl Breaker {
    fn now(&self) -> f64 {
        self.now
            .as_ref()
            .and_then(|f| f.call0(&JsValue::NULL).ok())
            .and_then(|v| v.as_f64())
            .unwrap_or_else(platform::now_ms)
    }

    /// Runs `f` on `endpoint`'s circuit (made closed on first use).
    fn with<R>(&self, endpoint: &str, f: impl FnOnce(&mut Circuit) -> R) -> R {
        let mut all = self.circuits.borrow_mut();
        let i = match all.iter().position(|(e, _)| e == endpoint) {
            Some(i) => i,
            None => {
                all.push((endpoint.to_string(), Circuit::new()));
                all.len() - 1
            }
        };
        f(&mut all[i].1)
    }
}

impl Builtin for Breaker {
    fn name(&self) -> &'static str {
        "circuit-breaker"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn layers(self: Rc<Self>, pipeline: &Rc<Pipeline>) -> Vec<(Stage, Rc<dyn Layer>)> {
        vec![(
            Stage::Breaker,
            Rc::new(BreakerLayer(self, pipeline.clone())),
        )]
    }
    fn snapshot(&self) -> JsValue {
        let now = self.now();
        let o = Obj::new();
        for (ep, c) in self.circuits.borrow().iter() {
            let one = Obj::new();
            one.set("state", &c.state.as_str())
                .set("failures", &(c.failures() as f64))
                .set("calls", &(c.outcomes.len() as f64))
                .set("retryInMs", &(c.open_until - now).max(0.0));
            o.set(ep, &JsValue::from(one));
        }
        o.into()
    }
}

struct BreakerLayer(Rc<Breaker>, Rc<Pipeline>);

impl Layer for BreakerLayer {
    fn call<'a>(&'a self, call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            if call.stream {
                return next.run(call).await;
            }
            let (br, p) = (&self.0, &self.1);
            let (op, endpoint) = (call.op, call.endpoint.clone());
            let now = br.now();
            let open = br.with(&endpoint, |c| {
                c.admit(now)
                    .err()
                    .map(|ms| (ms, c.failures(), c.outcomes.len()))
            });
            if let Some((ms, failures, calls)) = open {
                let mut e = SdkError::new(
                    Code::CircuitOpen,
                    format!(
                        "{op}: the circuit for {endpoint} is open after {failures} failures in its last {calls} calls; next try in {} ms",
                        num(ms.ceil())
                    ),
                );
                e.context.retry_after_ms = Some(ms);
                return Err(e);
            }
            let result = next.run(call).await;
            let failed = result.as_ref().err().is_some_and(is_failure);
            let now = br.now();
            let change = br.with(&endpoint, |c| {
                let before = c.state;
                c.record(&br.cfg, failed, now);
                (c.state != before).then_some(c.state)
            });
            if let Some(state) = change {
                p.log(
                    2,
                    "circuit",
                    &[("endpoint", &endpoint), ("state", state.as_str())],
                    &[],
                );
            }
            result
        })
    }
}

/// Options for `circuitBreakerPlugin()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "circuitBreakerPlugin options.")]
pub struct CircuitBreakerOptions {
    /// Failure rate in the window that opens the circuit (default 0.5).
    pub failure_rate: Option<f64>,
    /// Outcomes kept (default 10).
    pub window_size: Option<f64>,
    /// Fewest calls before the rate counts (default 5).
    pub minimum_calls: Option<f64>,
    /// How long the circuit stays open before one probe (default 30000).
    pub cooldown_ms: Option<f64>,
    #[js(ts = "() => number")]
    pub now: Option<Function>,
}

/// A circuit per endpoint: after too many failures in the window it opens (calls fail at once
/// with a `CircuitOpenError` saying when it tries again), then lets one probe through.
#[wasm_bindgen(js_name = circuitBreakerPlugin)]
pub fn circuit_breaker_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "CircuitBreakerOptions")] options: Option<
        JsValue,
    >,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    let o = CircuitBreakerOptions::from_js(&options.unwrap_or(JsValue::UNDEFINED))
        .map_err(SdkError::into_js)?;
    let d = BreakerCfg::default();
    let cfg = BreakerCfg {
        failure_rate: o.failure_rate.unwrap_or(d.failure_rate),
        window: o
            .window_size
            .map(|n| n.max(1.0) as usize)
            .unwrap_or(d.window),
        minimum_calls: o
            .minimum_calls
            .map(|n| n.max(1.0) as usize)
            .unwrap_or(d.minimum_calls),
        cooldown_ms: o.cooldown_ms.unwrap_or(d.cooldown_ms),
    };
    made(
        Reader::new(&JsValue::UNDEFINED, ""),
        Rc::new(Breaker {
            cfg,
            circuits: RefCell::new(Vec::new()),
            now: o.now,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_opens_half_opens_and_closes() {
        let cfg = BreakerCfg {
            failure_rate: 0.5,
            window: 4,
            minimum_calls: 4,
            cooldown_ms: 1000.0,
        };
        let mut c = Circuit::new();
        for (i, failed) in [false, true, false].into_iter().enumerate() {
            c.admit(i as f64).unwrap();
            c.record(&cfg, failed, i as f64);
        }
        assert_eq!(c.state, BreakerState::Closed, "too few calls");
        c.record(&cfg, true, 3.0);
        assert_eq!(c.state, BreakerState::Open, "2 failures of 4");
        assert_eq!(c.admit(500.0), Err(503.0));
        assert_eq!(c.admit(1003.0), Ok(()), "the probe");
        assert_eq!(c.state, BreakerState::HalfOpen);
        assert!(c.admit(1004.0).is_err(), "one probe at a time");
        c.record(&cfg, true, 1005.0);
        assert_eq!((c.state, c.open_until), (BreakerState::Open, 2005.0));
        c.admit(2005.0).unwrap();
        c.record(&cfg, false, 2006.0);
        assert_eq!((c.state, c.failures()), (BreakerState::Closed, 0));
    }
}
