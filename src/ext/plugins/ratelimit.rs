//! `rateLimitPlugin()`: client-side token buckets with a priority queue. By default it matches the
//! Sandrun worker's published limit of 20 jobs an hour (submits) and does not limit other
//! requests. The bucket is plain Rust (tested natively); the layer takes a token per attempt.

use super::builtin::{made, Builtin, BuiltinPlugin, Stage};
use super::Pipeline;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::platform;
use crate::core::boundary::reader::{FromJs, Reader};
use crate::core::transport::{Call, Fut, Layer, Next, Reply};
use sandrun_protocol::map::SortedMap;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A token bucket: `capacity` tokens, refilled at `per_ms` tokens per millisecond.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub capacity: f64,
    pub per_ms: f64,
    pub tokens: f64,
    pub last: f64,
}

impl Bucket {
    pub fn new(capacity: f64, per_ms: f64, now: f64) -> Bucket {
        Bucket {
            capacity,
            per_ms,
            tokens: capacity,
            last: now,
        }
    }

    fn refill(&mut self, now: f64) {
        if now > self.last {
            self.tokens = (self.tokens + (now - self.last) * self.per_ms).min(self.capacity);
            self.last = now;
        }
    }

    /// Takes a token (`Ok`) or says how long until one is there (`Err(ms)`).
    pub fn take(&mut self, now: f64) -> std::result::Result<(), f64> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.per_ms).max(1.0))
        }
    }
}

pub struct Limiter {
    bucket: RefCell<Bucket>,
    /// Waiting requests: (priority, ticket).
    queue: RefCell<Vec<(f64, u32)>>,
}

impl Limiter {
    fn new(capacity: f64, per_ms: f64) -> Limiter {
        Limiter {
            bucket: RefCell::new(Bucket::new(capacity, per_ms, platform::now_ms())),
            queue: RefCell::new(Vec::new()),
        }
    }

    /// Waits for a token; the highest-priority, oldest waiter goes first.
    async fn acquire(
        &self,
        prio: f64,
        ticket: u32,
        max_queue: usize,
        signal: Option<&JsValue>,
    ) -> Result<()> {
        if self.queue.borrow().len() >= max_queue {
            return Err(SdkError::new(
                Code::RateLimited,
                format!(
                    "rateLimitPlugin: {max_queue} requests already wait for the client-side limit"
                ),
            ));
        }
        self.queue.borrow_mut().push((prio, ticket));
        let result = loop {
            let head = self
                .queue
                .borrow()
                .iter()
                .fold(None::<(f64, u32)>, |best, &(p, t)| match best {
                    Some((bp, bt)) if bp > p || (bp == p && bt < t) => Some((bp, bt)),
                    _ => Some((p, t)),
                })
                .map(|(_, t)| t);
            let wait = if head == Some(ticket) {
                match self.bucket.borrow_mut().take(platform::now_ms()) {
                    Ok(()) => break Ok(()),
                    Err(ms) => ms,
                }
            } else {
                (1.0 / self.bucket.borrow().per_ms).min(1000.0)
            };
            if let Err(e) = platform::sleep(wait, signal).await {
                break Err(e);
            }
        };
        self.queue.borrow_mut().retain(|&(_, t)| t != ticket);
        result
    }
}

pub struct RateLimit {
    requests: Option<Limiter>,
    jobs: Option<Limiter>,
    max_queue: usize,
    priorities: SortedMap<f64>,
    ticket: Cell<u32>,
}

impl RateLimit {
    async fn acquire(&self, op: &str, signal: Option<&JsValue>) -> Result<()> {
        let prio = self
            .priorities
            .get(op)
            .copied()
            .unwrap_or(if op == "submit" { 0.0 } else { 1.0 });
        let t = self.ticket.get().wrapping_add(1);
        self.ticket.set(t);
        if op == "submit" {
            if let Some(l) = &self.jobs {
                l.acquire(prio, t, self.max_queue, signal).await?;
            }
        }
        if let Some(l) = &self.requests {
            l.acquire(prio, t, self.max_queue, signal).await?;
        }
        Ok(())
    }
}

impl Builtin for RateLimit {
    fn name(&self) -> &'static str {
        "rate-limit"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn layers(self: Rc<Self>, _pipeline: &Rc<Pipeline>) -> Vec<(Stage, Rc<dyn Layer>)> {
        vec![(Stage::RateLimit, Rc::new(Throttle(self)))]
    }
}

struct Throttle(Rc<RateLimit>);

impl Layer for Throttle {
    fn call<'a>(&'a self, call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            if !call.stream {
                self.0.acquire(call.op, call.signal.as_ref()).await?;
            }
            next.run(call).await
        })
    }
}

/// Options for `rateLimitPlugin()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "rateLimitPlugin options.")]
pub struct RateLimitOptions {
    /// Requests a second (default: unlimited).
    pub requests_per_second: Option<f64>,
    pub burst: Option<f64>,
    /// Submits an hour (default 20, the Sandrun worker's limit; 0: unlimited).
    pub jobs_per_hour: Option<f64>,
    /// Requests that may wait (default 100); more are refused with a RateLimitError.
    pub max_queue: Option<f64>,
    /// Queue priority per operation (default: submit 0, others 1; higher first).
    #[js(ts = "Record<string, number>")]
    pub priorities: Option<SortedMap<f64>>,
}

/// A client-side token bucket with a priority queue. By default it matches the worker's
/// published limit of 20 jobs an hour (submits), and does not limit other requests.
#[wasm_bindgen(js_name = rateLimitPlugin)]
pub fn rate_limit_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "RateLimitOptions")] options: Option<JsValue>,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    let o = RateLimitOptions::from_js(&options.unwrap_or(JsValue::UNDEFINED))
        .map_err(SdkError::into_js)?;
    let rps = o.requests_per_second.filter(|n| *n > 0.0);
    let burst = o.burst.unwrap_or(1.0).max(1.0);
    let jobs = o.jobs_per_hour.unwrap_or(20.0);
    made(
        Reader::new(&JsValue::UNDEFINED, ""),
        Rc::new(RateLimit {
            requests: rps.map(|n| Limiter::new(burst, n / 1000.0)),
            jobs: (jobs > 0.0).then(|| Limiter::new(jobs, jobs / 3_600_000.0)),
            max_queue: o.max_queue.unwrap_or(100.0) as usize,
            priorities: o.priorities.unwrap_or_default(),
            ticket: Cell::new(0),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_spacing() {
        let mut b = Bucket::new(2.0, 0.01, 0.0); // 10 per second
        assert!(b.take(0.0).is_ok() && b.take(0.0).is_ok());
        assert_eq!(b.take(0.0), Err(100.0));
        assert_eq!(b.take(50.0), Err(50.0));
        assert!(b.take(100.0).is_ok());
        assert!(b.take(10_000.0).is_ok() && b.take(10_000.0).is_ok());
        assert!(b.take(10_000.0).is_err(), "never above capacity");
    }
}
