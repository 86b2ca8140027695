//! A job run on several workers (a pool job, with or without k-of-n consensus): each member is a
//! `WorkerExecution`; the group settles once — every member waited for and verified, the decision
//! made — and whoever asks (`wait()`, `download()`, the pool's bookkeeping) gets that outcome.

use super::decide::{agreeing_max, decide, result_key, ConsensusReport, WorkerEvidence};
use super::quorum::Quorum;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::ToJs;
use crate::core::boundary::promise::{spawn, Settle};
use crate::core::boundary::webcrypto::sha256_hex;
use crate::core::client::Client;
use crate::core::execution::result::outputs_of;
use crate::core::execution::{
    CancelResult, Execution, JobResult, OutputInfo, WaitOptions, WorkerExecution,
};
use crate::core::transport::Fut;
use crate::core::verify::{VerificationReport, VerifyOptions};
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::StatusBody;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Where a result came from: the worker that ran it, and (through a coordinator) its pool id.
#[derive(Debug, Clone, Default, sandrun_derive::ToJs)]
pub struct Route {
    /// The worker that ran the job (whose result this is).
    pub endpoint: String,
    /// The job's id on that worker.
    pub job_id: String,
    /// Through a coordinator: its `pool-…` id.
    pub coordinator_job_id: Option<String>,
    /// The coordinator's last `pool_status`.
    pub pool_status: Option<String>,
    /// The coordinator still said `queued`/`running` after the worker had finished (the real
    /// coordinator's stuck-status bug): the worker's own status was used.
    pub stuck_status: bool,
}

impl Route {
    pub fn direct(m: &WorkerExecution) -> Route {
        Route {
            endpoint: m.client.config.endpoint.clone(),
            job_id: m.id.clone(),
            ..Default::default()
        }
    }
}

#[wasm_bindgen(typescript_custom_section)]
const RESULT_TS: &'static str = r#"
export interface JobResult {
    /** k-of-n consensus evidence (a job run with `.consensus()` on a pool). */
    consensus?: ConsensusReport;
    /** Where a pool job ran (worker, coordinator id). */
    route?: Route;
}
"#;

/// How a group ended: the status that is the answer, the member it came from, the evidence.
#[derive(Clone)]
pub struct Settled {
    pub status: StatusBody,
    pub member: Rc<WorkerExecution>,
    pub consensus: Option<ConsensusReport>,
    pub route: Route,
}

impl Settled {
    /// `wait()`'s result: the answering member's, with the consensus evidence and the route.
    pub fn result(&self) -> JobResult {
        let mut r = JobResult::from_status(&self.member.id, &self.status);
        if let Some(c) = &self.consensus {
            r.extra.set("consensus", c.to_js());
        }
        r.extra.set("route", self.route.to_js());
        r
    }
}

/// Who wants to know how the group went (the pool: load accounting and events).
pub trait Observer {
    fn consensus(&self, report: &ConsensusReport);
    fn settled(&self, nodes: &[Option<usize>], outcome: &Result<Settled>);
}

/// One worker's copy of the job.
pub struct Member {
    pub exec: Rc<WorkerExecution>,
    /// Its node in the pool (for load accounting).
    pub node: Option<usize>,
}

pub struct GroupExecution {
    quorum: Option<Quorum>,
    members: Vec<Member>,
    expected_hash: String,
    observer: Option<Rc<dyn Observer>>,
    outcome: Settle<Result<Settled>>,
    /// `cancel()` was called: `wait()` rejects with a `CancelledError` from now on.
    cancelled: Cell<bool>,
}

impl GroupExecution {
    /// The group, followed in the background from now on (so that its pool frees the slots and
    /// says the job ended even if nobody waits).
    pub fn start(
        quorum: Option<Quorum>,
        members: Vec<Member>,
        expected_hash: String,
        observer: Option<Rc<dyn Observer>>,
    ) -> Rc<GroupExecution> {
        let g = Rc::new(GroupExecution {
            quorum,
            members,
            expected_hash,
            observer,
            outcome: Settle::default(),
            cancelled: Cell::new(false),
        });
        let bg = g.clone();
        spawn(async move {
            let _ = bg.settle().await;
        });
        g
    }

    fn first(&self) -> &Rc<WorkerExecution> {
        // `start` is only called with at least one member (the pool checks).
        &self.members[0].exec
    }

    /// Runs to the end once; later and concurrent callers get the same outcome.
    pub async fn settle(&self) -> Result<Settled> {
        self.outcome
            .get_or_run(|| async {
                let r = self.run().await;
                if let Some(o) = &self.observer {
                    let nodes: Vec<Option<usize>> = self.members.iter().map(|m| m.node).collect();
                    o.settled(&nodes, &r);
                }
                r
            })
            .await
    }

    async fn run(&self) -> Result<Settled> {
        let Some(q) = self.quorum else {
            let member = self.first().clone();
            let status = member.wait_terminal(None, None).await?;
            return Ok(Settled {
                status,
                route: Route::direct(&member),
                member,
                consensus: None,
            });
        };
        let mut evidence = Vec::new();
        let mut statuses = Vec::new();
        for m in &self.members {
            let (e, s) = examine(&m.exec).await;
            evidence.push(e);
            statuses.push(s);
        }
        let report = decide(q, evidence);
        if report.reached {
            if let Some(o) = &self.observer {
                o.consensus(&report);
            }
        }
        let winner = report
            .evidence
            .iter()
            .position(|e| report.reached && e.result_hash == report.result_hash && e.verified);
        let found = winner
            .and_then(|i| Some((self.members.get(i)?.exec.clone(), statuses.get(i)?.clone()?)));
        match found {
            Some((member, status)) => Ok(Settled {
                status,
                route: Route::direct(&member),
                member,
                consensus: Some(report),
            }),
            None => {
                let message = format!(
                    "no {}-of-{} consensus: {} worker(s) agreed at most; dissenting: {}",
                    q.k,
                    q.n,
                    agreeing_max(&report),
                    report.dissenting.join(", ")
                );
                Err(SdkError::new(Code::Consensus, message)
                    .op("wait")
                    .with_report(report.to_js()))
            }
        }
    }
}

/// Waits for one worker's result and verifies it (hash against the local one, signature).
async fn examine(m: &Rc<WorkerExecution>) -> (WorkerEvidence, Option<StatusBody>) {
    let mut e = WorkerEvidence {
        worker_id: m.client.config.endpoint.clone(),
        endpoint: m.client.config.endpoint.clone(),
        job_id: m.id.clone(),
        ..Default::default()
    };
    let status = match m.wait_terminal(None, None).await {
        Ok(s) => s,
        Err(err) => {
            e.problems.push(format!("no result: {}", err.message));
            return (e, None);
        }
    };
    let meta = status.execution_metadata.as_ref();
    let worker = status.worker_metadata.as_ref();
    if let Some(id) = worker.and_then(|w| w.worker_id.clone()) {
        e.worker_id = id;
    }
    e.signature = worker.and_then(|w| w.signature.clone());
    e.status = Some(status.status.clone());
    e.exit_code = meta.map(|m| m.exit_code as f64);
    e.job_hash = Some(status.job_hash.clone());
    e.outputs = status
        .output_files
        .iter()
        .map(|(k, f)| (k.clone(), f.sha256.clone()))
        .collect();
    let exit = meta.map(|m| m.exit_code).unwrap_or(-1);
    match sha256_hex(result_key(&status.job_hash, exit, &e.outputs).as_bytes()).await {
        Ok(h) => e.result_hash = Some(h),
        Err(err) => e.problems.push(err.message),
    }
    match m.check(false).await {
        Ok(r) => {
            e.verified = r.signature.valid && r.job_hash.matches != Some(false);
            e.signed_message = r.signature.message;
            e.problems.extend(r.problems);
        }
        Err(err) => e
            .problems
            .push(format!("could not verify: {}", err.message)),
    }
    (e, Some(status))
}

impl GroupExecution {
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

impl Execution for GroupExecution {
    fn id(&self) -> String {
        match self.outcome.get() {
            Some(Ok(s)) => s.member.id.clone(),
            _ => self.first().id.clone(),
        }
    }

    fn status(&self) -> String {
        match self.outcome.get() {
            Some(Ok(s)) => s.status.status,
            _ => self.first().status(),
        }
    }

    fn job_hash(&self) -> Option<String> {
        Some(self.expected_hash.clone())
    }

    fn client(&self) -> Rc<Client> {
        self.first().client.clone()
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
        self.first().refresh()
    }

    fn outputs(&self) -> Fut<'_, Result<SortedMap<OutputInfo>>> {
        Box::pin(async move { Ok(outputs_of(&self.settled().await?.status)) })
    }

    /// From the member whose result won, checked against its (the agreed) hashes.
    fn download<'a>(&'a self, path: &'a str) -> Fut<'a, Result<Vec<u8>>> {
        Box::pin(async move { self.settled().await?.member.download_checked(path).await })
    }

    fn cancel(&self) -> Fut<'_, Result<CancelResult>> {
        Box::pin(async move {
            self.cancelled.set(true);
            let mut stopped = true;
            let mut messages = Vec::new();
            for m in &self.members {
                let r = m.exec.cancel().await?;
                stopped &= r.stopped_on_server;
                messages.push(r.message);
            }
            Ok(CancelResult {
                stopped_on_server: stopped,
                message: messages.join("; "),
            })
        })
    }

    fn verify(&self, opts: VerifyOptions) -> Fut<'_, Result<VerificationReport>> {
        Box::pin(async move {
            let s = self.settle().await?;
            s.member.check(opts.download_outputs.unwrap_or(false)).await
        })
    }

    fn log_source(self: Rc<Self>) -> Fut<'static, Result<Rc<WorkerExecution>>> {
        Box::pin(async move { Ok(self.first().clone()) })
    }
}
