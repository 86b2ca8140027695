//! `sandrun.pool()` → `PoolBuilder` → `join()` → `Pool`: sources, filters, consensus and strategy,
//! collected immutably; `join()` finds the workers and checks them.

use super::handle::Pool;
use super::state::{Filter, PoolInner, Source, Strategy};
use super::{register, NEXT_ID};
use crate::core::boundary::error::{Code, FieldProblem, SdkError};
use crate::core::boundary::js::num;
use crate::core::boundary::platform;
use crate::core::boundary::promise::{promise, spawn, Events, Stopper};
use crate::core::boundary::reader::{FromJs, Reader};
use crate::core::client::Client;
use crate::core::config::normalize_endpoint;
use crate::ext::consensus::Quorum;
use js_sys::{Array, Promise};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// `discover()` options.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "discover.")]
pub struct DiscoverOptions {
    /// `join()` fails with fewer healthy matching workers (default 1).
    pub min_nodes: Option<f64>,
    /// Use at most this many (the rest replace failed ones).
    pub max_nodes: Option<f64>,
    /// Capabilities a worker must have: numbers are minimums, other values must be equal.
    #[js(ts = "Record<string, unknown>")]
    pub capabilities: Option<JsValue>,
    pub regions: Option<Vec<String>>,
    /// Highest `pricing.perJob` (or `price`) accepted.
    pub max_price: Option<f64>,
    /// Lowest reputation (0–1; a broker node's completed / (completed + failed)).
    pub min_reputation: Option<f64>,
    /// Re-check health (and replace failed workers) this often, until `close()`.
    pub health_interval_ms: Option<f64>,
}

#[wasm_bindgen(typescript_custom_section)]
const POOL_TS: &'static str = r#"
export type PoolEvent = 'node-joined' | 'node-left' | 'job-started' | 'job-completed' | 'consensus-achieved';
export interface PoolWorker { url: string; workerId?: string; region?: string; gpus?: number; memoryMb?: number; maxConcurrent?: number; pricing?: { perJob?: number }; [capability: string]: unknown }
"#;

#[wasm_bindgen]
#[derive(Clone)]
pub struct PoolBuilder {
    client: Rc<Client>,
    sources: Vec<Source>,
    filter: Filter,
    quorum: Option<Quorum>,
    strategy: Option<Strategy>,
    problems: Vec<FieldProblem>,
}

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem::new(field, message)
}

impl PoolBuilder {
    pub fn new(client: Rc<Client>) -> PoolBuilder {
        PoolBuilder {
            client,
            sources: Vec::new(),
            filter: Filter::default(),
            quorum: None,
            strategy: None,
            problems: Vec::new(),
        }
    }

    fn edit(&self, f: impl FnOnce(&mut PoolBuilder)) -> PoolBuilder {
        let mut b = self.clone();
        f(&mut b);
        b
    }

    fn url(&self, field: &str, url: &str) -> PoolBuilder {
        let field = field.to_string();
        match normalize_endpoint(url) {
            Ok(u) => self.edit(|b| match field.as_str() {
                "coordinator" => b.sources.push(Source::Coordinator(u)),
                _ => b.sources.push(Source::Broker(u)),
            }),
            Err(m) => self.edit(|b| b.problems.push(problem(&field, m))),
        }
    }
}

#[wasm_bindgen]
impl PoolBuilder {
    /// Workers by URL, or `{ url, workerId?, region?, gpus?, memoryMb?, pricing?, … }` (a
    /// `workerId` is checked against the worker's `/health`).
    pub fn workers(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReadonlyArray<string | PoolWorker>")] list: JsValue,
    ) -> PoolBuilder {
        if !Array::is_array(&list) {
            return self.edit(|b| {
                b.problems
                    .push(problem("workers", "must be an array of URLs"))
            });
        }
        let mut items = Vec::new();
        let mut problems = Vec::new();
        for (i, w) in Array::from(&list).iter().enumerate() {
            let url = w.as_string().or_else(|| {
                let mut r = Reader::new(&w, "workers.");
                r.string("url").or_else(|| r.string("endpoint"))
            });
            match url.as_deref().map(normalize_endpoint) {
                Some(Ok(_)) => items.push(w),
                Some(Err(m)) => problems.push(problem(&format!("workers[{i}]"), m)),
                None => problems.push(problem(
                    &format!("workers[{i}]"),
                    "must be a URL or { url, workerId? }",
                )),
            }
        }
        self.edit(|b| {
            b.sources.push(Source::Workers(items));
            b.problems.extend(problems);
        })
    }

    /// A pool coordinator: its workers (`GET /pool`); jobs without consensus go through it.
    /// Node.js only (it sends no CORS headers).
    pub fn coordinator(&self, url: String) -> PoolBuilder {
        self.url("coordinator", &url)
    }

    /// A broker: the workers its nodes registered (`GET /nodes`).
    pub fn broker(&self, url: String) -> PoolBuilder {
        self.url("broker", &url)
    }

    /// Filters and sizes: `{ minNodes, maxNodes, capabilities, regions, maxPrice,
    /// minReputation, healthIntervalMs }`.
    pub fn discover(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DiscoverOptions")] options: JsValue,
    ) -> PoolBuilder {
        let (f, problems) = match DiscoverOptions::from_js(&options) {
            Ok(f) => (f, Vec::new()),
            Err(e) => (DiscoverOptions::default(), e.context.errors),
        };
        self.edit(|b| {
            let t = &mut b.filter;
            t.min_nodes = f.min_nodes.or(t.min_nodes);
            t.max_nodes = f.max_nodes.or(t.max_nodes);
            t.capabilities = f.capabilities.or(t.capabilities.take());
            t.regions = f.regions.or(t.regions.take());
            t.max_price = f.max_price.or(t.max_price);
            t.min_reputation = f.min_reputation.or(t.min_reputation);
            t.health_interval_ms = f.health_interval_ms.or(t.health_interval_ms);
            b.problems.extend(problems);
        })
    }

    /// Only these workers (node ids, worker keys or URLs).
    pub fn nodes(&self, ids: Vec<String>) -> PoolBuilder {
        self.edit(|b| b.filter.ids = Some(ids))
    }

    pub fn region(&self, region: String) -> PoolBuilder {
        self.edit(|b| b.filter.regions = Some(vec![region]))
    }

    #[wasm_bindgen(js_name = minGPUs)]
    pub fn min_gpus(&self, n: f64) -> PoolBuilder {
        self.edit(|b| b.filter.min_gpus = Some(n))
    }

    /// In MB.
    #[wasm_bindgen(js_name = minMemory)]
    pub fn min_memory(&self, mb: f64) -> PoolBuilder {
        self.edit(|b| b.filter.min_memory = Some(mb))
    }

    /// Default consensus for the pool's jobs (`'2-of-3'`, `{ k, n }`); a job's own wins.
    pub fn consensus(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ConsensusStrategy")] strategy: JsValue,
    ) -> PoolBuilder {
        match Quorum::parse(&strategy) {
            Ok(q) => self.edit(|b| b.quorum = Some(q)),
            Err(m) => self.edit(|b| b.problems.push(problem("consensus", m))),
        }
    }

    /// Runs every job on n workers and accepts a majority (`consensus` of ⌊n/2⌋+1 of n).
    pub fn redundancy(&self, n: f64) -> PoolBuilder {
        match Quorum::majority(n.max(0.0) as u32) {
            Ok(q) if n.fract() == 0.0 => self.edit(|b| b.quorum = Some(q)),
            Ok(_) => self.edit(|b| {
                b.problems
                    .push(problem("redundancy", "must be a whole number"))
            }),
            Err(m) => self.edit(|b| b.problems.push(problem("redundancy", m))),
        }
    }

    /// How a worker is picked: `least-loaded` (default), `round-robin` or `random`.
    pub fn strategy(
        &self,
        #[wasm_bindgen(unchecked_param_type = "'least-loaded' | 'round-robin' | 'random'")]
        name: String,
    ) -> PoolBuilder {
        let s = match name.as_str() {
            "least-loaded" => Strategy::LeastLoaded,
            "round-robin" => Strategy::RoundRobin,
            "random" => Strategy::Random,
            _ => {
                return self.edit(|b| {
                    b.problems.push(problem(
                        "strategy",
                        format!("{name:?} is not one of: least-loaded, round-robin, random"),
                    ))
                })
            }
        };
        self.edit(|b| b.strategy = Some(s))
    }

    /// Finds the workers, checks their health and keys, and returns the pool.
    #[wasm_bindgen(unchecked_return_type = "Promise<Pool>")]
    pub fn join(&self) -> Promise {
        let b = self.clone();
        promise(async move {
            let mut problems = b.problems.clone();
            if b.sources.is_empty() {
                problems.push(problem(
                    "pool",
                    "has no source: add .workers([...]), .coordinator(url) or .broker(url)",
                ));
            }
            if !problems.is_empty() {
                return Err(SdkError::validation(problems).op("join"));
            }
            let id = NEXT_ID.with(|n| {
                let id = n.get();
                n.set(id + 1);
                id
            });
            let inner = Rc::new(PoolInner {
                id,
                client: b.client.clone(),
                sources: b.sources,
                filter: b.filter,
                quorum: b.quorum,
                strategy: b.strategy.unwrap_or(Strategy::LeastLoaded),
                nodes: RefCell::new(Vec::new()),
                events: Events::default(),
                rr: Cell::new(0),
                closed: Cell::new(false),
                stop: Stopper::new(),
            });
            inner.refresh().await.map_err(|e| e.op("join"))?;
            let healthy = inner.healthy_count();
            let min = inner
                .filter
                .min_nodes
                .unwrap_or(1.0)
                .max(inner.quorum.map(|q| q.n as f64).unwrap_or(1.0));
            if (healthy as f64) < min {
                let known: Vec<String> = inner
                    .nodes
                    .borrow()
                    .iter()
                    .map(|n| {
                        format!(
                            "{} ({})",
                            n.info.endpoint,
                            n.info.problem.as_deref().unwrap_or("healthy")
                        )
                    })
                    .collect();
                return Err(SdkError::new(
                    Code::NotFound,
                    format!(
                        "pool: {healthy} healthy matching worker(s), {} needed; found: {}",
                        num(min),
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
                .op("join"));
            }
            register(id, &inner);
            if let Some(ms) = inner.filter.health_interval_ms.filter(|m| *m > 0.0) {
                let weak = Rc::downgrade(&inner);
                let signal = inner.stop.signal();
                spawn(async move {
                    loop {
                        if platform::sleep(ms, Some(&signal)).await.is_err() {
                            break;
                        }
                        let Some(p) = weak.upgrade() else { break };
                        if p.closed.get() {
                            break;
                        }
                        let _ = p.refresh().await;
                    }
                });
            }
            Ok(Pool::new(inner).into())
        })
    }
}
