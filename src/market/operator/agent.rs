//! `MarketNode`: the node agent in market mode. `start()` registers the account on chain with its
//! worker's key (or finds it registered), then follows `JobPosted` from `fromBlock`; each job it
//! sees is decided from the chain's own record (`getJob`), so a restarted agent resumes where
//! the chain says it is: a job it already submitted is left alone, one it claimed but has no
//! result on chain for is run (the worker's result is deterministic: the same result hash and
//! the same CID) and submitted, and only a job it has not claimed is claimed.
//!
//! Once its worker accepted a job, the agent announces the run (`started(jobId, workerJobId)`,
//! the `JobRunning` event) so that the submitter can follow its logs on the node's endpoint. The
//! announcement runs beside the job: a failure is reported (`error`) and changes nothing else,
//! and a node that announced the job before (a restart that runs it again) does not again.

use super::capabilities::{mismatch, template_names, MarketCapabilities, Needs};
use super::job::{self, Finished};
use super::store::{Place, Store};
use crate::core::actions;
use crate::core::boundary::error::{Code, FieldProblem, Result, SdkError};
use crate::core::boundary::js::{message_of, string, Obj, ToJs};
use crate::core::boundary::platform::{self, now_ms};
use crate::core::boundary::promise::{promise, spawn, Events};
use crate::core::client::Client;
use crate::core::transport::{CallOpts, Fut};
use crate::market::chain::connection::Chain;
use crate::market::chain::contract::MarketContract;
use crate::market::chain::deployment::deployment_block;
use crate::market::chain::results::TxReceipt;
use crate::market::chain::send::{Mined, SendOptions};
use crate::market::chain::values::{bigint, Addr, Hash, Wei};
use crate::market::chain::watch::{From, OnError, Sink, WatchHandle, WatchOptions, WatchedLog};
use crate::market::format;
use crate::market::ipfs::client::Ipfs;
use alloy_primitives::{Address, B256, U256};
use js_sys::{Function, Promise};
use sandrun_chain::events::{topic0, MarketEvent};
use sandrun_chain::market::JobState;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub const MARKET_NODE_EVENTS: &[&str] = &[
    "registered",
    "job-seen",
    "job-skipped",
    "job-claimed",
    "job-running",
    "job-completed",
    "result-submitted",
    "error",
];

#[wasm_bindgen(typescript_custom_section)]
const MARKET_NODE_TS: &'static str = r#"
export type MarketNodeEvent = 'registered' | 'job-seen' | 'job-skipped' | 'job-claimed' | 'job-running' | 'job-completed' | 'result-submitted' | 'error';
"#;

/// The agent's settings, checked when the builder's `market()` is called.
pub struct Settings {
    pub market: Address,
    pub bond: U256,
    /// The least `pricePerNode` it takes a job for (also its price on chain).
    pub price: U256,
    /// None: the market's deployment block.
    pub from_block: Option<u64>,
    pub poll_ms: f64,
    /// Seconds a job must have left before its deadline to be claimed.
    pub min_time_left: u64,
    pub faulty: bool,
    /// What the node runs; jobs that ask for more are skipped.
    pub capabilities: MarketCapabilities,
    /// Announces each run on chain (`started`) for the submitter to follow its logs.
    pub announce: bool,
    /// Keeps published results until they are on chain (`store.rs`).
    pub store: Option<Store>,
}

#[derive(Default)]
struct State {
    address: Option<Address>,
    worker_key: Option<B256>,
    /// Jobs taken up by this process (seen again after a reorg or a second delivery: ignored).
    seen: Vec<U256>,
    running: Vec<U256>,
    submitted: f64,
    failed: f64,
    last_error: Option<String>,
}

pub struct Agent {
    pub worker: Rc<Client>,
    pub settings: Settings,
    /// Problems of the builder and the options, reported by `start()` before anything is sent.
    pub problems: Vec<FieldProblem>,
    events: Events,
    st: RefCell<State>,
    contract: RefCell<Option<Rc<MarketContract>>>,
    ipfs: RefCell<Option<Rc<Ipfs>>>,
    watch: RefCell<Option<WatchHandle>>,
}

/// A job as `JobPosted` announced it.
#[derive(Clone)]
struct Posted {
    id: U256,
    job_hash: B256,
    input_cid: String,
    price_per_node: U256,
    /// The block it was posted in: the job's later logs (its runs) are read from there.
    block: u64,
}

fn job_event(id: U256) -> Obj {
    let o = Obj::new();
    o.set("jobId", &bigint(id));
    o
}

/// A revert of the contract with one of these custom errors.
fn reverted(e: &SdkError, names: &[&str]) -> bool {
    e.code == Code::Reverted
        && names.iter().any(|n| {
            e.message
                .strip_prefix(n)
                .is_some_and(|r| r.starts_with('('))
        })
}

fn receipt(o: &Obj, mined: &Mined) {
    o.set("receipt", &TxReceipt::of(mined).to_js());
}

impl Agent {
    pub fn new(worker: Rc<Client>, settings: Settings, problems: Vec<FieldProblem>) -> Agent {
        Agent {
            worker,
            settings,
            problems,
            events: Events::default(),
            st: RefCell::new(State::default()),
            contract: RefCell::new(None),
            ipfs: RefCell::new(None),
            watch: RefCell::new(None),
        }
    }

    fn contract(&self) -> Result<Rc<MarketContract>> {
        self.contract.borrow().clone().ok_or_else(|| {
            SdkError::new(
                Code::Validation,
                "the market node is not started: call start()",
            )
        })
    }

    fn error(&self, job: Option<U256>, e: &SdkError) {
        self.st.borrow_mut().last_error = Some(e.message.clone());
        let js = e.clone().into_js();
        if let Some(id) = job {
            let _ = js_sys::Reflect::set(&js, &"jobId".into(), &bigint(id));
        }
        self.events.emit("error", &js);
    }

    /// Opens the contract and IPFS, registers (or updates) the node, and starts following jobs.
    async fn start(self: Rc<Self>) -> Result<()> {
        if !self.problems.is_empty() {
            return Err(SdkError::validation(self.problems.clone()));
        }
        if self.watch.borrow().is_some() {
            return Ok(());
        }
        let sandrun = crate::core::sandrun::Sandrun::new(self.worker.clone(), Rc::from(vec![]));
        let ipfs = sandrun.ipfs().map_err(job::from_js)?;
        let chain = Chain::open(&self.worker)?;
        let contract = Rc::new(MarketContract::open(chain, self.settings.market).await?);
        let address = contract.chain.sender().await?.address();
        let health = actions::health::health(&self.worker.http, &CallOpts::default()).await?;
        let Some(worker_id) = health.worker_id else {
            return Err(SdkError::new(
                Code::Validation,
                format!(
                    "the worker {} signs nothing (no worker key): a market node needs a signing worker",
                    self.worker.config.endpoint
                ),
            ));
        };
        let key = format::worker_key(&worker_id).map_err(|e| SdkError::new(Code::Protocol, e.0))?;
        {
            let mut st = self.st.borrow_mut();
            st.address = Some(address);
            st.worker_key = Some(key);
        }
        *self.contract.borrow_mut() = Some(contract.clone());
        *self.ipfs.borrow_mut() = Some(Rc::new(ipfs));
        self.register(&contract, address, key).await?;
        let from_block = match self.settings.from_block {
            Some(b) => b,
            None => deployment_block(&self.worker, &contract.chain, contract.address).await?,
        };
        self.follow(&contract, from_block);
        Ok(())
    }

    /// registerNode, or updateNode when registered with another key, endpoint or price; nothing
    /// when the chain already has this node as it is.
    async fn register(&self, c: &MarketContract, address: Address, key: B256) -> Result<()> {
        let endpoint = self.worker.config.endpoint.clone();
        let s = &self.settings;
        let node = c.node(address).await?;
        let o = Obj::new();
        o.set("address", &Addr(address))
            .set("workerKey", &Hash(key))
            .set("endpoint", &endpoint)
            .set("price", &Wei(s.price));
        let opts = SendOptions::default();
        if !node.registered {
            let mined = c
                .register_node(key, &endpoint, s.price, s.bond, &opts)
                .await?;
            o.set("bond", &Wei(s.bond)).set("action", &"registered");
            receipt(&o, &mined);
        } else if node.worker_key != key || node.endpoint != endpoint || node.price != s.price {
            let mined = c
                .update_node(key, &endpoint, s.price, U256::ZERO, &opts)
                .await?;
            o.set("bond", &Wei(node.bond)).set("action", &"updated");
            receipt(&o, &mined);
        } else {
            o.set("bond", &Wei(node.bond)).set("action", &"already");
        }
        self.events.emit("registered", &o.into());
        Ok(())
    }

    /// Follows `JobPosted` from `from_block` (back-filled, then polled); each job is taken up in
    /// its own task, so a long job does not hold the others back.
    fn follow(self: &Rc<Self>, c: &MarketContract, from_block: u64) {
        let weak = Rc::downgrade(self);
        let sink: Sink = Rc::new(move |w: WatchedLog| -> Fut<'static, ()> {
            let weak = weak.clone();
            Box::pin(async move {
                let (Some(agent), false) = (weak.upgrade(), w.removed) else {
                    return;
                };
                if let MarketEvent::JobPosted(p) = w.event {
                    agent.seen(Posted {
                        id: p.jobId,
                        job_hash: p.jobHash,
                        input_cid: p.inputCid,
                        price_per_node: U256::from(p.pricePerNode),
                        block: w.log.block_number,
                    });
                }
            })
        });
        let weak = Rc::downgrade(self);
        let on_error: OnError = Rc::new(move |e| {
            if let Some(a) = weak.upgrade() {
                a.error(None, &e);
            }
        });
        let opts = WatchOptions {
            from: From::Block(from_block),
            confirmations: 1,
            poll_ms: self.settings.poll_ms,
            on_error: Some(on_error),
        };
        let topics = vec![topic0("JobPosted")];
        *self.watch.borrow_mut() = Some(c.watch(topics, opts, sink));
    }

    fn seen(self: &Rc<Self>, p: Posted) {
        {
            let mut st = self.st.borrow_mut();
            if st.seen.contains(&p.id) {
                return;
            }
            st.seen.push(p.id);
        }
        let o = job_event(p.id);
        o.set("jobHash", &Hash(p.job_hash))
            .set("inputCid", &p.input_cid)
            .set("pricePerNode", &Wei(p.price_per_node));
        self.events.emit("job-seen", &o.into());
        let agent = self.clone();
        spawn(async move {
            let id = p.id;
            agent.st.borrow_mut().running.push(id);
            let done = agent.take(p).await;
            let mut st = agent.st.borrow_mut();
            st.running.retain(|r| *r != id);
            match done {
                Ok(true) => st.submitted += 1.0,
                Ok(false) => {}
                Err(e) => {
                    st.failed += 1.0;
                    drop(st);
                    agent.error(Some(id), &e);
                }
            }
        });
    }

    /// Decides from the chain's record whether to claim, run and submit; true when a result
    /// was submitted now.
    async fn take(self: &Rc<Self>, p: Posted) -> Result<bool> {
        let c = self.contract()?;
        let me = self.st.borrow().address.unwrap_or_default();
        let job = c.job(p.id).await?;
        let now = (now_ms() / 1000.0) as u64;
        let running = matches!(job.state, JobState::Open | JobState::Claimed) && job.deadline > now;
        let mine = job.claims.iter().find(|cl| cl.node == me);
        match mine {
            // Submitted before (by this process or one before a restart).
            Some(cl) if cl.result_hash.is_some() => return Ok(false),
            Some(_) if !running => return Ok(false),
            // Claimed before a restart, no result on chain yet: run it now.
            Some(_) => {}
            None => {
                let full = job.claims.len() >= usize::from(job.n);
                let cheap = p.price_per_node < self.settings.price;
                let late = job.deadline < now + self.settings.min_time_left;
                if !running || full || cheap || late {
                    return Ok(false);
                }
                if let Some(reason) = self.mismatch(&p).await {
                    let o = job_event(p.id);
                    o.set("inputCid", &p.input_cid).set("reason", &reason);
                    self.events.emit("job-skipped", &o.into());
                    return Ok(false);
                }
                match c.claim(p.id, &SendOptions::default()).await {
                    Ok(mined) => {
                        let o = job_event(p.id);
                        receipt(&o, &mined);
                        self.events.emit("job-claimed", &o.into());
                    }
                    // The chain moved since getJob: another node took the last place, or the
                    // job ended. Not this node's failure.
                    Err(e) if reverted(&e, &["JobFull", "DeadlinePassed", "WrongJobState"]) => {
                        return Ok(false)
                    }
                    // A claim of this node's own landed first (a resent transaction): run it.
                    Err(e) if reverted(&e, &["AlreadyClaimed"]) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let ipfs = self
            .ipfs
            .borrow()
            .clone()
            .ok_or_else(|| SdkError::new(Code::Internal, "IPFS is not open"))?;
        let at = Place {
            market: self.settings.market,
            account: me,
            job: p.id,
            job_hash: p.job_hash,
        };
        let out = match self.kept(&at).await {
            // Published before a restart, not on chain yet: the same result, not a second run.
            Some(out) => {
                let o = job_event(p.id);
                o.set("resultHash", &Hash(out.result_hash))
                    .set("outputCid", &out.output_cid)
                    .set("restored", &true);
                self.events.emit("job-completed", &o.into());
                out
            }
            None => {
                let run = job::submit(&self.worker, &ipfs, &p.job_hash, &p.input_cid).await?;
                let agent = self.clone();
                let announced = run.clone();
                spawn(async move { agent.announce(p.id, p.block, announced).await });
                let done: Finished = job::finish(&self.worker, &p.job_hash, run).await?;
                let out = job::publish(&ipfs, &done, self.settings.faulty).await?;
                self.keep(&at, &out, &done.worker_job).await;
                let o = job_event(p.id);
                o.set("workerJobId", &done.worker_job)
                    .set("exitCode", &(format::exit_code(&done.status) as f64))
                    .set("resultHash", &Hash(out.result_hash))
                    .set("outputCid", &out.output_cid)
                    .set("faulty", &self.settings.faulty)
                    .set("restored", &false);
                self.events.emit("job-completed", &o.into());
                out
            }
        };
        let mined = self.submit(&c, &p, &out, job.deadline).await?;
        let o = job_event(p.id);
        o.set("resultHash", &Hash(out.result_hash))
            .set("outputCid", &out.output_cid);
        receipt(&o, &mined);
        self.events.emit("result-submitted", &o.into());
        Ok(true)
    }

    /// Why this node does not take the job (None: it matches its capabilities): read from the
    /// job's `manifest.json` on IPFS (listed, then read by its own CID, both verified; at most
    /// 64 KiB, a manifest is a few hundred bytes). A manifest that cannot be read is a reason.
    async fn mismatch(&self, p: &Posted) -> Option<String> {
        let ipfs = self.ipfs.borrow().clone()?;
        let needs = match read_manifest(&ipfs, &p.input_cid).await {
            Ok(m) => Needs::of_manifest(&m),
            Err(e) => return Some(format!("its manifest could not be read: {}", e.message)),
        };
        let Some(needs) = needs else {
            return Some(format!("its {} is not a JSON object", format::MANIFEST));
        };
        let caps = &self.settings.capabilities;
        let templates = if needs.environment.is_some() && caps.asks_worker_environments() {
            let read = |v: &JsValue, _| template_names(v).ok_or_else(|| "no templates".to_string());
            let opts = CallOpts::default();
            let answer = self
                .worker
                .http
                .get_json("environments", "/environments", &opts, read);
            answer.await.ok()
        } else {
            None
        };
        mismatch(caps, templates.as_deref(), &needs)
    }

    /// `job-running`, and `started(jobId, run)` on chain unless `announce: false` or this node
    /// announced the job before (a restart). A failure is an `error` event, nothing more: the
    /// run and its result do not depend on it.
    async fn announce(&self, id: U256, posted_at: u64, run: String) {
        let o = job_event(id);
        o.set("workerJobId", &run);
        let sent = async {
            if !self.settings.announce {
                return Ok(None);
            }
            let c = self.contract()?;
            let me = self.st.borrow().address.unwrap_or_default();
            let before = c.runs(id, Some(me), posted_at).await?;
            if !before.is_empty() {
                return Ok(None);
            }
            c.started(id, &run, &SendOptions::default()).await.map(Some)
        };
        match sent.await {
            Ok(mined) => {
                o.set("announced", &mined.is_some());
                if let Some(m) = &mined {
                    receipt(&o, m);
                }
            }
            Err(e) => {
                o.set("announced", &false);
                self.error(Some(id), &e.op("started"));
            }
        }
        self.events.emit("job-running", &o.into());
    }

    /// The result the store kept for this job (a store that fails is reported, and the job
    /// run).
    async fn kept(&self, at: &Place) -> Option<job::Published> {
        let store = self.settings.store.as_ref()?;
        store.get(at).await.unwrap_or_else(|e| {
            self.error(Some(at.job), &e);
            None
        })
    }

    async fn keep(&self, at: &Place, out: &job::Published, worker_job: &str) {
        if let Some(store) = &self.settings.store {
            if let Err(e) = store.set(at, out, worker_job).await {
                self.error(Some(at.job), &e);
            }
        }
    }

    /// `submitResult`, sent again while it fails for a reason that may pass (the provider is
    /// down, a timeout) and the deadline allows: a finished result is not dropped for that.
    async fn submit(
        &self,
        c: &MarketContract,
        p: &Posted,
        out: &job::Published,
        deadline: u64,
    ) -> Result<Mined> {
        let mut pause = 1000.0;
        loop {
            let sent = c
                .submit_result(
                    p.id,
                    out.result_hash,
                    &out.output_cid,
                    &out.signature,
                    &SendOptions::default(),
                )
                .await;
            match sent {
                Err(e) if e.retryable && (now_ms() + pause) / 1000.0 < deadline as f64 => {
                    self.error(Some(p.id), &e);
                    platform::sleep(pause, None).await?;
                    pause = (pause * 2.0).min(30_000.0);
                }
                done => return done,
            }
        }
    }

    fn stop(&self) {
        if let Some(w) = self.watch.borrow_mut().take() {
            w.stop();
        }
    }
}

/// The `manifest.json` of the job directory at `cid`, parsed.
async fn read_manifest(ipfs: &Ipfs, cid: &str) -> Result<JsValue> {
    const MAX_MANIFEST: f64 = 64.0 * 1024.0;
    let listed = JsFuture::from(ipfs.ls(cid.to_string(), None))
        .await
        .map_err(job::from_js)?;
    let entry = js_sys::Array::from(&listed)
        .iter()
        .find(|e| string(e, "name").as_deref() == Some(format::MANIFEST))
        .and_then(|e| string(&e, "cid"))
        .ok_or_else(|| {
            SdkError::new(
                Code::Protocol,
                format!("{cid} holds no {}", format::MANIFEST),
            )
        })?;
    let options = Obj::new();
    options.set("length", &MAX_MANIFEST);
    let bytes = JsFuture::from(ipfs.get(entry, Some(options.into())))
        .await
        .map_err(job::from_js)?;
    let text = String::from_utf8(js_sys::Uint8Array::new(&bytes).to_vec())
        .map_err(|_| SdkError::new(Code::Protocol, format!("{} is not UTF-8", format::MANIFEST)))?;
    js_sys::JSON::parse(&text).map_err(|e| {
        SdkError::new(
            Code::Protocol,
            format!("{}: {}", format::MANIFEST, message_of(&e)),
        )
    })
}

/// `status()`'s answer.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct MarketNodeStatus {
    /// The node's account (`null` before `start()`).
    pub address: Option<String>,
    pub market: String,
    /// The worker's Ed25519 key as registered (`0x` hex).
    pub worker_key: Option<String>,
    pub endpoint: String,
    pub following: bool,
    pub faulty: bool,
    /// Jobs being run now (job ids as decimal strings).
    pub running: Vec<String>,
    pub results_submitted: f64,
    pub jobs_failed: f64,
    pub last_error: Option<String>,
}

/// A node serving the market (`sandrun.node().endpoint(url).market({ … })`).
#[wasm_bindgen]
pub struct MarketNode {
    inner: Rc<Agent>,
}

impl MarketNode {
    pub fn new(inner: Rc<Agent>) -> MarketNode {
        MarketNode { inner }
    }
}

#[wasm_bindgen]
impl MarketNode {
    /// Registers on chain (skipped when already registered with this worker, endpoint and
    /// price), then follows posted jobs: claims those that pay at least `price`, runs them on
    /// the worker, adds each result to IPFS and submits it.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn start(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            inner.start().await.map_err(|e| e.op("marketNode.start"))?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Stops following jobs; jobs already taken up still finish and are submitted.
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Sends the node's earnings (its balance in the market) to its account.
    #[wasm_bindgen(unchecked_return_type = "Promise<{ amount: bigint, receipt: TxReceipt }>")]
    pub fn withdraw(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let run = async {
                let c = inner.contract()?;
                let me = c.chain.sender().await?.address();
                let amount = c.balance_of(me).await?;
                let mined = c.withdraw(&SendOptions::default()).await?;
                let o = Obj::new();
                o.set("amount", &Wei(amount));
                receipt(&o, &mined);
                Ok(o.into())
            };
            run.await.map_err(|e: SdkError| e.op("marketNode.withdraw"))
        })
    }

    #[wasm_bindgen(unchecked_return_type = "MarketNodeStatus")]
    pub fn status(&self) -> JsValue {
        let a = &self.inner;
        let st = a.st.borrow();
        MarketNodeStatus {
            address: st.address.map(|x| x.to_checksum(None)),
            market: a.settings.market.to_checksum(None),
            worker_key: st.worker_key.map(|k| k.to_string()),
            endpoint: a.worker.config.endpoint.clone(),
            following: a.watch.borrow().is_some(),
            faulty: a.settings.faulty,
            running: st.running.iter().map(|r| r.to_string()).collect(),
            results_submitted: st.submitted,
            jobs_failed: st.failed,
            last_error: st.last_error.clone(),
        }
        .to_js()
    }

    /// Listens to `registered`, `job-seen`, `job-skipped` (`{ jobId, inputCid, reason }`: not
    /// claimed, its manifest asks for what this node does not run), `job-claimed`, `job-running`
    /// (`{ jobId, workerJobId, announced, receipt? }`), `job-completed`, `result-submitted`,
    /// `error` (an error about one job carries its `jobId`).
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MarketNodeEvent")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: any) => void")] listener: Function,
    ) -> std::result::Result<(), JsValue> {
        self.inner
            .events
            .on(MARKET_NODE_EVENTS, &event, listener)
            .map_err(SdkError::into_js)
    }

    /// Removes a listener added with `on()`; true if it was there.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MarketNodeEvent")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: any) => void")] listener: Function,
    ) -> bool {
        self.inner.events.off(&event, &listener)
    }
}
