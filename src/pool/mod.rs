//! Pools of workers (issue 5): `sandrun.pool()` → `PoolBuilder` → `join()` → `Pool`.
//!
//! Sources: a static list of worker URLs, a pool coordinator (`GET /pool` lists its workers;
//! jobs without consensus go through its `/submit`), a broker (`GET /nodes`, the workers nodes
//! registered). Every worker is checked on `/health` (its key against the expected one) before it
//! gets work. A job attached with `.with(pool)` goes to one worker chosen by the strategy, or to
//! n distinct workers under `.consensus('k-of-n')` (see `consensus.rs`).

use crate::client::Client;
use crate::consensus::{Group, Kind, Member, Quorum, Settled};
use crate::convert::{Obj, Reader, ToJs};
use crate::error::{Code, FieldProblem, Result, SdkError};
use crate::execution::{ExecInner, Expected, JobExecution};
use crate::platform;
use crate::spec::JobDraft;
use crate::transport::{parse_value, wire, CallOpts};
use js_sys::{Array, Function, Object, Promise, Reflect};
use sandrun_protocol::status::{is_terminal, StatusBody};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use tsify::Tsify;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};

/// The hidden property that marks a `Pool` for `.with()`.
const POOL_ID: &str = "__sandrunPool";

thread_local! {
    static REGISTRY: RefCell<Vec<(u32, Weak<PoolInner>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

/// Attaches `target` to the job if it is a `Pool` (or `{ __sandrunPool: id }`); false for
/// anything else.
pub fn attach(draft: &mut JobDraft, target: &JsValue) -> bool {
    let Some(id) = Reflect::get(target, &POOL_ID.into())
        .ok()
        .and_then(|v| v.as_f64())
    else {
        return false;
    };
    let pool = REGISTRY.with(|r| {
        r.borrow()
            .iter()
            .find(|(i, _)| *i as f64 == id)
            .and_then(|(_, w)| w.upgrade())
    });
    match pool {
        Some(p) => draft.pool = Some(p),
        None => draft.problems.push(FieldProblem {
            field: "with(pool)".into(),
            message: "the pool was closed or freed".into(),
        }),
    }
    true
}

/// Where a pool job ran.
#[derive(Debug, Clone, Default, Tsify)]
#[serde(rename_all = "camelCase")]
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
    pub fn direct(m: &ExecInner) -> Route {
        Route {
            endpoint: m.client.config.endpoint.clone(),
            job_id: m.id.clone(),
            ..Default::default()
        }
    }
}

impl ToJs for Route {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("endpoint", &self.endpoint)
            .set("jobId", &self.job_id)
            .set("coordinatorJobId", &self.coordinator_job_id)
            .set("poolStatus", &self.pool_status)
            .set("stuckStatus", &self.stuck_status);
        o.into()
    }
}

/// A worker of a pool.
#[derive(Debug, Clone, Default, Tsify)]
#[serde(rename_all = "camelCase")]
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

impl ToJs for NodeInfo {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("id", &self.id)
            .set("endpoint", &self.endpoint)
            .set("workerId", &self.worker_id)
            .set("expectedWorkerId", &self.expected_worker_id)
            .set("healthy", &self.healthy)
            .set("problem", &self.problem)
            .set("active", &self.active)
            .set("capacity", &self.capacity)
            .set("completed", &self.completed)
            .set("region", &self.region)
            .set("gpus", &self.gpus)
            .set("memoryMb", &self.memory_mb)
            .set("price", &self.price)
            .set("reputation", &self.reputation)
            .set("source", &self.source);
        o.into()
    }
}

/// `discover()` options.
#[derive(Debug, Clone, Default, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverOptions {
    /// `join()` fails with fewer healthy matching workers (default 1).
    #[tsify(optional)]
    pub min_nodes: Option<f64>,
    /// Use at most this many (the rest replace failed ones).
    #[tsify(optional)]
    pub max_nodes: Option<f64>,
    /// Capabilities a worker must have: numbers are minimums, other values must be equal.
    #[tsify(optional, type = "Record<string, unknown>")]
    pub capabilities: Option<JsValue>,
    #[tsify(optional)]
    pub regions: Option<Vec<String>>,
    /// Highest `pricing.perJob` (or `price`) accepted.
    #[tsify(optional)]
    pub max_price: Option<f64>,
    /// Lowest reputation (0–1; a broker node's completed / (completed + failed)).
    #[tsify(optional)]
    pub min_reputation: Option<f64>,
    /// Re-check health (and replace failed workers) this often, until `close()`.
    #[tsify(optional)]
    pub health_interval_ms: Option<f64>,
}

#[derive(Clone)]
enum Source {
    Workers(Vec<JsValue>),
    Coordinator(String),
    Broker(String),
}

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    LeastLoaded,
    RoundRobin,
    Random,
}

#[derive(Clone, Default)]
struct Filter {
    ids: Option<Vec<String>>,
    regions: Option<Vec<String>>,
    min_gpus: Option<f64>,
    min_memory: Option<f64>,
    capabilities: Option<JsValue>,
    max_price: Option<f64>,
    min_reputation: Option<f64>,
    min_nodes: Option<f64>,
    max_nodes: Option<f64>,
    health_interval_ms: Option<f64>,
}

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
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
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
        match crate::config::normalize_endpoint(url) {
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
            match url.as_deref().map(crate::config::normalize_endpoint) {
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
        let mut r = Reader::new(&options, "discover.");
        r.only(&[
            "minNodes",
            "maxNodes",
            "capabilities",
            "regions",
            "maxPrice",
            "minReputation",
            "healthIntervalMs",
        ]);
        let f = (
            r.number("minNodes"),
            r.number("maxNodes"),
            r.value("capabilities"),
            r.strings("regions"),
            r.number("maxPrice"),
            r.number("minReputation"),
            r.number("healthIntervalMs"),
        );
        let problems = r.problems;
        self.edit(|b| {
            let t = &mut b.filter;
            t.min_nodes = f.0.or(t.min_nodes);
            t.max_nodes = f.1.or(t.max_nodes);
            t.capabilities = f.2.or(t.capabilities.take());
            t.regions = f.3.or(t.regions.take());
            t.max_price = f.4.or(t.max_price);
            t.min_reputation = f.5.or(t.min_reputation);
            t.health_interval_ms = f.6.or(t.health_interval_ms);
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
        crate::pool::boxed_promise(async move {
            let mut problems = b.problems.clone();
            if b.sources.is_empty() {
                problems.push(problem(
                    "pool",
                    "has no source: add .workers([...]), .coordinator(url) or .broker(url)",
                ));
            }
            if !problems.is_empty() {
                return Err(SdkError::validation(problems).op("join").into_js());
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
            inner.refresh().await.map_err(|e| e.op("join").into_js())?;
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
                        crate::convert::num(min),
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
                .op("join")
                .into_js());
            }
            REGISTRY.with(|r| {
                let mut r = r.borrow_mut();
                r.retain(|(_, w)| w.strong_count() > 0);
                r.push((id, Rc::downgrade(&inner)));
            });
            if let Some(ms) = inner.filter.health_interval_ms.filter(|m| *m > 0.0) {
                let weak = Rc::downgrade(&inner);
                let signal = inner.stop.signal();
                crate::pool::boxed_spawn(async move {
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
            Ok(Pool { inner }.into())
        })
    }
}

type JsFut =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::result::Result<JsValue, JsValue>>>>;
type UnitFut = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// `future_to_promise` over one boxed future type: one copy of its machinery, not one per call
/// site (which costs kilobytes of wasm each).
pub fn boxed_promise(
    f: impl std::future::Future<Output = std::result::Result<JsValue, JsValue>> + 'static,
) -> Promise {
    let f: JsFut = Box::pin(f);
    future_to_promise(f)
}

/// `spawn_local`, boxed likewise.
pub fn boxed_spawn(f: impl std::future::Future<Output = ()> + 'static) {
    let f: UnitFut = Box::pin(f);
    spawn_local(f)
}

/// Cancels sleeps (interval loops) on `close()`: an `AbortController`.
pub struct Stopper(JsValue);

impl Stopper {
    pub fn new() -> Stopper {
        let ctor = Reflect::get(&js_sys::global(), &"AbortController".into())
            .ok()
            .and_then(|c| c.dyn_into::<Function>().ok());
        Stopper(
            ctor.and_then(|c| Reflect::construct(&c, &Array::new()).ok())
                .unwrap_or(JsValue::UNDEFINED),
        )
    }

    pub fn signal(&self) -> JsValue {
        Reflect::get(&self.0, &"signal".into()).unwrap_or(JsValue::UNDEFINED)
    }

    pub fn stop(&self) {
        if let Ok(f) = Reflect::get(&self.0, &"abort".into()).and_then(|f| f.dyn_into::<Function>())
        {
            let _ = f.call0(&self.0);
        }
    }
}

impl Default for Stopper {
    fn default() -> Self {
        Stopper::new()
    }
}

/// Listeners by event name; callbacks get one payload object. Shared with `Node`.
#[derive(Default)]
pub struct Events(RefCell<Vec<(String, Function)>>);

impl Events {
    pub fn on(
        &self,
        known: &[&str],
        event: &str,
        cb: Function,
    ) -> std::result::Result<(), JsValue> {
        if !known.contains(&event) {
            return Err(SdkError::field(
                "event",
                format!("{event:?} is not one of: {}", known.join(", ")),
            )
            .into_js());
        }
        self.0.borrow_mut().push((event.into(), cb));
        Ok(())
    }

    pub fn emit(&self, event: &str, payload: &JsValue) {
        let cbs: Vec<Function> = self
            .0
            .borrow()
            .iter()
            .filter(|(e, _)| e == event)
            .map(|(_, f)| f.clone())
            .collect();
        for f in cbs {
            let _ = f.call1(&JsValue::NULL, payload);
        }
    }

    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}

struct NodeState {
    info: NodeInfo,
    client: Rc<Client>,
}

pub struct PoolInner {
    id: u32,
    client: Rc<Client>,
    sources: Vec<Source>,
    filter: Filter,
    quorum: Option<Quorum>,
    strategy: Strategy,
    nodes: RefCell<Vec<NodeState>>,
    events: Events,
    rr: Cell<usize>,
    closed: Cell<bool>,
    stop: Stopper,
}

const POOL_EVENTS: &[&str] = &[
    "node-joined",
    "node-left",
    "job-started",
    "job-completed",
    "consensus-achieved",
];

fn raw(v: &JsValue, _: bool) -> std::result::Result<JsValue, String> {
    Ok(v.clone())
}

fn num_of(v: &JsValue, keys: &[&str]) -> Option<f64> {
    keys.iter()
        .find_map(|k| Reflect::get(v, &(*k).into()).ok().and_then(|x| x.as_f64()))
}

fn str_of(v: &JsValue, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| {
        Reflect::get(v, &(*k).into())
            .ok()
            .and_then(|x| x.as_string())
    })
}

/// A worker a source named, before its health check.
struct Candidate {
    endpoint: String,
    id: Option<String>,
    expected: Option<String>,
    caps: JsValue,
    capacity: Option<f64>,
    reputation: Option<f64>,
    source: &'static str,
}

/// Outside Node, a coordinator cannot be reached (no CORS): say so instead of "failed to fetch".
fn coordinator_error(url: &str, e: SdkError) -> SdkError {
    if e.code == Code::Network && !platform::has("readDirectory") {
        return SdkError::new(
            Code::Unsupported,
            format!("could not reach the pool coordinator {url} from this page: the Sandrun coordinator sends no CORS headers, so browsers cannot call it (or it is down); use .coordinator() from Node.js, or list its workers with .workers([...])"),
        )
        .cause(e.message);
    }
    e
}

impl PoolInner {
    pub fn emit(&self, event: &str, payload: &JsValue) {
        self.events.emit(event, payload);
    }

    fn healthy_count(&self) -> usize {
        self.nodes
            .borrow()
            .iter()
            .filter(|n| n.info.healthy)
            .count()
    }

    fn coordinator_only(&self) -> Option<String> {
        match self.sources.as_slice() {
            [Source::Coordinator(u)] => Some(u.clone()),
            _ => None,
        }
    }

    async fn candidates(&self) -> Result<Vec<Candidate>> {
        let mut out = Vec::new();
        for s in &self.sources {
            match s {
                Source::Workers(list) => {
                    for w in list {
                        let url = w
                            .as_string()
                            .or_else(|| str_of(w, &["url", "endpoint"]))
                            .unwrap_or_default();
                        let endpoint = crate::config::normalize_endpoint(&url).unwrap_or(url);
                        let caps = if w.is_object() {
                            w.clone()
                        } else {
                            Object::new().into()
                        };
                        out.push(Candidate {
                            endpoint,
                            id: None,
                            expected: str_of(&caps, &["workerId"]),
                            capacity: num_of(&caps, &["maxConcurrent", "capacity"]),
                            reputation: num_of(&caps, &["reputation"]),
                            caps,
                            source: "workers",
                        });
                    }
                }
                Source::Coordinator(url) => {
                    let c = self.client.for_endpoint(url);
                    let v = c
                        .http
                        .get_json("pool", "/pool", &CallOpts::default(), raw)
                        .await
                        .map_err(|e| coordinator_error(url, e))?;
                    for w in
                        Array::from(&Reflect::get(&v, &"workers".into()).unwrap_or_default()).iter()
                    {
                        let Some(endpoint) = str_of(&w, &["endpoint"]) else {
                            continue;
                        };
                        out.push(Candidate {
                            endpoint: crate::config::normalize_endpoint(&endpoint)
                                .unwrap_or(endpoint),
                            id: None,
                            expected: str_of(&w, &["worker_id"]),
                            capacity: num_of(&w, &["max_concurrent_jobs"]),
                            reputation: None,
                            caps: w,
                            source: "coordinator",
                        });
                    }
                }
                Source::Broker(url) => {
                    let c = self.client.for_endpoint(url);
                    let v = c
                        .http
                        .get_json("nodes", "/nodes", &CallOpts::default(), raw)
                        .await?;
                    for n in
                        Array::from(&Reflect::get(&v, &"nodes".into()).unwrap_or_default()).iter()
                    {
                        if Reflect::get(&n, &"active".into())
                            .ok()
                            .and_then(|a| a.as_bool())
                            == Some(false)
                        {
                            continue;
                        }
                        let Some(endpoint) = str_of(&n, &["endpoint"]) else {
                            continue;
                        };
                        let Ok(endpoint) = crate::config::normalize_endpoint(&endpoint) else {
                            continue;
                        };
                        let caps = Reflect::get(&n, &"capabilities".into()).unwrap_or_default();
                        let caps = if caps.is_object() {
                            caps
                        } else {
                            Object::new().into()
                        };
                        let done = num_of(&n, &["jobs_completed"]).unwrap_or(0.0);
                        let failed = num_of(&n, &["jobs_failed"]).unwrap_or(0.0);
                        out.push(Candidate {
                            endpoint,
                            id: str_of(&n, &["id"]),
                            expected: str_of(&caps, &["workerId", "worker_id"]),
                            capacity: num_of(&caps, &["maxConcurrent", "max_concurrent_jobs"]),
                            reputation: num_of(&caps, &["reputation"]).or(Some(
                                if done + failed > 0.0 {
                                    done / (done + failed)
                                } else {
                                    1.0
                                },
                            )),
                            caps,
                            source: "broker",
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    fn matches(&self, c: &Candidate, info: &NodeInfo) -> bool {
        let f = &self.filter;
        if let Some(ids) = &f.ids {
            let mine = [
                Some(&info.id),
                Some(&info.endpoint),
                info.expected_worker_id.as_ref(),
            ];
            if !ids.iter().any(|i| mine.contains(&Some(i))) {
                return false;
            }
        }
        if let Some(rs) = &f.regions {
            if !info
                .region
                .as_ref()
                .map(|r| rs.contains(r))
                .unwrap_or(false)
            {
                return false;
            }
        }
        if f.min_gpus.map(|g| info.gpus < g).unwrap_or(false)
            || f.min_memory
                .map(|m| info.memory_mb.unwrap_or(0.0) < m)
                .unwrap_or(false)
            || f.max_price
                .map(|p| info.price.map(|x| x > p).unwrap_or(false))
                .unwrap_or(false)
            || f.min_reputation
                .map(|r| info.reputation.unwrap_or(0.0) < r)
                .unwrap_or(false)
        {
            return false;
        }
        if let Some(want) = &f.capabilities {
            for pair in Object::entries(want.unchecked_ref()).iter() {
                let pair = Array::from(&pair);
                let (k, w) = (pair.get(0), pair.get(1));
                let have = Reflect::get(&c.caps, &k).unwrap_or_default();
                let ok = match (w.as_f64(), have.as_f64()) {
                    (Some(w), Some(h)) => h >= w,
                    (Some(_), None) => false,
                    _ => js_sys::Object::is(&w, &have),
                };
                if !ok {
                    return false;
                }
            }
        }
        true
    }

    /// Asks the sources again, checks every worker's health and key, and updates the node list
    /// (emitting `node-joined` / `node-left`); failed workers are replaced by spare ones.
    async fn refresh(&self) -> Result<()> {
        let cands = self.candidates().await?;
        let trusted = &self.client.config.trusted_workers;
        let mut fresh: Vec<NodeState> = Vec::new();
        for c in cands {
            if fresh.iter().any(|n| n.info.endpoint == c.endpoint) {
                continue;
            }
            let pricing = Reflect::get(&c.caps, &"pricing".into()).unwrap_or_default();
            let mut info = NodeInfo {
                id: c
                    .id
                    .clone()
                    .or(c.expected.clone())
                    .unwrap_or(c.endpoint.clone()),
                endpoint: c.endpoint.clone(),
                expected_worker_id: c.expected.clone(),
                capacity: c.capacity.unwrap_or(2.0).max(1.0),
                region: str_of(&c.caps, &["region"]),
                gpus: num_of(&c.caps, &["gpus", "gpu"]).unwrap_or(0.0),
                memory_mb: num_of(&c.caps, &["memoryMb", "memory_mb", "memory"]),
                price: num_of(&c.caps, &["price"])
                    .or_else(|| num_of(&pricing, &["perJob", "per_job"])),
                reputation: c.reputation,
                source: c.source.into(),
                ..Default::default()
            };
            let client = self.client.for_endpoint(&c.endpoint);
            let opts = CallOpts {
                timeout_ms: Some(5000.0),
                ..Default::default()
            };
            match client.http.get_json("health", "/health", &opts, raw).await {
                Ok(v) => {
                    info.worker_id = wire::string(&v, "worker_id");
                    let status = wire::string(&v, "status");
                    info.problem = if status.as_deref() != Some("healthy") {
                        Some(format!("/health says {:?}", status.unwrap_or_default()))
                    } else if c.expected.is_some() && info.worker_id != c.expected {
                        Some(format!(
                            "its key {} is not the expected {}",
                            info.worker_id.as_deref().unwrap_or("(none)"),
                            c.expected.as_deref().unwrap_or_default()
                        ))
                    } else if !trusted.is_empty()
                        && !info
                            .worker_id
                            .as_ref()
                            .map(|k| trusted.contains(k))
                            .unwrap_or(false)
                    {
                        Some("its key is not among trustedWorkers".into())
                    } else {
                        None
                    };
                }
                Err(e) => info.problem = Some(e.message),
            }
            info.healthy = info.problem.is_none();
            if c.id.is_none() {
                if let Some(w) = &info.worker_id {
                    info.id = w.clone();
                }
            }
            if !self.matches(&c, &info) {
                continue;
            }
            fresh.push(NodeState { info, client });
        }
        // Keep the load of known workers; healthy ones first, up to maxNodes.
        let (mut joined, mut left) = (Vec::new(), Vec::new());
        {
            let mut nodes = self.nodes.borrow_mut();
            for n in fresh.iter_mut() {
                if let Some(old) = nodes.iter().find(|o| o.info.endpoint == n.info.endpoint) {
                    n.info.active = old.info.active;
                    n.info.completed = old.info.completed;
                }
            }
            let (mut healthy, spare): (Vec<NodeState>, Vec<NodeState>) =
                fresh.into_iter().partition(|n| n.info.healthy);
            healthy.extend(spare);
            fresh = healthy;
            let max = self
                .filter
                .max_nodes
                .map(|m| m as usize)
                .unwrap_or(usize::MAX);
            let mut used = 0;
            for n in fresh.iter_mut() {
                if n.info.healthy {
                    used += 1;
                    if used > max {
                        n.info.healthy = false;
                        n.info.problem = Some("spare (maxNodes reached)".into());
                    }
                }
            }
            for n in &fresh {
                let was = nodes
                    .iter()
                    .find(|o| o.info.endpoint == n.info.endpoint)
                    .map(|o| o.info.healthy);
                if n.info.healthy && was != Some(true) {
                    joined.push(n.info.to_js());
                }
                if !n.info.healthy && was == Some(true) {
                    left.push(n.info.to_js());
                }
            }
            for o in nodes.iter().filter(|o| o.info.healthy) {
                if !fresh.iter().any(|n| n.info.endpoint == o.info.endpoint) {
                    let mut gone = o.info.clone();
                    gone.healthy = false;
                    gone.problem = Some("no longer listed by its source".into());
                    left.push(gone.to_js());
                }
            }
            *nodes = fresh;
        }
        for j in &joined {
            self.emit("node-joined", j);
        }
        for l in &left {
            self.emit("node-left", l);
        }
        Ok(())
    }

    /// Picks a healthy worker not in `exclude`, by the strategy; reserves a slot on it.
    fn pick(&self, exclude: &[usize]) -> Option<(usize, Rc<Client>)> {
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

    fn release(&self, i: usize, completed: bool) {
        if let Some(n) = self.nodes.borrow_mut().get_mut(i) {
            n.info.active = (n.info.active - 1.0).max(0.0);
            if completed {
                n.info.completed += 1.0;
            }
        }
    }

    fn fail(&self, i: usize, why: &str) {
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

    /// A pool job ended: frees its slots, says so.
    pub fn finished(&self, nodes: &[Option<usize>], r: &Result<Settled>) {
        for i in nodes.iter().flatten() {
            self.release(*i, r.is_ok());
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
                o.set("error", &e.message)
                    .set("code", &e.code.as_str().to_string());
            }
        }
        self.emit("job-completed", &o.into());
    }
}

fn submit_answer(body: &[u8]) -> Result<String> {
    parse_value(body)
        .map_err(String::from)
        .and_then(|v| wire::required(&v, "job_id"))
        .ok()
        .filter(|id| {
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        })
        .ok_or_else(|| {
            SdkError::new(Code::Protocol, "submit: the answer has no usable job id").op("submit")
        })
}

fn queued(id: &str) -> StatusBody {
    StatusBody {
        job_id: id.into(),
        status: "queued".into(),
        queue_position: None,
        execution_metadata: None,
        job_hash: String::new(),
        output_files: Default::default(),
        worker_metadata: None,
    }
}

/// `submit()` of a job attached to a pool: to one worker, n workers (consensus), or the
/// coordinator. The returned execution's `wait()` settles the group.
pub async fn submit(
    pool: Rc<PoolInner>,
    draft: &JobDraft,
    job_hash: String,
    content_type: &str,
    body: &[u8],
) -> Result<JobExecution> {
    if pool.closed.get() {
        return Err(SdkError::new(Code::Cancelled, "the pool was closed").op("submit"));
    }
    let quorum = draft.consensus.or(pool.quorum);
    let expected = || {
        Some(Expected {
            job_hash: job_hash.clone(),
        })
    };
    let started = Obj::new();
    if let (None, Some(url)) = (quorum, pool.coordinator_only()) {
        let coordinator = pool.client.for_endpoint(&url);
        let res = coordinator
            .http
            .send(
                "submit",
                "POST",
                "/submit",
                Some((content_type, body)),
                &CallOpts::default(),
            )
            .await
            .map_err(|e| coordinator_error(&url, e))?;
        let id = submit_answer(&res.body)?;
        let facade = ExecInner::new(
            coordinator.clone(),
            id.clone(),
            expected(),
            draft.signal.clone(),
            Some(queued(&id)),
        );
        let group = Group::new(
            None,
            Kind::Coordinator {
                coordinator,
                pool_job_id: id.clone(),
            },
            Vec::new(),
            Rc::downgrade(&pool),
        );
        started.set("jobId", &id).set("coordinator", &url);
        return Ok(start(&pool, facade, group, started));
    }
    let n = quorum.map(|q| q.n).unwrap_or(1) as usize;
    let mut tried: Vec<usize> = Vec::new();
    let mut members: Vec<Member> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    while members.len() < n {
        let Some((i, client)) = pool.pick(&tried) else {
            break;
        };
        tried.push(i);
        let opts = CallOpts {
            signal: draft.signal.clone(),
            ..Default::default()
        };
        let sent = client
            .http
            .send(
                "submit",
                "POST",
                "/submit",
                Some((content_type, body)),
                &opts,
            )
            .await
            .and_then(|res| submit_answer(&res.body));
        match sent {
            Ok(id) => {
                let exec = ExecInner::new(
                    client,
                    id.clone(),
                    expected(),
                    draft.signal.clone(),
                    Some(queued(&id)),
                );
                members.push(Member {
                    exec,
                    node: Some(i),
                });
            }
            Err(e) => {
                pool.release(i, false);
                match e.code {
                    Code::Network | Code::Timeout => pool.fail(i, &e.message),
                    Code::Http if e.context.status == Some(400) => {
                        for m in members.iter().filter_map(|m| m.node) {
                            pool.release(m, false);
                        }
                        return Err(e);
                    }
                    Code::Cancelled => return Err(e),
                    _ => {}
                }
                errors.push(format!("{}: {}", client_endpoint(&pool, i), e.message));
            }
        }
    }
    if members.len() < n {
        for m in members.iter().filter_map(|m| m.node) {
            pool.release(m, false);
        }
        let message = format!(
            "the pool could place the job on {} of the {n} distinct worker(s) it needs{}{}",
            members.len(),
            if errors.is_empty() { "" } else { ": " },
            errors.join("; ")
        );
        return Err(match quorum {
            Some(q) => {
                let report = crate::consensus::decide(q, Vec::new());
                SdkError::new(Code::Consensus, message).with_report(report.to_js())
            }
            None => SdkError::new(Code::Unsupported, message).retryable(true),
        }
        .op("submit"));
    }
    let first = members[0].exec.clone();
    let facade = ExecInner::new(
        first.client.clone(),
        first.id.clone(),
        expected(),
        draft.signal.clone(),
        Some(queued(&first.id)),
    );
    let endpoints: Vec<String> = members
        .iter()
        .map(|m| m.exec.client.config.endpoint.clone())
        .collect();
    started.set("jobId", &first.id).set("endpoints", &endpoints);
    if let Some(q) = quorum {
        started.set("consensus", &format!("{}-of-{}", q.k, q.n));
    }
    let group = Group::new(quorum, Kind::Direct, members, Rc::downgrade(&pool));
    Ok(start(&pool, facade, group, started))
}

fn client_endpoint(pool: &PoolInner, i: usize) -> String {
    pool.nodes
        .borrow()
        .get(i)
        .map(|n| n.info.endpoint.clone())
        .unwrap_or_default()
}

/// Links the group to its handle, announces the job and follows it in the background (so that
/// slots are freed and `job-completed` fires even if nobody waits).
fn start(pool: &PoolInner, facade: Rc<ExecInner>, group: Rc<Group>, started: Obj) -> JobExecution {
    *group.facade.borrow_mut() = Rc::downgrade(&facade);
    let _ = facade.group.set(group.clone());
    pool.emit("job-started", &started.into());
    crate::pool::boxed_spawn(async move {
        let _ = group.settle().await;
    });
    JobExecution { inner: facade }
}

/// Polls the coordinator until it names the worker and that worker's job id, then follows the
/// job on the worker itself (the coordinator's output proxy is broken and its status can stick).
pub async fn follow_coordinator(
    pool: &Weak<PoolInner>,
    coordinator: &Rc<Client>,
    id: &str,
    facade: Option<Rc<ExecInner>>,
) -> Result<(Rc<ExecInner>, Route)> {
    let cfg = &coordinator.config;
    let deadline = platform::now_ms() + cfg.timeout_ms;
    let opts = CallOpts {
        job_id: Some(id.into()),
        ..Default::default()
    };
    loop {
        let v = coordinator
            .http
            .get_json("status", &format!("/status/{id}"), &opts, raw)
            .await?;
        let pool_status = wire::string(&v, "pool_status");
        let ws = Reflect::get(&v, &"worker_status".into()).unwrap_or_default();
        let worker_job = if ws.is_object() {
            wire::string(&ws, "job_id")
        } else {
            None
        };
        let worker_id = wire::string(&v, "worker_id");
        if let (Some(job), Some(wid)) = (worker_job, worker_id.clone()) {
            let endpoint = match endpoint_of(pool, &wid) {
                Some(e) => e,
                None => {
                    let p = pool.upgrade();
                    if let Some(p) = &p {
                        p.refresh().await?;
                    }
                    endpoint_of(pool, &wid).ok_or_else(|| {
                        SdkError::new(Code::Protocol, format!("the coordinator ran job {id} on worker {wid}, which its /pool does not list")).job(id)
                    })?
                }
            };
            let client = coordinator.for_endpoint(&endpoint);
            let expected = facade
                .as_ref()
                .and_then(|f| f.expected.as_ref())
                .map(|e| Expected {
                    job_hash: e.job_hash.clone(),
                });
            let member = ExecInner::new(client, job.clone(), expected, None, None);
            return Ok((
                member,
                Route {
                    endpoint,
                    job_id: job,
                    coordinator_job_id: Some(id.into()),
                    pool_status,
                    stuck_status: false,
                },
            ));
        }
        if pool_status.as_deref() == Some("failed") {
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

fn endpoint_of(pool: &Weak<PoolInner>, worker_id: &str) -> Option<String> {
    let p = pool.upgrade()?;
    let nodes = p.nodes.borrow();
    nodes
        .iter()
        .find(|n| {
            n.info.expected_worker_id.as_deref() == Some(worker_id)
                || n.info.worker_id.as_deref() == Some(worker_id)
        })
        .map(|n| n.info.endpoint.clone())
}

/// After the worker finished: does the coordinator agree? If it keeps saying `queued`/`running`
/// (the real coordinator's bug), the worker's own status stands and the route says so.
pub async fn check_stuck(coordinator: &Rc<Client>, id: &str, mut route: Route) -> Route {
    for attempt in 0..4 {
        if attempt > 0 {
            let _ = platform::sleep(300.0, None).await;
        }
        let got = coordinator
            .http
            .get_json(
                "status",
                &format!("/status/{id}"),
                &CallOpts::default(),
                raw,
            )
            .await;
        if let Ok(v) = got {
            route.pool_status = wire::string(&v, "pool_status");
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

/// A set of workers jobs can be spread over (`sandrun.pool()…join()`).
#[wasm_bindgen]
pub struct Pool {
    inner: Rc<PoolInner>,
}

/// One entry of `schedule()`'s answer.
#[derive(Debug, Clone, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledJob {
    pub index: f64,
    pub ok: bool,
    #[tsify(optional)]
    pub result: Option<crate::execution::JobResult>,
    /// The error (a `SandrunError`) when `ok` is false.
    #[tsify(optional, type = "unknown")]
    pub error: Option<JsValue>,
}

async fn call(
    obj: &JsValue,
    name: &str,
    args: &[&JsValue],
) -> std::result::Result<JsValue, JsValue> {
    let f: Function = Reflect::get(obj, &name.into())?.dyn_into()?;
    let a: Array = args.iter().copied().collect();
    JsFuture::from(Promise::resolve(&f.apply(obj, &a)?)).await
}

#[wasm_bindgen]
impl Pool {
    /// Marks the object for `.with(pool)`.
    #[wasm_bindgen(getter, js_name = "__sandrunPool", skip_typescript)]
    pub fn pool_id(&self) -> u32 {
        self.inner.id
    }

    /// Every worker the sources named and that matched, healthy or not.
    #[wasm_bindgen(getter, unchecked_return_type = "NodeInfo[]")]
    pub fn nodes(&self) -> JsValue {
        let list: Vec<NodeInfo> = self
            .inner
            .nodes
            .borrow()
            .iter()
            .map(|n| n.info.clone())
            .collect();
        list.to_js()
    }

    /// Healthy workers.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.inner.healthy_count() as u32
    }

    /// Jobs the healthy workers take at once.
    #[wasm_bindgen(getter)]
    pub fn capacity(&self) -> f64 {
        self.inner
            .nodes
            .borrow()
            .iter()
            .filter(|n| n.info.healthy)
            .map(|n| n.info.capacity)
            .sum()
    }

    /// Submits a job to the pool (the same as `job.with(pool).submit()`).
    #[wasm_bindgen(unchecked_return_type = "Promise<JobExecution>")]
    pub fn distribute(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JobBuilder")] job: JsValue,
    ) -> Promise {
        let marker = self.marker();
        crate::pool::boxed_promise(async move {
            let b = call(&job, "with", &[&marker]).await?;
            call(&b, "submit", &[]).await
        })
    }

    /// Runs many jobs, at most `concurrency` at once (default: the pool's capacity); resolves
    /// with one entry per job, in order, once all ended.
    #[wasm_bindgen(unchecked_return_type = "Promise<ScheduledJob[]>")]
    pub fn schedule(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReadonlyArray<JobBuilder>")] jobs: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{ concurrency?: number }")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        let marker = self.marker();
        let jobs: Vec<JsValue> = Array::from(&jobs).iter().collect();
        let mut r = Reader::new(&options.unwrap_or_default(), "schedule options.");
        r.only(&["concurrency"]);
        let concurrency = r.number("concurrency");
        if !r.problems.is_empty() {
            return Promise::reject(&SdkError::validation(r.problems).op("schedule").into_js());
        }
        let c = concurrency.unwrap_or_else(|| self.capacity()).max(1.0) as usize;
        let results: Rc<RefCell<Vec<JsValue>>> =
            Rc::new(RefCell::new(vec![JsValue::UNDEFINED; jobs.len()]));
        let next = Rc::new(Cell::new(0usize));
        let jobs = Rc::new(jobs);
        let lanes: Array = (0..c.min(jobs.len()).max(1))
            .map(|_| {
                let (jobs, next, results, marker) =
                    (jobs.clone(), next.clone(), results.clone(), marker.clone());
                JsValue::from(crate::pool::boxed_promise(async move {
                    loop {
                        let i = next.get();
                        let Some(job) = jobs.get(i) else { break };
                        next.set(i + 1);
                        let run = async {
                            let b = call(job, "with", &[&marker]).await?;
                            let exec = call(&b, "submit", &[]).await?;
                            let out = call(&exec, "wait", &[]).await;
                            if let Ok(f) = Reflect::get(&exec, &"free".into())
                                .and_then(|f| f.dyn_into::<Function>())
                            {
                                let _ = f.call0(&exec);
                            }
                            out
                        };
                        let entry = Obj::new();
                        entry.set("index", &(i as f64));
                        match run.await {
                            Ok(v) => entry.set("ok", &true).set_js("result", &v),
                            Err(e) => entry.set("ok", &false).set_js("error", &e),
                        };
                        if let Some(slot) = results.borrow_mut().get_mut(i) {
                            *slot = entry.into();
                        }
                    }
                    Ok(JsValue::UNDEFINED)
                }))
            })
            .collect();
        crate::pool::boxed_promise(async move {
            JsFuture::from(Promise::all(&lanes)).await?;
            let out: Array = results.borrow().iter().collect();
            Ok(out.into())
        })
    }

    /// Checks every worker again (and asks the sources for replacements of failed ones).
    #[wasm_bindgen(js_name = healthCheck, unchecked_return_type = "Promise<NodeInfo[]>")]
    pub fn health_check(&self) -> Promise {
        let inner = self.inner.clone();
        crate::pool::boxed_promise(async move {
            inner
                .refresh()
                .await
                .map_err(|e| e.op("healthCheck").into_js())?;
            let list: Vec<NodeInfo> = inner
                .nodes
                .borrow()
                .iter()
                .map(|n| n.info.clone())
                .collect();
            Ok(list.to_js())
        })
    }

    /// Listens to `node-joined`, `node-left`, `job-started`, `job-completed`,
    /// `consensus-achieved`.
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PoolEvent")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: any) => void")] listener: Function,
    ) -> std::result::Result<(), JsValue> {
        self.inner.events.on(POOL_EVENTS, &event, listener)
    }

    /// Stops health checks and listeners; jobs already submitted keep running. New jobs are
    /// refused.
    pub fn close(&self) {
        self.inner.closed.set(true);
        self.inner.stop.stop();
        self.inner.events.clear();
        let id = self.inner.id;
        REGISTRY.with(|r| r.borrow_mut().retain(|(i, _)| *i != id));
    }
}

impl Pool {
    fn marker(&self) -> JsValue {
        let o = Obj::new();
        o.set(POOL_ID, &(self.inner.id as f64));
        o.into()
    }
}
