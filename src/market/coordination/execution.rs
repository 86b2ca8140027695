//! `MarketExecution`: a paid job after its escrow, watched on chain until it is settled. One
//! background task per execution (started when it is made, so a job settles even if nobody
//! waits) polls the job's logs and state: it reports claims and running nodes, checks each
//! submitted result (`results.rs`), decides k-of-n with the consensus layer's `decide`, and
//! settles once: `finalize` when the chain's agreed result is the verified winner, `refund` when
//! the deadline passed without one. A job settled by someone else (another process that
//! re-attached, a node) is read back from its `JobFinalized`/`JobRefunded` log instead.
//!
//! Its logs are the first node's run (`runs.rs`): the run a node announced on chain
//! (`JobRunning`), or the worker job id in a submitted result's `status.json`.

use super::history::{self, History};
use super::ipfs_call::{directory_files, MarketIpfs};
use super::progress::Progress;
use super::results::{self, Checked};
use super::runs::{self, Run};
use super::spend;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{Obj, ToJs};
use crate::core::boundary::platform::{now_ms, sleep};
use crate::core::boundary::promise::{spawn, Settle};
use crate::core::client::Client;
use crate::core::execution::result::outputs_of;
use crate::core::execution::{
    CancelResult, Execution, JobResult, OutputInfo, WaitOptions, WorkerExecution,
};
use crate::core::transport::Fut;
use crate::core::verify::{VerificationReport, VerifyOptions};
use crate::ext::consensus::decide::decide;
use crate::ext::consensus::{ConsensusReport, Quorum};
use crate::market::chain::contract::MarketContract;
use crate::market::chain::send::{Mined, SendOptions};
use crate::market::chain::values::{Addr, Wei};
use crate::market::format;
use alloy_primitives::{Address, B256, U256};
use sandrun_chain::events::{Settlement, SettlementKind};
use sandrun_chain::market::JobState;
use sandrun_protocol::hash::sha256_hex;
use sandrun_protocol::map::SortedMap;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The id JS sees (and `sandrun.execution()` takes back): `market:<jobId>`.
pub const PREFIX: &str = "market:";

/// Seconds after the deadline before a refund is sent, so that the chain's clock (the next
/// block's timestamp) is past it too.
const REFUND_GRACE_S: f64 = 1.0;
/// How long the results of the other nodes are waited for once k agree, before finalizing.
const FINALIZE_GRACE_S: f64 = 30.0;
/// How long after the deadline a refund that keeps failing is retried before giving up.
const REFUND_RETRY_S: f64 = 120.0;
/// How long after the deadline (or, before the job was read once, after the watch started) a
/// chain or IPFS that keeps failing is waited for before the watch gives up.
const GIVE_UP_AFTER_S: f64 = 600.0;

/// What the watch has reported so far.
struct Seen {
    claims: usize,
    running: Vec<Address>,
    deadline: Option<u64>,
    /// When k verified results first agreed (unix seconds).
    reached_at: Option<f64>,
}

/// A failure that may pass (the network, a provider or node that answers again later).
fn transient(e: &SdkError) -> bool {
    e.retryable || matches!(e.code, Code::Network | Code::Timeout | Code::Ipfs)
}

/// `result.settlement` and `ConsensusError.settlement`.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct MarketSettlement {
    #[js(ts = "bigint")]
    pub job_id: Wei,
    #[js(ts = "'finalized' | 'refunded' | 'cancelled'")]
    pub outcome: String,
    /// The transaction that settled the job (this client's, or whoever settled it first).
    pub tx_hash: String,
    /// This client sent it (false: it was read from the chain).
    pub sent_here: bool,
    /// Paid to the agreeing nodes.
    #[js(ts = "bigint")]
    pub paid: Wei,
    /// Taken from the dissenting nodes' bonds (or, in a refund, from claimants that never
    /// submitted).
    #[js(ts = "bigint")]
    pub slashed: Wei,
    /// Escrow credited back to the poster (withdraw it with `market.withdraw()`).
    #[js(ts = "bigint")]
    pub refunded: Wei,
    #[js(ts = "string[]")]
    pub agreeing: Vec<Addr>,
    #[js(ts = "string[]")]
    pub dissenting: Vec<Addr>,
    #[js(ts = "string[]")]
    pub slashed_nodes: Vec<Addr>,
    /// Gas of the settling transaction, and what this client paid for it (0 when read from
    /// the chain).
    #[js(ts = "bigint")]
    pub gas_used: Wei,
    #[js(ts = "bigint")]
    pub gas_cost: Wei,
}

impl MarketSettlement {
    fn of(s: &Settlement, tx: B256, gas: Option<&Mined>) -> MarketSettlement {
        let gas_used = gas.map(|m| m.receipt.gas_used).unwrap_or_default();
        let gas_cost = gas
            .map(|m| m.receipt.gas_used * m.receipt.effective_gas_price)
            .unwrap_or_default();
        let addrs = |l: &[Address]| l.iter().map(|a| Addr(*a)).collect();
        MarketSettlement {
            job_id: Wei(s.job_id),
            outcome: match s.kind {
                SettlementKind::Finalized => "finalized",
                SettlementKind::Refunded => "refunded",
                SettlementKind::Cancelled => "cancelled",
            }
            .into(),
            tx_hash: tx.to_string(),
            sent_here: gas.is_some(),
            paid: Wei(s.paid),
            slashed: Wei(s.slashed),
            refunded: Wei(s.refunded),
            agreeing: addrs(&s.agreeing),
            dissenting: addrs(&s.dissenting),
            slashed_nodes: addrs(&s.slashed_nodes),
            gas_used: Wei(gas_used),
            gas_cost: Wei(gas_cost),
        }
    }
}

/// How the job ended.
pub struct Outcome {
    pub settlement: MarketSettlement,
    pub report: ConsensusReport,
    /// The verified result the job was finalized with.
    pub winner: Option<Checked>,
    pub input_cid: String,
}

type Shared = std::result::Result<Rc<Outcome>, SdkError>;

pub struct MarketExecution {
    client: Rc<Client>,
    pub contract: Rc<MarketContract>,
    ipfs: Rc<MarketIpfs>,
    pub job_id: U256,
    /// Computed before submission; read from `JobPosted` for a re-attached job.
    job_hash: RefCell<Option<String>>,
    pub progress: Rc<Progress>,
    /// The job's posting block (0 until known: see `history::read`).
    from_block: Cell<u64>,
    status: RefCell<String>,
    outcome: Settle<Shared>,
    poll_ms: f64,
    /// Checked results by node, kept across polls.
    checked: RefCell<Vec<(Address, Checked)>>,
    /// The runs the nodes announced, in chain order.
    runs: RefCell<Vec<Run>>,
    stopped: Cell<bool>,
}

impl MarketExecution {
    /// The execution of a posted job; its watch starts at once.
    pub fn start(
        client: Rc<Client>,
        contract: Rc<MarketContract>,
        ipfs: Rc<MarketIpfs>,
        job_id: U256,
        job_hash: Option<String>,
        progress: Rc<Progress>,
        from_block: u64,
    ) -> Rc<MarketExecution> {
        let poll_ms = contract.chain.settings.poll_ms;
        let exec = Rc::new(MarketExecution {
            client,
            contract,
            ipfs,
            job_id,
            job_hash: RefCell::new(job_hash),
            progress,
            from_block: Cell::new(from_block),
            status: RefCell::new("queued".into()),
            outcome: Settle::default(),
            poll_ms,
            checked: RefCell::new(Vec::new()),
            runs: RefCell::new(Vec::new()),
            stopped: Cell::new(false),
        });
        let me = exec.clone();
        spawn(async move {
            let _ = me.outcome.get_or_run(|| me.drive()).await;
        });
        exec
    }

    pub fn id_text(&self) -> String {
        format!("{PREFIX}{}", self.job_id)
    }

    async fn outcome(&self) -> Shared {
        self.outcome.get_or_run(|| self.drive()).await
    }

    /// Watches until settled; the outcome (or why the job cannot be settled).
    async fn drive(&self) -> Shared {
        let r = self.watch().await;
        let (outcome, fields): (&str, Vec<(&str, String)>) = match &r {
            Ok(o) => (
                o.settlement.outcome.as_str(),
                vec![("txHash", o.settlement.tx_hash.clone())],
            ),
            Err(e) => ("failed", vec![("error", e.message.clone())]),
        };
        let outcome = outcome.to_string();
        let mut list: Vec<(&str, &dyn ToJs)> = vec![("outcome", &outcome)];
        for (k, v) in &fields {
            list.push((k, v));
        }
        self.progress.emit("done", &list);
        *self.status.borrow_mut() = match &r {
            Ok(o) if o.winner.as_ref().and_then(|w| w.evidence.exit_code) == Some(0.0) => {
                "completed"
            }
            _ => "failed",
        }
        .into();
        r.map(Rc::new).map_err(|e| e.job(&self.id_text()))
    }

    async fn watch(&self) -> Result<Outcome> {
        let mut seen = Seen {
            claims: usize::MAX,
            running: Vec::new(),
            deadline: None,
            reached_at: None,
        };
        let started = now_ms() / 1000.0;
        loop {
            if self.stopped.get() {
                return Err(SdkError::new(Code::Cancelled, "the watch was stopped"));
            }
            match self.poll(&mut seen).await {
                Ok(Some(outcome)) => return Ok(outcome),
                Ok(None) => {}
                // The chain or IPFS failing for a while (a wallet that drops, a node restarting)
                // does not end the watch: the job can still be settled once they are back.
                Err(e) if transient(&e) => {
                    let from = seen.deadline.map(|d| d as f64).unwrap_or(started);
                    if now_ms() / 1000.0 > from + GIVE_UP_AFTER_S {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
            sleep(self.poll_ms, None).await?;
        }
    }

    /// One look at the job: what changed, and the outcome once it is settled.
    async fn poll(&self, seen: &mut Seen) -> Result<Option<Outcome>> {
        let h = history::read(&self.client, &self.contract, self.job_id, &self.from_block).await?;
        let posted = h.posted.clone().ok_or_else(|| {
            SdkError::new(
                Code::NotFound,
                format!(
                    "market job {} was not posted on {}",
                    self.job_id, self.contract.address
                ),
            )
        })?;
        let job_hash = self
            .job_hash
            .borrow_mut()
            .get_or_insert_with(|| format::job_hash_hex(&posted.job_hash))
            .clone();
        seen.deadline = Some(posted.deadline);
        let quorum = Quorum {
            k: posted.k,
            n: posted.n,
        };
        if h.claimed.len() != seen.claims {
            seen.claims = h.claimed.len();
            *self.status.borrow_mut() = "running".into();
            let (m, n) = (seen.claims as f64, posted.n as f64);
            self.progress.emit("claims", &[("claimed", &m), ("n", &n)]);
        }
        for node in &h.claimed {
            let submitted = h.submitted.iter().any(|s| s.node == *node);
            if !submitted && !seen.running.contains(node) {
                seen.running.push(*node);
                self.progress
                    .emit("running", &[("node", &node.to_checksum(None))]);
            }
        }
        // Logs only: a failure here is looked at again on the next poll, and never holds up
        // the job.
        let _ = self.follow_runs(&h).await;
        self.check_new(&h, &job_hash).await?;
        let report = self.report(quorum);
        if let Some((s, tx)) = &h.settled {
            return Ok(Some(self.finish(s, *tx, None, report, &posted.input_cid)));
        }
        let job = self.contract.job(self.job_id).await?;
        let agreed = job.agreed_result.map(|h| results::group_key(&h));
        if report.reached && agreed.is_some() && agreed == report.result_hash {
            // A dissenter is slashed only if its result is on chain when the job is finalized:
            // wait for the other nodes' results a little (the stack's agents submit within
            // ~0.3 s of each other), never past the deadline.
            let now = now_ms() / 1000.0;
            let since = *seen.reached_at.get_or_insert(now);
            let all_in = h.submitted.len() as u32 >= posted.n;
            if !all_in && now - since < FINALIZE_GRACE_S && now < posted.deadline as f64 {
                return Ok(None);
            }
            let opts = SendOptions::default();
            let finalize = self.contract.finalize(self.job_id, &opts);
            return self
                .settle("finalize", finalize, report, &posted.input_cid, false)
                .await;
        }
        if let Some(agreed) = &agreed {
            if h.submitted.len() as u32 == posted.n
                && agreed != report.result_hash.as_ref().unwrap_or(&String::new())
            {
                return Err(SdkError::new(
                    Code::Verification,
                    format!(
                        "the chain's agreed result {agreed} failed the SDK's verification: the job was not finalized by this client"
                    ),
                )
                .with_report(report.to_js()));
            }
        }
        let now = now_ms() / 1000.0;
        let late = now - posted.deadline as f64;
        if agreed.is_none() && late > REFUND_GRACE_S {
            let opts = SendOptions::default();
            let refund = self.contract.refund(self.job_id, &opts);
            // The chain's clock may lag the local one by a block: a refund that fails is tried
            // again, for a while.
            let retry = late < REFUND_RETRY_S;
            return self
                .settle("refund", refund, report, &posted.input_cid, retry)
                .await;
        }
        Ok(None)
    }

    /// Sends the settling transaction (`action`); its outcome, or None when the next poll is to
    /// look again (someone settled it first, or `retry` a failure).
    async fn settle(
        &self,
        action: &'static str,
        sent: impl std::future::Future<Output = Result<(Settlement, Mined)>>,
        report: ConsensusReport,
        input_cid: &str,
        retry: bool,
    ) -> Result<Option<Outcome>> {
        self.progress.emit("settling", &[("action", &action)]);
        match sent.await {
            Ok((s, m)) => {
                spend::paid_gas(&self.client, &m);
                Ok(Some(self.finish(
                    &s,
                    m.receipt.hash,
                    Some(&m),
                    report,
                    input_cid,
                )))
            }
            Err(_) if self.settled_elsewhere().await || retry => Ok(None),
            Err(e) => Err(e.op(action)),
        }
    }

    /// The job is no longer open or claimed on chain.
    async fn settled_elsewhere(&self) -> bool {
        matches!(
            self.contract.job(self.job_id).await.map(|j| j.state),
            Ok(JobState::Finalized | JobState::Refunded | JobState::Cancelled)
        )
    }

    /// Reports each run announced since the last poll (in the job's history) as `running`
    /// with the run's id and the node's endpoint.
    async fn follow_runs(&self, h: &History) -> Result<()> {
        let known: Vec<Address> = self.runs.borrow().iter().map(|r| r.node).collect();
        for run in runs::announced(&self.contract, &h.runs, &known).await? {
            self.progress.emit(
                "running",
                &[
                    ("node", &run.node.to_checksum(None)),
                    ("workerJob", &run.worker_job),
                    ("endpoint", &run.endpoint),
                ],
            );
            self.runs.borrow_mut().push(run);
        }
        Ok(())
    }

    /// Checks every result submitted since the last poll.
    async fn check_new(&self, h: &History, job_hash: &str) -> Result<()> {
        for s in &h.submitted {
            if self.checked.borrow().iter().any(|(n, _)| *n == s.node) {
                continue;
            }
            let who = s.node.to_checksum(None);
            self.progress.emit("verifying", &[("node", &who)]);
            let node = self.contract.node(s.node).await?;
            let c = results::check(&self.ipfs, job_hash, s, &node).await;
            let valid = c.evidence.verified;
            let problems = c.evidence.problems.clone();
            self.progress.emit(
                "verifying",
                &[("node", &who), ("valid", &valid), ("problems", &problems)],
            );
            self.checked.borrow_mut().push((s.node, c));
        }
        Ok(())
    }

    fn report(&self, q: Quorum) -> ConsensusReport {
        let evidence = self
            .checked
            .borrow()
            .iter()
            .map(|(_, c)| c.evidence.clone())
            .collect();
        decide(q, evidence)
    }

    fn finish(
        &self,
        s: &Settlement,
        tx: B256,
        gas: Option<&Mined>,
        report: ConsensusReport,
        input_cid: &str,
    ) -> Outcome {
        let winner = report.result_hash.as_ref().and_then(|h| {
            self.checked
                .borrow()
                .iter()
                .map(|(_, c)| c)
                .find(|c| c.evidence.verified && c.evidence.result_hash.as_ref() == Some(h))
                .cloned()
        });
        let winner = winner.filter(|_| s.kind == SettlementKind::Finalized);
        Outcome {
            settlement: MarketSettlement::of(s, tx, gas),
            report,
            winner,
            input_cid: input_cid.to_string(),
        }
    }

    /// The winner, or why there is none, as `wait()` reports it.
    fn result(&self, o: &Outcome) -> Result<(JobResult, Checked)> {
        let settlement = o.settlement.to_js();
        let details = Obj::new();
        details.set("settlement", &settlement);
        let Some(w) = o.winner.clone() else {
            let why = match o.settlement.outcome.as_str() {
                "refunded" => format!(
                    "no {} verified results agreed by the deadline: the escrow ({} wei) was refunded",
                    o.report.k, o.settlement.refunded.0
                ),
                "cancelled" => "the job was cancelled before any node claimed it".to_string(),
                _ => "the job was finalized on a result this client could not verify".to_string(),
            };
            return Err(SdkError::new(Code::Consensus, why)
                .with_report(o.report.to_js())
                .with_details(details.into())
                .job(&self.id_text()));
        };
        let status = w
            .status
            .clone()
            .ok_or_else(|| SdkError::new(Code::Internal, "a verified result without its status"))?;
        let mut r = JobResult::from_status(&self.id_text(), &status);
        r.verification = w.report.clone();
        r.extra.set("consensus", o.report.to_js());
        r.extra.set("settlement", settlement);
        let market = Obj::new();
        market
            .set("jobId", &Wei(self.job_id))
            .set("contract", &Addr(self.contract.address))
            .set("inputCid", &o.input_cid)
            .set("outputCid", &w.output_cid);
        r.extra.set("market", market.into());
        Ok((r, w))
    }

    async fn winner(&self) -> Result<(JobResult, Checked)> {
        let o = self.outcome().await?;
        self.result(&o)
    }
}

impl Execution for MarketExecution {
    fn id(&self) -> String {
        self.id_text()
    }

    fn status(&self) -> String {
        self.status.borrow().clone()
    }

    fn job_hash(&self) -> Option<String> {
        self.job_hash.borrow().clone()
    }

    fn client(&self) -> Rc<Client> {
        self.client.clone()
    }

    fn wait(&self, _opts: WaitOptions) -> Fut<'_, Result<JobResult>> {
        Box::pin(async move { Ok(self.winner().await?.0) })
    }

    fn refresh(&self) -> Fut<'_, Result<String>> {
        Box::pin(async move {
            let job = self.contract.job(self.job_id).await?;
            Ok(match job.state {
                JobState::Open => "queued",
                JobState::Claimed => "running",
                _ => return Ok(self.status()),
            }
            .to_string())
        })
    }

    fn outputs(&self) -> Fut<'_, Result<SortedMap<OutputInfo>>> {
        Box::pin(async move {
            let (_, w) = self.winner().await?;
            Ok(w.status.as_ref().map(outputs_of).unwrap_or_default())
        })
    }

    /// From IPFS (the winning node's result directory, every block verified), checked against
    /// the agreed sha256.
    fn download<'a>(&'a self, path: &'a str) -> Fut<'a, Result<Vec<u8>>> {
        Box::pin(async move {
            let (r, w) = self.winner().await?;
            let Some(info) = r.outputs.get(path) else {
                return Err(SdkError::field(
                    "path",
                    format!("\"{path}\" is not an output of this job"),
                ));
            };
            let files = directory_files(&self.ipfs, &w.output_cid)
                .await
                .map_err(|m| SdkError::new(Code::Ipfs, m).op("download"))?;
            let bytes = files
                .get(&format!("{}{path}", format::OUTPUTS))
                .cloned()
                .ok_or_else(|| {
                    SdkError::new(
                        Code::Verification,
                        format!("{path} is missing from the result on IPFS"),
                    )
                })?;
            if sha256_hex(&bytes) != info.sha256 {
                return Err(SdkError::new(
                    Code::Verification,
                    format!("{path}: the bytes on IPFS do not match the agreed sha256"),
                ));
            }
            Ok(bytes)
        })
    }

    /// Cancels a job no node has claimed yet (the escrow is credited back); a claimed job runs
    /// on, and is refunded after its deadline if it does not succeed.
    fn cancel(&self) -> Fut<'_, Result<CancelResult>> {
        Box::pin(async move {
            let job = self.contract.job(self.job_id).await?;
            if job.state != JobState::Open {
                return Ok(CancelResult {
                    stopped_on_server: false,
                    message: format!(
                        "the job is {}: only an unclaimed job can be cancelled; a claimed one is refunded after its deadline unless k nodes agree",
                        job.state.as_str()
                    ),
                });
            }
            self.contract
                .cancel(self.job_id, &SendOptions::default())
                .await?;
            Ok(CancelResult {
                stopped_on_server: true,
                message: "cancelled: the escrow was credited back to the poster".into(),
            })
        })
    }

    fn verify(&self, _opts: VerifyOptions) -> Fut<'_, Result<VerificationReport>> {
        Box::pin(async move {
            let (_, w) = self.winner().await?;
            w.report.ok_or_else(|| {
                SdkError::new(Code::Internal, "a verified result without its report")
            })
        })
    }

    /// The first node's run: the first announced (`JobRunning`), else the run named in the
    /// first submitted result's `status.json`; waited for until the job is settled.
    fn log_source(self: Rc<Self>) -> Fut<'static, Result<Rc<WorkerExecution>>> {
        Box::pin(async move {
            loop {
                let settled = self.outcome.get().is_some();
                if settled {
                    // The watch may have ended before it read the announcements (a job
                    // re-attached after it was settled): one last look.
                    let h =
                        history::read(&self.client, &self.contract, self.job_id, &self.from_block)
                            .await?;
                    self.follow_runs(&h).await?;
                }
                let hash = self.job_hash.borrow().clone();
                let found = runs::source(
                    &self.client,
                    &self.runs.borrow(),
                    &self.checked.borrow(),
                    hash,
                );
                if let Some(w) = found {
                    return Ok(w);
                }
                if settled {
                    return Err(SdkError::new(
                        Code::NotFound,
                        format!(
                            "no node announced its run of market job {} or submitted a result before the job was settled: there are no logs to read",
                            self.job_id
                        ),
                    )
                    .job(&self.id_text())
                    .op("logs"));
                }
                sleep(self.poll_ms, None).await?;
            }
        })
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
