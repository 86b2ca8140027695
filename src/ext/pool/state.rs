//! A joined pool's state: its workers (with their health and load), how one is picked, the load
//! accounting as jobs start and end, and the events listeners get.

use crate::core::boundary::error::{Result, SdkError};
use crate::core::boundary::js::{Obj, ToJs};
use crate::core::boundary::promise::{Events, Stopper};
use crate::core::client::Client;
use crate::ext::consensus::{ConsensusReport, Observer, Quorum, Settled};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;

/// Where a pool's workers come from.
#[derive(Clone)]
pub enum Source {
    Workers(Vec<JsValue>),
    Coordinator(String),
    Broker(String),
}

#[derive(Clone, Default)]
pub struct Filter {
    pub ids: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    pub min_gpus: Option<f64>,
    pub min_memory: Option<f64>,
    pub capabilities: Option<JsValue>,
    pub max_price: Option<f64>,
    pub min_reputation: Option<f64>,
    pub min_nodes: Option<f64>,
    pub max_nodes: Option<f64>,
    pub health_interval_ms: Option<f64>,
}

/// A worker of a pool.
#[derive(Debug, Clone, Default, sandrun_derive::ToJs)]
pub struct NodeInfo {
    /// The broker's node id, else the worker's key, else its URL.
    pub id: String,
    pub endpoint: String,
    /// The key the worker announced on `/health`.
    pub worker_id: Option<String>,
    /// The key the source said it must have (coordinator allow-list, broker registration, list).
    pub expected_worker_id: Option<String>,
    pub healthy: bool,
    /// Why it is not healthy.
    pub problem: Option<String>,
    /// Jobs this pool has running there.
    pub active: f64,
    /// Jobs it takes at once (source's figure, else 2: the real worker's per-client limit).
    pub capacity: f64,
    pub completed: f64,
    pub region: Option<String>,
    pub gpus: f64,
    pub memory_mb: Option<f64>,
    pub price: Option<f64>,
    pub reputation: Option<f64>,
    /// `workers`, `coordinator` or `broker`.
    pub source: String,
}

pub struct NodeState {
    pub info: NodeInfo,
    pub client: Rc<Client>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Strategy {
    LeastLoaded,
    RoundRobin,
    Random,
}

pub const POOL_EVENTS: &[&str] = &[
    "node-joined",
    "node-left",
    "job-started",
    "job-completed",
    "consensus-achieved",
];

pub struct PoolInner {
    pub id: u32,
    pub client: Rc<Client>,
    pub sources: Vec<Source>,
    pub filter: Filter,
    pub quorum: Option<Quorum>,
    pub strategy: Strategy,
    pub nodes: RefCell<Vec<NodeState>>,
    pub events: Events,
    pub rr: Cell<usize>,
    pub closed: Cell<bool>,
    pub stop: Stopper,
}

impl PoolInner {
    pub fn emit(&self, event: &str, payload: &JsValue) {
        self.events.emit(event, payload);
    }

    pub fn healthy_count(&self) -> usize {
        self.nodes
            .borrow()
            .iter()
            .filter(|n| n.info.healthy)
            .count()
    }

    pub fn infos(&self) -> Vec<NodeInfo> {
        self.nodes.borrow().iter().map(|n| n.info.clone()).collect()
    }

    /// The single coordinator, when that is the pool's only source (its jobs go through it).
    pub fn coordinator_only(&self) -> Option<String> {
        match self.sources.as_slice() {
            [Source::Coordinator(u)] => Some(u.clone()),
            _ => None,
        }
    }

    /// Picks a healthy worker not in `exclude`, by the strategy; reserves a slot on it.
    pub fn pick(&self, exclude: &[usize]) -> Option<(usize, Rc<Client>)> {
        let mut nodes = self.nodes.borrow_mut();
        let ok: Vec<usize> = (0..nodes.len())
            .filter(|i| nodes[*i].info.healthy && !exclude.contains(i))
            .collect();
        if ok.is_empty() {
            return None;
        }
        let i = match self.strategy {
            Strategy::LeastLoaded => {
                let load = |i: &usize| nodes[*i].info.active / nodes[*i].info.capacity;
                ok.iter()
                    .copied()
                    .min_by(|a, b| load(a).total_cmp(&load(b)))
                    .unwrap_or(ok[0])
            }
            Strategy::RoundRobin => {
                let r = self.rr.get();
                self.rr.set(r + 1);
                ok[r % ok.len()]
            }
            Strategy::Random => ok[(js_sys::Math::random() * ok.len() as f64) as usize % ok.len()],
        };
        nodes[i].info.active += 1.0;
        Some((i, nodes[i].client.clone()))
    }

    pub fn release(&self, i: usize, completed: bool) {
        if let Some(n) = self.nodes.borrow_mut().get_mut(i) {
            n.info.active = (n.info.active - 1.0).max(0.0);
            if completed {
                n.info.completed += 1.0;
            }
        }
    }

    /// A worker failed under a job: out of the pool until the next health check.
    pub fn fail(&self, i: usize, why: &str) {
        let info = {
            let mut nodes = self.nodes.borrow_mut();
            let Some(n) = nodes.get_mut(i) else { return };
            if !n.info.healthy {
                return;
            }
            n.info.healthy = false;
            n.info.problem = Some(why.into());
            n.info.to_js()
        };
        self.emit("node-left", &info);
    }

    pub fn endpoint_of_node(&self, i: usize) -> String {
        self.nodes
            .borrow()
            .get(i)
            .map(|n| n.info.endpoint.clone())
            .unwrap_or_default()
    }

    /// The endpoint of the worker with this key.
    pub fn endpoint_of_key(&self, worker_id: &str) -> Option<String> {
        self.nodes
            .borrow()
            .iter()
            .find(|n| {
                n.info.expected_worker_id.as_deref() == Some(worker_id)
                    || n.info.worker_id.as_deref() == Some(worker_id)
            })
            .map(|n| n.info.endpoint.clone())
    }
}

/// What the pool learns from its jobs' groups: slots to free, events to emit.
pub struct Bookkeeping(pub Weak<PoolInner>);

impl Observer for Bookkeeping {
    fn consensus(&self, report: &ConsensusReport) {
        if let Some(p) = self.0.upgrade() {
            p.emit("consensus-achieved", &report.to_js());
        }
    }

    fn settled(&self, nodes: &[Option<usize>], r: &Result<Settled>) {
        let Some(pool) = self.0.upgrade() else { return };
        for i in nodes.iter().flatten() {
            pool.release(*i, r.is_ok());
        }
        let o = Obj::new();
        o.set("ok", &r.is_ok());
        match r {
            Ok(s) => {
                o.set("jobId", &s.member.id)
                    .set("status", &s.status.status)
                    .set("endpoint", &s.route.endpoint)
                    .set(
                        "workerId",
                        &s.status
                            .worker_metadata
                            .as_ref()
                            .and_then(|w| w.worker_id.clone()),
                    );
            }
            Err(e) => {
                o.set("error", &e.message).set("code", &e.code.as_str());
            }
        }
        pool.emit("job-completed", &o.into());
    }
}

/// The error a closed pool gives.
pub fn closed() -> SdkError {
    SdkError::new(
        crate::core::boundary::error::Code::Cancelled,
        "the pool was closed",
    )
}
