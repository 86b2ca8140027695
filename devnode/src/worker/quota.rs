//! Per-client-IP limits, as the real worker applies them: concurrent jobs, jobs per rolling hour,
//! CPU seconds per rolling minute.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::config::WorkerCfg;

#[derive(Default)]
struct Quota {
    active: usize,
    submits: VecDeque<Instant>,
    cpu: VecDeque<(Instant, f64)>,
}

impl Quota {
    fn prune(&mut self, now: Instant) {
        while self
            .submits
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(3600))
        {
            self.submits.pop_front();
        }
        while self
            .cpu
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= Duration::from_secs(60))
        {
            self.cpu.pop_front();
        }
    }

    fn cpu_used(&self) -> f64 {
        self.cpu.iter().map(|(_, c)| c).sum()
    }

    /// Why a new job would be refused now, checked in the real worker's order.
    fn refusal(&self, now: Instant, cfg: &WorkerCfg) -> Option<Refusal> {
        let used = self.cpu_used();
        let (message, wait_secs) = if used >= cfg.cpu_per_minute {
            let oldest = self.cpu.front().map(|(t, _)| now.duration_since(*t));
            let wait = 60u64
                .saturating_sub(oldest.unwrap_or_default().as_secs())
                .max(1);
            (format!("CPU quota exhausted, wait {wait} seconds"), wait)
        } else if self.active >= cfg.max_concurrent {
            let msg = format!("Max concurrent jobs reached ({})", cfg.max_concurrent);
            (msg, 5)
        } else if self.submits.len() >= cfg.jobs_per_hour {
            let oldest = self.submits.front().map(|t| now.duration_since(*t));
            let wait = 3600u64
                .saturating_sub(oldest.unwrap_or_default().as_secs())
                .max(1);
            let msg = format!("Max jobs per hour reached ({})", cfg.jobs_per_hour);
            (msg, wait)
        } else {
            return None;
        };
        Some(Refusal {
            message,
            wait_secs,
            cpu_available: (cfg.cpu_per_minute - used).max(0.0),
            active: self.active,
        })
    }
}

/// A refused submission: the message, how long to wait, and the figures the 429 body shows.
pub struct Refusal {
    pub message: String,
    pub wait_secs: u64,
    pub cpu_available: f64,
    pub active: usize,
}

/// One client's standing, for `/stats`.
pub struct Usage {
    pub cpu_used: f64,
    pub active: usize,
    pub refusal: Option<Refusal>,
}

#[derive(Default)]
pub struct Quotas(Mutex<HashMap<IpAddr, Quota>>);

impl Quotas {
    /// Takes a job slot for `ip`, or says why not.
    pub fn reserve(&self, ip: IpAddr, cfg: &WorkerCfg) -> Result<(), Refusal> {
        let now = Instant::now();
        let mut all = self.0.lock().unwrap();
        let q = all.entry(ip).or_default();
        q.prune(now);
        if let Some(r) = q.refusal(now, cfg) {
            return Err(r);
        }
        q.active += 1;
        q.submits.push_back(now);
        Ok(())
    }

    /// Gives a slot back; `undo_submit` when the submission was refused after all, `cpu` when a
    /// job ran.
    pub fn release(&self, ip: IpAddr, undo_submit: bool, cpu: Option<f64>) {
        let mut all = self.0.lock().unwrap();
        let q = all.entry(ip).or_default();
        q.active = q.active.saturating_sub(1);
        if undo_submit {
            q.submits.pop_back();
        }
        if let Some(c) = cpu {
            q.cpu.push_back((Instant::now(), c));
        }
    }

    pub fn usage(&self, ip: IpAddr, cfg: &WorkerCfg) -> Usage {
        let now = Instant::now();
        let mut all = self.0.lock().unwrap();
        let q = all.entry(ip).or_default();
        q.prune(now);
        Usage {
            cpu_used: q.cpu_used(),
            active: q.active,
            refusal: q.refusal(now, cfg),
        }
    }
}
