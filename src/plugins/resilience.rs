//! The resilience built-ins' logic, free of JS so that it is tested natively: backoff with full
//! jitter, the retry rule for non-idempotent submits, the circuit breaker's state machine, the
//! token bucket, and the adaptive timeout's percentile.

use crate::error::{Code, SdkError};

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
    pub fn admit(&mut self, now: f64) -> Result<(), f64> {
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
    pub fn take(&mut self, now: f64) -> Result<(), f64> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.per_ms).max(1.0))
        }
    }
}

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

    #[test]
    fn percentiles() {
        let s: Vec<f64> = (1..=100).map(|i| i as f64).collect();
        assert_eq!(percentile(&s, 0.95), Some(95.0));
        assert_eq!(percentile(&s, 0.5), Some(50.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
