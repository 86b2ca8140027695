//! A trusted-pool coordinator (`../shared/protocol/sandrun-wire.md` §2): its actions, and the
//! execution of a job that went through it. The coordinator's output proxy is broken (always 404)
//! and its status can stay `queued` forever, so once it names the worker and that worker's job id
//! the job is followed on the worker itself.

use super::state::PoolInner;
use crate::core::actions;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{prop, string};
use crate::core::boundary::platform;
use crate::core::boundary::promise::{spawn, Settle};
use crate::core::client::Client;
use crate::core::execution::result::outputs_of;
use crate::core::execution::{
    CancelResult, Execution, JobResult, OutputInfo, WaitOptions, WorkerExecution,
};
use crate::core::transport::{Body, CallOpts, Fut, Http};
use crate::core::verify::{VerificationReport, VerifyOptions};
use crate::ext::consensus::{Observer, Route, Settled};
use js_sys::Array;
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::is_terminal;
use std::cell::Cell;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;

/// Outside Node, a coordinator cannot be reached (it sends no CORS headers): say so instead of
/// "failed to fetch".
fn unreachable(url: &str, e: SdkError) -> SdkError {
    if e.code == Code::Network && !platform::has("readDirectory") {
        return SdkError::new(
            Code::Unsupported,
            format!("could not reach the pool coordinator {url} from this page: the Sandrun coordinator sends no CORS headers, so browsers cannot call it (or it is down); use .coordinator() from Node.js, or list its workers with .workers([...])"),
        )
        .cause(e.message);
    }
    e
}

/// `GET /pool`: its workers `[{ worker_id, endpoint, is_healthy, active_jobs, max_concurrent_jobs }]`.
pub async fn workers(http: &Http) -> Result<Vec<JsValue>> {
    http.get_json("pool", "/pool", &CallOpts::default(), |v, _| {
        prop(v, "workers")
            .filter(Array::is_array)
            .map(|w| Array::from(&w).iter().collect())
            .ok_or_else(|| "no \"workers\" array".to_string())
    })
    .await
    .map_err(|e| unreachable(&http.endpoint, e))
}

/// `POST /submit` (the worker's multipart) → its `pool-<hex>` id.
pub async fn submit(http: &Http, body: Body, opts: &CallOpts) -> Result<String> {
    actions::submit::submit(http, body, opts)
        .await
        .map(|s| s.job_id)
        .map_err(|e| unreachable(&http.endpoint, e))
}

/// What `GET /status/{pool id}` says.
struct PoolStatus {
    pool_status: Option<String>,
    worker_id: Option<String>,
    /// The job's id on the worker, once the coordinator relays the worker's own status.
    worker_job: Option<String>,
}

async fn status(http: &Http, id: &str) -> Result<PoolStatus> {
    let opts = CallOpts {
        job_id: Some(id.into()),
        ..Default::default()
    };
    http.get_json("status", &format!("/status/{id}"), &opts, |v, _| {
        Ok(PoolStatus {
            pool_status: string(v, "pool_status"),
            worker_id: string(v, "worker_id"),
            worker_job: prop(v, "worker_status")
                .filter(|w| w.is_object())
                .and_then(|w| string(&w, "job_id")),
        })
    })
    .await
}

/// A job submitted through a coordinator.
pub struct CoordinatorExecution {
    coordinator: Rc<Client>,
    pool_job_id: String,
    expected_hash: String,
    pool: Weak<PoolInner>,
    observer: Rc<dyn Observer>,
    /// The worker run, once the coordinator has named it.
    placed: Settle<Result<(Rc<WorkerExecution>, Route)>>,
    outcome: Settle<Result<Settled>>,
    /// `cancel()` was called: `wait()` rejects with a `CancelledError` from now on.
    cancelled: Cell<bool>,
}

impl CoordinatorExecution {
    pub fn start(
        coordinator: Rc<Client>,
        pool_job_id: String,
        expected_hash: String,
        pool: Weak<PoolInner>,
        observer: Rc<dyn Observer>,
    ) -> Rc<CoordinatorExecution> {
        let e = Rc::new(CoordinatorExecution {
            coordinator,
            pool_job_id,
            expected_hash,
            pool,
            observer,
            placed: Settle::default(),
            outcome: Settle::default(),
            cancelled: Cell::new(false),
        });
        let bg = e.clone();
        spawn(async move {
            let _ = bg.settle().await;
        });
        e
    }

    /// Polls the coordinator until it names the worker and that worker's job id.
    async fn placed(&self) -> Result<(Rc<WorkerExecution>, Route)> {
        self.placed.get_or_run(|| self.follow()).await
    }

    async fn follow(&self) -> Result<(Rc<WorkerExecution>, Route)> {
        let id = &self.pool_job_id;
        let cfg = &self.coordinator.config;
        let deadline = platform::now_ms() + cfg.timeout_ms;
        loop {
            let s = status(&self.coordinator.http, id).await?;
            if let (Some(job), Some(wid)) = (s.worker_job, s.worker_id) {
                let endpoint = self.endpoint_of(&wid).await?;
                let client = self.coordinator.for_endpoint(&endpoint);
                let member = WorkerExecution::new(
                    client,
                    job.clone(),
                    Some(self.expected_hash.clone()),
                    None,
                    None,
                );
                let route = Route {
                    endpoint,
                    job_id: job,
                    coordinator_job_id: Some(id.clone()),
                    pool_status: s.pool_status,
                    stuck_status: false,
                };
                return Ok((member, route));
            }
            if s.pool_status.as_deref() == Some("failed") {
                return Err(SdkError::new(
                    Code::Http,
                    format!("the coordinator reports job {id} failed before a worker ran it"),
                )
                .job(id)
                .op("wait"));
            }
            if platform::now_ms() > deadline {
                return Err(SdkError::new(
                    Code::Timeout,
                    format!("the coordinator did not place job {id} in time"),
                )
                .job(id)
                .op("wait"));
            }
            platform::sleep(cfg.poll_interval_ms, None).await?;
        }
    }

    /// The endpoint of the worker with key `wid` (the pool's list is refreshed once if needed).
    async fn endpoint_of(&self, wid: &str) -> Result<String> {
        let pool = self.pool.upgrade();
        if let Some(e) = pool.as_ref().and_then(|p| p.endpoint_of_key(wid)) {
            return Ok(e);
        }
        if let Some(p) = &pool {
            p.refresh().await?;
        }
        pool.and_then(|p| p.endpoint_of_key(wid)).ok_or_else(|| {
            SdkError::new(
                Code::Protocol,
                format!(
                    "the coordinator ran job {} on worker {wid}, which its /pool does not list",
                    self.pool_job_id
                ),
            )
            .job(&self.pool_job_id)
        })
    }

    /// After the worker finished: does the coordinator agree? If it keeps saying
    /// `queued`/`running` (the real coordinator's bug), the worker's own status stands and the
    /// route says so.
    async fn check_stuck(&self, mut route: Route) -> Route {
        for attempt in 0..4 {
            if attempt > 0 {
                let _ = platform::sleep(300.0, None).await;
            }
            if let Ok(s) = status(&self.coordinator.http, &self.pool_job_id).await {
                route.pool_status = s.pool_status;
                if route
                    .pool_status
                    .as_deref()
                    .map(is_terminal)
                    .unwrap_or(false)
                {
                    return route;
                }
            }
        }
        route.stuck_status = true;
        route
    }

    async fn settle(&self) -> Result<Settled> {
        self.outcome
            .get_or_run(|| async {
                let r = async {
                    let (member, route) = self.placed().await?;
                    let status = member.wait_terminal(None, None).await?;
                    let route = self.check_stuck(route).await;
                    Ok(Settled {
                        status,
                        member,
                        consensus: None,
                        route,
                    })
                }
                .await;
                self.observer.settled(&[], &r);
                r
            })
            .await
    }
}

impl CoordinatorExecution {
    /// The outcome, unless the job was cancelled.
    async fn settled(&self) -> Result<Settled> {
        if self.cancelled.get() {
            return Err(SdkError::new(Code::Cancelled, "the job was cancelled")
                .job(&self.id())
                .op("wait"));
        }
        self.settle().await
    }
}

impl Execution for CoordinatorExecution {
    fn id(&self) -> String {
        self.pool_job_id.clone()
    }

    fn status(&self) -> String {
        match self.outcome.get() {
            Some(Ok(s)) => s.status.status,
            _ => "queued".into(),
        }
    }

    fn job_hash(&self) -> Option<String> {
        Some(self.expected_hash.clone())
    }

    fn client(&self) -> Rc<Client> {
        self.coordinator.clone()
    }

    fn wait(&self, _opts: WaitOptions) -> Fut<'_, Result<JobResult>> {
        Box::pin(async move {
            let s = self.settled().await?;
            let mut result = s.result();
            s.member.require_verified(&mut result).await?;
            Ok(result)
        })
    }

    fn refresh(&self) -> Fut<'_, Result<String>> {
        Box::pin(async move {
            let s = status(&self.coordinator.http, &self.pool_job_id).await?;
            Ok(s.pool_status.unwrap_or_else(|| "queued".into()))
        })
    }

    fn outputs(&self) -> Fut<'_, Result<SortedMap<OutputInfo>>> {
        Box::pin(async move { Ok(outputs_of(&self.settled().await?.status)) })
    }

    fn download<'a>(&'a self, path: &'a str) -> Fut<'a, Result<Vec<u8>>> {
        Box::pin(async move { self.settled().await?.member.download_checked(path).await })
    }

    fn cancel(&self) -> Fut<'_, Result<CancelResult>> {
        Box::pin(async move {
            self.cancelled.set(true);
            match self.placed.get() {
                Some(Ok((member, _))) => member.cancel().await,
                _ => Ok(CancelResult {
                    stopped_on_server: false,
                    message: format!(
                        "the coordinator has not placed job {} on a worker yet, and it cannot cancel jobs; the SDK stopped watching it",
                        self.pool_job_id
                    ),
                }),
            }
        })
    }

    fn verify(&self, opts: VerifyOptions) -> Fut<'_, Result<VerificationReport>> {
        Box::pin(async move {
            let s = self.settle().await?;
            s.member.check(opts.download_outputs.unwrap_or(false)).await
        })
    }

    /// The coordinator has no logs; once it names the worker, the worker's stream and `/logs`.
    fn log_source(self: Rc<Self>) -> Fut<'static, Result<Rc<WorkerExecution>>> {
        Box::pin(async move { Ok(self.placed().await?.0) })
    }
}
