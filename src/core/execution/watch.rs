//! Watching jobs at scale: one watcher per worker (its endpoint, with the same polling settings)
//! owns the status polling of every job of that worker the SDK waits for; each job's poll still
//! goes through its own transport layers (a job's plugins and middleware). A waiting execution costs an
//! entry here and a promise, not a loop, a timer and a request of its own, and the worker's load
//! does not grow with the number of watchers:
//!
//! - at most `statusConcurrency` status requests are in flight per worker (the real worker holds
//!   each until its running job ends, so this is also the most connections it holds), and their
//!   starts are spaced to at most `statusPerSecond`;
//! - each job is polled on an interval of its own: the configured one for a young job, longer as
//!   it ages, and — when the worker says how many jobs are ahead of it in its queue — about when
//!   those should be done at the pace the worker completes jobs; a log stream that sees the job
//!   end asks for a poll at once (`poke`);
//! - one loop per watcher, alive while it has jobs: it starts the polls that are due, ends the
//!   waits whose deadline passed or whose `AbortSignal` fired, and sleeps until the next of
//!   these (or until a poll answers, a job is added, or one is poked).

use crate::core::actions;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::num;
use crate::core::boundary::platform;
use crate::core::boundary::promise::spawn;
use crate::core::client::Client;
use crate::core::transport::{CallOpts, Http};
use js_sys::{Array, Function, Promise};
use sandrun_protocol::status::{is_terminal, StatusBody};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// The longest a job waits between two polls, in ms.
const MAX_INTERVAL_MS: f64 = 30_000.0;
/// Polls after a retryable failure before the error ends the waits.
const MAX_FAILURES: u32 = 5;

type Slot = Rc<RefCell<Option<Result<StatusBody>>>>;
/// Where the waiting execution keeps the last status seen (`exec.status` shows `running`).
pub type Seen = Rc<RefCell<Option<StatusBody>>>;

struct Waiter {
    deadline: f64,
    timeout_ms: f64,
    signal: Option<JsValue>,
    seen: Seen,
    slot: Slot,
    /// Resolves the waiter's promise (its result is in `slot`).
    wake: Function,
}

struct Job {
    id: String,
    /// The job's own transport (its client's layers, or the job's plugins').
    http: Http,
    since: f64,
    due: f64,
    polling: bool,
    failures: u32,
    /// Jobs ahead of it in the worker's queue, at the last poll.
    ahead: Option<u64>,
    waiters: Vec<Waiter>,
}

pub struct Watcher {
    /// Endpoint, poll interval, concurrency, rate: clients that agree on all four share it.
    key: (String, [u64; 3]),
    interval_ms: f64,
    concurrency: usize,
    spacing_ms: f64,
    jobs: RefCell<Vec<Job>>,
    in_flight: Cell<usize>,
    last_start: Cell<f64>,
    running: Cell<bool>,
    /// Resolves the loop's current sleep early.
    wake: RefCell<Option<Function>>,
    /// Jobs seen ending, and since when: the worker's pace.
    completed: Cell<f64>,
    started: Cell<f64>,
}

thread_local! {
    static WATCHERS: RefCell<Vec<Weak<Watcher>>> = const { RefCell::new(Vec::new()) };
}

/// A promise and the function that resolves it.
fn signal_pair() -> (Promise, Function) {
    let mut resolve: Option<Function> = None;
    let p = Promise::new(&mut |res, _| resolve = Some(res));
    // Promise executors run synchronously: `resolve` is set.
    (p, resolve.unwrap_or_else(|| Function::new_no_args("")))
}

impl Watcher {
    /// The watcher of `client`'s worker.
    pub fn of(client: &Client) -> Rc<Watcher> {
        let cfg = &client.config;
        let key = (
            client.http.endpoint.clone(),
            [
                cfg.poll_interval_ms,
                cfg.status_concurrency,
                cfg.status_per_second,
            ]
            .map(f64::to_bits),
        );
        WATCHERS.with(|w| {
            let mut w = w.borrow_mut();
            w.retain(|x| x.strong_count() > 0);
            if let Some(found) = w.iter().filter_map(Weak::upgrade).find(|x| x.key == key) {
                return found;
            }
            let made = Rc::new(Watcher {
                key,
                interval_ms: cfg.poll_interval_ms,
                concurrency: cfg.status_concurrency as usize,
                spacing_ms: 1000.0 / cfg.status_per_second,
                jobs: RefCell::new(Vec::new()),
                in_flight: Cell::new(0),
                last_start: Cell::new(0.0),
                running: Cell::new(false),
                wake: RefCell::new(None),
                completed: Cell::new(0.0),
                started: Cell::new(platform::now_ms()),
            });
            w.push(Rc::downgrade(&made));
            made
        })
    }

    /// Waits until job `id` ends (its terminal status), `timeout_ms` passes, or `signal` fires.
    pub async fn wait(
        self: &Rc<Self>,
        http: &Http,
        id: &str,
        timeout_ms: f64,
        signal: Option<JsValue>,
        seen: Seen,
    ) -> Result<StatusBody> {
        let now = platform::now_ms();
        let slot: Slot = Rc::default();
        let (done, wake) = signal_pair();
        let waiter = Waiter {
            deadline: now + timeout_ms,
            timeout_ms,
            signal,
            seen,
            slot: slot.clone(),
            wake,
        };
        {
            let mut jobs = self.jobs.borrow_mut();
            match jobs.iter_mut().find(|j| j.id == id) {
                Some(j) => j.waiters.push(waiter),
                None => jobs.push(Job {
                    id: id.to_string(),
                    http: http.clone(),
                    since: now,
                    due: now,
                    polling: false,
                    failures: 0,
                    ahead: None,
                    waiters: vec![waiter],
                }),
            }
        }
        self.start();
        let _ = JsFuture::from(done).await;
        let out = slot.borrow_mut().take();
        out.unwrap_or_else(|| {
            Err(SdkError::new(
                Code::Internal,
                "a watch ended without a result",
            ))
        })
    }

    /// Polls job `id` at once (its log stream saw it end).
    pub fn poke(&self, id: &str) {
        if let Some(j) = self.jobs.borrow_mut().iter_mut().find(|j| j.id == id) {
            j.due = 0.0;
        }
        self.nudge();
    }

    /// Ends every wait for job `id` with `error` (the job was cancelled).
    pub fn end(&self, id: &str, error: SdkError) {
        let job = {
            let mut jobs = self.jobs.borrow_mut();
            jobs.iter().position(|j| j.id == id).map(|i| jobs.remove(i))
        };
        if let Some(j) = job {
            for w in j.waiters {
                finish(w, Err(error.clone()));
            }
        }
    }

    fn nudge(&self) {
        if let Some(f) = self.wake.borrow_mut().take() {
            let _ = f.call0(&JsValue::NULL);
        }
    }

    fn start(self: &Rc<Self>) {
        if self.running.replace(true) {
            self.nudge();
            return;
        }
        let me = self.clone();
        spawn(async move { me.run().await });
    }

    /// How long after this poll job `j` is polled again.
    fn interval(&self, j: &Job, now: f64) -> f64 {
        let age = now - j.since;
        let by_age = self.interval_ms
            * if age < 10_000.0 {
                1.0
            } else if age < 60_000.0 {
                2.0
            } else {
                4.0
            };
        // Jobs ahead of it must end first: poll it about halfway to when, at the worker's pace,
        // they should have.
        let elapsed_s = ((now - self.started.get()) / 1000.0).max(1.0);
        let pace = self.completed.get() / elapsed_s;
        let by_queue = match (j.ahead, pace > 0.0) {
            (Some(ahead), true) if ahead > 0 => 500.0 * ahead as f64 / pace,
            _ => 0.0,
        };
        by_age.max(by_queue).min(MAX_INTERVAL_MS)
    }

    async fn run(self: Rc<Self>) {
        loop {
            let now = platform::now_ms();
            self.expire(now);
            if self.jobs.borrow().is_empty() {
                self.running.set(false);
                return;
            }
            // Start the polls that are due, oldest first, within the concurrency and spacing.
            let mut next = now + self.interval_ms;
            loop {
                if self.in_flight.get() >= self.concurrency {
                    break;
                }
                let gap = self.last_start.get() + self.spacing_ms - now;
                if gap > 0.0 {
                    next = next.min(now + gap);
                    break;
                }
                let pick = {
                    let mut jobs = self.jobs.borrow_mut();
                    let due = jobs
                        .iter_mut()
                        .filter(|j| !j.polling && j.due <= now)
                        .min_by(|a, b| a.since.total_cmp(&b.since));
                    due.map(|j| {
                        j.polling = true;
                        let timeout = j
                            .waiters
                            .iter()
                            .map(|w| w.deadline - now)
                            .fold(0.0, f64::max);
                        (j.id.clone(), j.http.clone(), timeout)
                    })
                };
                let Some((id, http, timeout)) = pick else {
                    break;
                };
                self.in_flight.set(self.in_flight.get() + 1);
                self.last_start.set(now);
                let me = self.clone();
                spawn(async move { me.poll(http, id, timeout).await });
            }
            for j in self.jobs.borrow().iter() {
                if !j.polling {
                    next = next.min(j.due);
                }
                for w in &j.waiters {
                    next = next.min(w.deadline);
                }
            }
            let (woken, wake) = signal_pair();
            *self.wake.borrow_mut() = Some(wake);
            // max/min, not clamp: clamp's assertion message would pull float formatting (about 12 KB
            // of gzip'd wasm) into the core.
            let pause = (next - platform::now_ms()).max(0.0).min(self.interval_ms);
            let timer = platform::timer(pause);
            let _ = JsFuture::from(Promise::race(&Array::of2(&timer, &woken))).await;
            self.wake.borrow_mut().take();
        }
    }

    /// Ends the waits whose deadline passed or whose signal fired.
    fn expire(&self, now: f64) {
        let mut ended = Vec::new();
        {
            let mut jobs = self.jobs.borrow_mut();
            for j in jobs.iter_mut() {
                let (gone, kept): (Vec<Waiter>, Vec<Waiter>) = std::mem::take(&mut j.waiters)
                    .into_iter()
                    .partition(|w| w.deadline <= now || platform::aborted(w.signal.as_ref()));
                j.waiters = kept;
                ended.extend(gone.into_iter().map(|w| (j.id.clone(), w)));
            }
            jobs.retain(|j| !j.waiters.is_empty() || j.polling);
        }
        for (id, w) in ended {
            let e = if platform::aborted(w.signal.as_ref()) {
                SdkError::new(Code::Cancelled, "wait was aborted")
            } else {
                SdkError::new(
                    Code::Timeout,
                    format!("job {id} did not finish within {} ms", num(w.timeout_ms)),
                )
            };
            finish(w, Err(e.job(&id).op("wait")));
        }
    }

    async fn poll(self: Rc<Self>, http: Http, id: String, timeout_ms: f64) {
        let opts = CallOpts {
            timeout_ms: Some(timeout_ms.max(1.0)),
            job_id: Some(id.clone()),
            ..Default::default()
        };
        let got = actions::status::status(&http, &id, &opts).await;
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
        let now = platform::now_ms();
        let mut ended: Option<(Job, Result<StatusBody>)> = None;
        {
            let mut jobs = self.jobs.borrow_mut();
            if let Some(i) = jobs.iter().position(|j| j.id == id) {
                let j = &mut jobs[i];
                j.polling = false;
                match got {
                    Ok(s) if is_terminal(&s.status) => {
                        self.completed.set(self.completed.get() + 1.0);
                        ended = Some((jobs.remove(i), Ok(s)));
                    }
                    Ok(s) => {
                        for w in &j.waiters {
                            *w.seen.borrow_mut() = Some(s.clone());
                        }
                        j.failures = 0;
                        j.ahead = s.queue_position.map(|p| p.saturating_sub(1));
                        j.due = now + self.interval(j, now);
                    }
                    Err(e) if e.code == Code::RateLimited => {
                        let wait = e.context.retry_after_ms.unwrap_or(0.0);
                        j.due = now + wait.max(self.interval(j, now));
                    }
                    // The worker held the poll past its timeout: the waits' deadlines decide.
                    Err(e) if e.code == Code::Timeout => j.due = now,
                    Err(e) if e.retryable && j.failures < MAX_FAILURES => {
                        j.failures += 1;
                        j.due = now + self.interval_ms * j.failures as f64;
                    }
                    Err(e) => ended = Some((jobs.remove(i), Err(e))),
                }
            }
        }
        if let Some((job, result)) = ended {
            for w in job.waiters {
                finish(w, result.clone());
            }
        }
        self.nudge();
    }
}

fn finish(w: Waiter, result: Result<StatusBody>) {
    *w.slot.borrow_mut() = Some(result);
    let _ = w.wake.call0(&JsValue::NULL);
}
