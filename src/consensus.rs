//! k-of-n consensus (issue 5): a job runs on n distinct workers, each signed result is verified,
//! results are grouped by what the worker signed about the job's outcome (job hash, exit code,
//! output hashes — not CPU or memory, which differ between honest runs), and the job is accepted
//! when k agree. `Group` is the state behind a pool job's `JobExecution`: its member executions
//! (one per worker), settled once, with the evidence.

use crate::convert::{Obj, ToJs};
use crate::error::{Code, Result, SdkError};
use crate::execution::{ExecInner, JobResult};
use crate::platform;
use crate::pool::{PoolInner, Route};
use crate::verify;
use sandrun_protocol::hash::sha256_hex;
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::StatusBody;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

/// k agreeing results out of n workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quorum {
    pub k: u32,
    pub n: u32,
}

/// The most workers one job may run on.
pub const MAX_N: u32 = 16;

impl Quorum {
    /// `'2-of-3'`, `{ k, n }`, or (for `redundancy(n)`) a majority of n.
    pub fn parse(v: &JsValue) -> std::result::Result<Quorum, String> {
        let (k, n) = if let Some(s) = v.as_string() {
            let (k, n) = s
                .split_once("-of-")
                .ok_or_else(|| format!("{s:?} is not a strategy like '2-of-3'"))?;
            let num = |x: &str| x.trim().parse::<u32>().ok();
            match (num(k), num(n)) {
                (Some(k), Some(n)) => (k, n),
                _ => return Err(format!("{s:?} is not a strategy like '2-of-3'")),
            }
        } else if v.is_object() {
            let get = |key: &str| {
                js_sys::Reflect::get(v, &key.into())
                    .ok()
                    .and_then(|x| x.as_f64())
                    .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x <= 1000.0)
                    .map(|x| x as u32)
            };
            match (get("k"), get("n")) {
                (Some(k), Some(n)) => (k, n),
                _ => return Err("must have whole numbers k and n, e.g. { k: 2, n: 3 }".into()),
            }
        } else {
            return Err("must be a string like '2-of-3' or { k, n }".into());
        };
        Quorum::new(k, n)
    }

    pub fn new(k: u32, n: u32) -> std::result::Result<Quorum, String> {
        if n == 0 || k == 0 || k > n {
            return Err(format!("{k}-of-{n}: need 1 <= k <= n"));
        }
        if n > MAX_N {
            return Err(format!("{k}-of-{n}: at most {MAX_N} workers per job"));
        }
        if k * 2 <= n {
            return Err(format!(
                "{k}-of-{n}: k must be more than half of n, or two different results could both win"
            ));
        }
        Ok(Quorum { k, n })
    }

    pub fn majority(n: u32) -> std::result::Result<Quorum, String> {
        Quorum::new(n / 2 + 1, n)
    }
}

/// What one worker returned, and what the SDK checked of it.
#[derive(Debug, Clone, Default, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct WorkerEvidence {
    /// The worker's public key (base64) as it signed; its endpoint for an anonymous worker.
    pub worker_id: String,
    pub endpoint: String,
    /// The job's id on that worker.
    pub job_id: String,
    pub status: Option<String>,
    pub exit_code: Option<f64>,
    pub job_hash: Option<String>,
    /// sha256 of `jobHash|exitCode|path:sha256|…` (what the grouping compares).
    pub result_hash: Option<String>,
    /// Output path → sha256, as signed.
    #[tsify(type = "Record<string, string>")]
    pub outputs: SortedMap<String>,
    /// The worker's Ed25519 signature (base64), the evidence.
    pub signature: Option<String>,
    /// The exact message the signature verified against.
    pub signed_message: Option<String>,
    /// The signature verified and the job hash is the one computed before submission.
    pub verified: bool,
    /// Why this result was not counted (failed verification, no answer, …).
    pub problems: Vec<String>,
}

/// `result.consensus` and `ConsensusError.report`.
#[derive(Debug, Clone, Default, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ConsensusReport {
    pub reached: bool,
    pub k: u32,
    pub n: u32,
    /// Worker ids whose verified results agree (the winning group).
    pub agreeing: Vec<String>,
    /// Every other worker: a different result, an invalid signature, or no result.
    pub dissenting: Vec<String>,
    /// The winning group's result hash (`null` when no k agreed).
    pub result_hash: Option<String>,
    pub job_hash: Option<String>,
    pub exit_code: Option<f64>,
    /// The agreed outputs: path → sha256. Downloads are checked against these.
    #[tsify(type = "Record<string, string>")]
    pub outputs: SortedMap<String>,
    /// One entry per worker, with its signature.
    pub evidence: Vec<WorkerEvidence>,
}

impl ToJs for WorkerEvidence {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("workerId", &self.worker_id)
            .set("endpoint", &self.endpoint)
            .set("jobId", &self.job_id)
            .set("status", &self.status)
            .set("exitCode", &self.exit_code)
            .set("jobHash", &self.job_hash)
            .set("resultHash", &self.result_hash)
            .set("outputs", &self.outputs)
            .set("signature", &self.signature)
            .set("signedMessage", &self.signed_message)
            .set("verified", &self.verified)
            .set("problems", &self.problems);
        o.into()
    }
}

impl ToJs for ConsensusReport {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("reached", &self.reached)
            .set("k", &(self.k as f64))
            .set("n", &(self.n as f64))
            .set("agreeing", &self.agreeing)
            .set("dissenting", &self.dissenting)
            .set("resultHash", &self.result_hash)
            .set("jobHash", &self.job_hash)
            .set("exitCode", &self.exit_code)
            .set("outputs", &self.outputs)
            .set("evidence", &self.evidence);
        o.into()
    }
}

/// The text the grouping compares: what the signature covers about the outcome, without CPU and
/// memory.
pub fn result_key(job_hash: &str, exit_code: i64, outputs: &SortedMap<String>) -> String {
    let mut s = format!("{job_hash}|{exit_code}|");
    for (path, sha) in outputs {
        s.push_str(path);
        s.push(':');
        s.push_str(sha);
        s.push('|');
    }
    s
}

/// Groups verified results and decides. Unverified results never count.
pub fn decide(q: Quorum, evidence: Vec<WorkerEvidence>) -> ConsensusReport {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, e) in evidence.iter().enumerate() {
        if let (true, Some(h)) = (e.verified, &e.result_hash) {
            match groups.iter_mut().find(|(k, _)| k == h) {
                Some((_, members)) => members.push(i),
                None => groups.push((h.clone(), vec![i])),
            }
        }
    }
    let best = groups.iter().max_by_key(|(_, m)| m.len());
    let winner = best.filter(|(_, m)| m.len() as u32 >= q.k);
    let win: &[usize] = winner.map(|(_, m)| m.as_slice()).unwrap_or(&[]);
    let first = win.first().and_then(|&i| evidence.get(i));
    ConsensusReport {
        reached: winner.is_some(),
        k: q.k,
        n: q.n,
        agreeing: win
            .iter()
            .filter_map(|&i| evidence.get(i))
            .map(|e| e.worker_id.clone())
            .collect(),
        dissenting: evidence
            .iter()
            .enumerate()
            .filter(|(i, _)| !win.contains(i))
            .map(|(_, e)| e.worker_id.clone())
            .collect(),
        result_hash: winner.map(|(h, _)| h.clone()),
        job_hash: first.and_then(|e| e.job_hash.clone()),
        exit_code: first.and_then(|e| e.exit_code),
        outputs: first.map(|e| e.outputs.clone()).unwrap_or_default(),
        evidence,
    }
}

/// One worker's copy of a pool job.
pub struct Member {
    pub exec: Rc<ExecInner>,
    /// Index of its node in the pool (for load accounting).
    pub node: Option<usize>,
}

/// How a group's members are known.
pub enum Kind {
    /// Submitted straight to the workers.
    Direct,
    /// Submitted through a pool coordinator: the worker and its job id are learnt from the
    /// coordinator's status.
    Coordinator {
        coordinator: Rc<crate::client::Client>,
        pool_job_id: String,
    },
}

#[derive(Clone)]
pub struct Settled {
    pub status: StatusBody,
    /// The member whose result is the answer (an agreeing one under consensus).
    pub member: Rc<ExecInner>,
    pub consensus: Option<ConsensusReport>,
    pub route: Route,
}

enum State {
    Idle,
    Running,
    Done(Box<Result<Settled>>),
}

/// The state behind a pool job's `JobExecution`.
pub struct Group {
    pub quorum: Option<Quorum>,
    pub kind: Kind,
    pub members: RefCell<Vec<Member>>,
    pub pool: Weak<PoolInner>,
    pub facade: RefCell<Weak<ExecInner>>,
    state: RefCell<State>,
}

impl Group {
    pub fn new(
        quorum: Option<Quorum>,
        kind: Kind,
        members: Vec<Member>,
        pool: Weak<PoolInner>,
    ) -> Rc<Group> {
        Rc::new(Group {
            quorum,
            kind,
            members: RefCell::new(members),
            pool,
            facade: RefCell::new(Weak::new()),
            state: RefCell::new(State::Idle),
        })
    }

    /// Runs to the end once; later and concurrent callers get the same outcome.
    pub async fn settle(self: Rc<Self>) -> Result<Settled> {
        loop {
            let running = match &*self.state.borrow() {
                State::Done(r) => return (**r).clone(),
                State::Running => true,
                State::Idle => false,
            };
            if !running {
                break;
            }
            platform::sleep(25.0, None).await?;
        }
        *self.state.borrow_mut() = State::Running;
        let r = self.run().await;
        if let (Ok(s), Some(f)) = (&r, self.facade.borrow().upgrade()) {
            f.state.borrow_mut().last = Some(s.status.clone());
        }
        *self.state.borrow_mut() = State::Done(Box::new(r.clone()));
        if let Some(pool) = self.pool.upgrade() {
            let nodes: Vec<Option<usize>> = self.members.borrow().iter().map(|m| m.node).collect();
            pool.finished(&nodes, &r);
        }
        r
    }

    async fn run(&self) -> Result<Settled> {
        if let Kind::Coordinator {
            coordinator,
            pool_job_id,
        } = &self.kind
        {
            let facade = self.facade.borrow().upgrade();
            let (member, route) =
                crate::pool::follow_coordinator(&self.pool, coordinator, pool_job_id, facade)
                    .await?;
            let status = member.wait_terminal(None, None).await?;
            let route = crate::pool::check_stuck(coordinator, pool_job_id, route).await;
            self.members.borrow_mut().push(Member {
                exec: member.clone(),
                node: None,
            });
            return Ok(Settled {
                status,
                member,
                consensus: None,
                route,
            });
        }
        let members: Vec<Rc<ExecInner>> = self
            .members
            .borrow()
            .iter()
            .map(|m| m.exec.clone())
            .collect();
        let Some(q) = self.quorum else {
            let member = members
                .first()
                .cloned()
                .ok_or_else(|| SdkError::new(Code::Internal, "a pool job without a worker"))?;
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
        for m in &members {
            let (e, s) = examine(m).await;
            evidence.push(e);
            statuses.push(s);
        }
        let report = decide(q, evidence);
        let winner = report.evidence.iter().position(|e| {
            report.reached && Some(&e.result_hash) == Some(&report.result_hash) && e.verified
        });
        if let Some(pool) = self.pool.upgrade() {
            if report.reached {
                pool.emit("consensus-achieved", &report.to_js());
            }
        }
        match winner.and_then(|i| Some((members.get(i)?.clone(), statuses.get(i)?.clone()?))) {
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

    /// Downloads from the member whose result won, checked against its (the agreed) hashes.
    pub async fn download(self: Rc<Self>, path: &str) -> Result<Vec<u8>> {
        let s = self.settle().await?;
        s.member.download(path).await
    }

    /// Adds the consensus evidence and the route to `wait()`'s result.
    pub fn decorate(&self, s: &Settled, result: &mut JobResult) {
        result.id = s.member.id.clone();
        result.consensus = s.consensus.clone();
        result.route = Some(s.route.clone());
    }
}

fn agreeing_max(r: &ConsensusReport) -> usize {
    let mut counts: Vec<(&String, usize)> = Vec::new();
    for e in r.evidence.iter().filter(|e| e.verified) {
        if let Some(h) = &e.result_hash {
            match counts.iter_mut().find(|(k, _)| *k == h) {
                Some((_, c)) => *c += 1,
                None => counts.push((h, 1)),
            }
        }
    }
    counts.iter().map(|(_, c)| *c).max().unwrap_or(0)
}

/// Waits for one worker's result and verifies it (hash against the local one, signature).
async fn examine(m: &Rc<ExecInner>) -> (WorkerEvidence, Option<StatusBody>) {
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
    e.result_hash = Some(sha256_hex(
        result_key(&status.job_hash, exit, &e.outputs).as_bytes(),
    ));
    match verify::verify(m, false).await {
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

/// A job's `.consensus()` needs a pool to run on.
pub fn require_pool(draft: &crate::spec::JobDraft) -> Result<()> {
    if draft.consensus.is_some() && draft.pool.is_none() {
        return Err(SdkError::field(
            "consensus",
            "runs the job on several workers: attach a pool with .with(pool)",
        )
        .op("submit"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, hash: &str, verified: bool) -> WorkerEvidence {
        WorkerEvidence {
            worker_id: id.into(),
            result_hash: Some(hash.into()),
            verified,
            ..Default::default()
        }
    }

    #[test]
    fn quorum_rules() {
        assert_eq!(Quorum::new(2, 3), Ok(Quorum { k: 2, n: 3 }));
        assert!(
            Quorum::new(1, 2).is_err(),
            "two different results could both win"
        );
        assert!(Quorum::new(4, 3).is_err());
        assert!(Quorum::new(0, 3).is_err());
        assert!(Quorum::new(17, 17).is_err());
        assert_eq!(Quorum::majority(5), Ok(Quorum { k: 3, n: 5 }));
        assert_eq!(Quorum::majority(1), Ok(Quorum { k: 1, n: 1 }));
    }

    #[test]
    fn two_of_three_names_the_dissenter() {
        let r = decide(
            Quorum { k: 2, n: 3 },
            vec![
                ev("a", "h1", true),
                ev("bad", "h2", true),
                ev("c", "h1", true),
            ],
        );
        assert!(r.reached);
        assert_eq!(r.agreeing, ["a", "c"]);
        assert_eq!(r.dissenting, ["bad"]);
        assert_eq!(r.result_hash.as_deref(), Some("h1"));
    }

    #[test]
    fn unverified_results_do_not_count() {
        let r = decide(
            Quorum { k: 2, n: 3 },
            vec![
                ev("a", "h1", true),
                ev("forged", "h1", false),
                ev("c", "h2", true),
            ],
        );
        assert!(!r.reached);
        assert!(r.agreeing.is_empty());
        assert_eq!(r.dissenting, ["a", "forged", "c"]);
        let all = decide(
            Quorum { k: 3, n: 3 },
            vec![
                ev("a", "h1", true),
                ev("b", "h1", true),
                ev("c", "h2", true),
            ],
        );
        assert!(!all.reached);
    }

    #[test]
    fn key_covers_outcome_not_resources() {
        let mut outs = SortedMap::new();
        outs.insert("out/b".to_string(), "22".to_string());
        outs.insert("out/a".to_string(), "11".to_string());
        assert_eq!(result_key("jh", 0, &outs), "jh|0|out/a:11|out/b:22|");
    }
}
