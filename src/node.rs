//! A node operator's side (issue 5): `sandrun.node()` → `NodeBuilder` → `register()` at a broker
//! → `Node`, which heartbeats on an interval and, while listening, claims the broker's jobs, runs
//! each on its own worker server and reports the real exit code, output and error.
//!
//! Survives broker restarts and network errors: a finished job's report is kept and re-sent until
//! the broker acknowledges it, and a job the broker hands out again after the node already ran it
//! is reported again, not run twice.

use crate::builder::JobBuilder;
use crate::client::Client;
use crate::convert::{Obj, Reader, ToJs};
use crate::error::{Code, FieldProblem, Result, SdkError};
use crate::platform;
use crate::pool::{Events, Stopper};
use crate::spec::{FileSource, JobDraft};
use crate::transport::{parse_value, wire, CallOpts};
use js_sys::{Function, Promise};
use sandrun_protocol::map::SortedMap;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tsify::Tsify;
use wasm_bindgen::prelude::*;

const NODE_EVENTS: &[&str] = &[
    "registered",
    "heartbeat",
    "job-claimed",
    "job-completed",
    "error",
];

#[wasm_bindgen]
#[derive(Clone)]
pub struct NodeBuilder {
    client: Rc<Client>,
    endpoint: Option<String>,
    broker: Option<String>,
    capabilities: Option<JsValue>,
    pricing: Option<JsValue>,
    region: Option<String>,
    heartbeat_ms: f64,
    problems: Vec<FieldProblem>,
}

impl NodeBuilder {
    pub fn new(client: Rc<Client>) -> NodeBuilder {
        NodeBuilder {
            client,
            endpoint: None,
            broker: None,
            capabilities: None,
            pricing: None,
            region: None,
            heartbeat_ms: 30_000.0,
            problems: Vec::new(),
        }
    }

    fn edit(&self, f: impl FnOnce(&mut NodeBuilder)) -> NodeBuilder {
        let mut b = self.clone();
        f(&mut b);
        b
    }

    fn url(&self, field: &'static str, url: &str) -> std::result::Result<String, FieldProblem> {
        crate::config::normalize_endpoint(url).map_err(|message| FieldProblem {
            field: field.into(),
            message,
        })
    }
}

#[wasm_bindgen]
impl NodeBuilder {
    /// The worker server this node runs jobs on (default: the client's endpoint).
    pub fn endpoint(&self, url: String) -> NodeBuilder {
        match self.url("endpoint", &url) {
            Ok(u) => self.edit(|b| b.endpoint = Some(u)),
            Err(p) => self.edit(|b| b.problems.push(p)),
        }
    }

    /// The broker to register at (or pass it to `register()`).
    pub fn broker(&self, url: String) -> NodeBuilder {
        match self.url("broker", &url) {
            Ok(u) => self.edit(|b| b.broker = Some(u)),
            Err(p) => self.edit(|b| b.problems.push(p)),
        }
    }

    /// What the node offers (`{ gpus, memoryMb, maxConcurrent, … }`), shown to pools.
    pub fn capabilities(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] caps: JsValue,
    ) -> NodeBuilder {
        if !caps.is_object() {
            return self.edit(|b| {
                b.problems.push(FieldProblem {
                    field: "capabilities".into(),
                    message: "must be an object".into(),
                })
            });
        }
        self.edit(|b| b.capabilities = Some(caps))
    }

    /// Prices (`{ perJob, perCpuSecond, currency }`), shown to pools (`maxPrice` reads `perJob`).
    pub fn pricing(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] pricing: JsValue,
    ) -> NodeBuilder {
        if !pricing.is_object() {
            return self.edit(|b| {
                b.problems.push(FieldProblem {
                    field: "pricing".into(),
                    message: "must be an object".into(),
                })
            });
        }
        self.edit(|b| b.pricing = Some(pricing))
    }

    pub fn region(&self, region: String) -> NodeBuilder {
        self.edit(|b| b.region = Some(region))
    }

    /// Heartbeat interval in ms (default 30000; the broker drops nodes silent for 60 s).
    #[wasm_bindgen(js_name = heartbeatInterval)]
    pub fn heartbeat_interval(&self, ms: f64) -> NodeBuilder {
        if !(ms.is_finite() && ms > 0.0) {
            return self.edit(|b| {
                b.problems.push(FieldProblem {
                    field: "heartbeatInterval".into(),
                    message: "must be a positive number of ms".into(),
                })
            });
        }
        self.edit(|b| b.heartbeat_ms = ms)
    }

    /// Checks the worker (`/health`, its key goes into the capabilities as `workerId`),
    /// registers at the broker and starts heartbeats.
    #[wasm_bindgen(unchecked_return_type = "Promise<Node>")]
    pub fn register(&self, broker: Option<String>) -> Promise {
        let mut b = self.clone();
        if let Some(url) = broker {
            b = b.broker(url);
        }
        crate::pool::boxed_promise(async move {
            b.register_inner()
                .await
                .map(JsValue::from)
                .map_err(SdkError::into_js)
        })
    }
}

impl NodeBuilder {
    async fn register_inner(self) -> Result<Node> {
        let mut problems = self.problems.clone();
        if self.broker.is_none() {
            problems.push(FieldProblem {
                field: "broker".into(),
                message: "is missing: .broker(url) or register(url)".into(),
            });
        }
        if !problems.is_empty() {
            return Err(SdkError::validation(problems).op("register"));
        }
        let endpoint = self
            .endpoint
            .clone()
            .unwrap_or(self.client.config.endpoint.clone());
        let worker = self.client.for_endpoint(&endpoint);
        let broker = self
            .client
            .for_endpoint(self.broker.as_deref().unwrap_or_default());
        let health = worker
            .http
            .get_json("health", "/health", &CallOpts::default(), |v, _| {
                Ok(wire::string(v, "worker_id"))
            })
            .await
            .map_err(|e| e.op("register"))?;
        let caps = js_sys::Object::new();
        if let Some(c) = &self.capabilities {
            js_sys::Object::assign(&caps, c.unchecked_ref());
        }
        let caps: JsValue = caps.into();
        let set = |k: &str, v: &JsValue| {
            let _ = js_sys::Reflect::set(&caps, &k.into(), v);
        };
        if let Some(r) = &self.region {
            set("region", &r.as_str().into());
        }
        if let Some(p) = &self.pricing {
            set("pricing", p);
        }
        if let Some(w) = &health {
            set("workerId", &w.as_str().into());
        }
        let body = Obj::new();
        body.set("endpoint", &endpoint)
            .set_js("capabilities", &caps);
        let v = post(&broker, "register", "/register", body).await?;
        let node_id = wire::required(&v, "node_id").map_err(|why| {
            SdkError::new(
                Code::Protocol,
                format!("register: the broker's answer has {why}"),
            )
            .op("register")
        })?;
        let inner = Rc::new(NodeInner {
            id: node_id,
            endpoint,
            worker_id: health,
            worker,
            broker,
            events: Events::default(),
            st: RefCell::new(NodeState::default()),
            listening: Cell::new(false),
            closed: Cell::new(false),
            stop: Stopper::new(),
            listen_stop: RefCell::new(None),
        });
        let o = Obj::new();
        o.set("nodeId", &inner.id);
        inner.events.emit("registered", &o.into());
        let weak = Rc::downgrade(&inner);
        let (ms, signal) = (self.heartbeat_ms, inner.stop.signal());
        crate::pool::boxed_spawn(async move {
            loop {
                if platform::sleep(ms, Some(&signal)).await.is_err() {
                    break;
                }
                let Some(n) = weak.upgrade() else { break };
                if n.closed.get() {
                    break;
                }
                let _ = n.heartbeat().await;
            }
        });
        Ok(Node { inner })
    }
}

/// POST JSON to the broker; the answer as a JS value.
async fn post(broker: &Client, op: &'static str, path: &str, body: Obj) -> Result<JsValue> {
    let text = js_sys::JSON::stringify(&body.into())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    let res = broker
        .http
        .send(
            op,
            "POST",
            path,
            Some(("application/json", text.as_bytes())),
            &CallOpts::default(),
        )
        .await?;
    parse_value(&res.body).map_err(|why| {
        SdkError::new(Code::Protocol, format!("{op}: the broker answered {why}"))
            .op(op)
            .endpoint(&broker.config.endpoint)
    })
}

/// What a finished job reports to the broker.
#[derive(Clone)]
struct Report {
    job_id: String,
    output: String,
    error: String,
    exit_code: f64,
}

#[derive(Default)]
struct NodeState {
    completed: f64,
    failed: f64,
    current: Option<String>,
    last_heartbeat: Option<f64>,
    last_error: Option<String>,
    /// Finished, not yet acknowledged by the broker.
    pending: Vec<Report>,
    /// Acknowledged (job id → exit code): a job handed out again is reported, not re-run.
    reported: SortedMap<Report>,
}

struct NodeInner {
    id: String,
    endpoint: String,
    worker_id: Option<String>,
    worker: Rc<Client>,
    broker: Rc<Client>,
    events: Events,
    st: RefCell<NodeState>,
    listening: Cell<bool>,
    closed: Cell<bool>,
    stop: Stopper,
    listen_stop: RefCell<Option<Stopper>>,
}

/// `status()`'s answer.
#[derive(Debug, Clone, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    pub node_id: String,
    pub endpoint: String,
    pub worker_id: Option<String>,
    pub listening: bool,
    pub jobs_completed: f64,
    pub jobs_failed: f64,
    /// The broker job running now.
    pub current_job: Option<String>,
    /// Finished jobs whose report the broker has not acknowledged yet (it is re-sent).
    pub pending_reports: f64,
    /// When the broker last acknowledged a heartbeat (ms since the epoch).
    pub last_heartbeat: Option<f64>,
    pub last_error: Option<String>,
}

impl ToJs for NodeStatus {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("nodeId", &self.node_id)
            .set("endpoint", &self.endpoint)
            .set("workerId", &self.worker_id)
            .set("listening", &self.listening)
            .set("jobsCompleted", &self.jobs_completed)
            .set("jobsFailed", &self.jobs_failed)
            .set("currentJob", &self.current_job)
            .set("pendingReports", &self.pending_reports)
            .set("lastHeartbeat", &self.last_heartbeat)
            .set("lastError", &self.last_error);
        o.into()
    }
}

fn entry_for(interpreter: &str) -> &'static str {
    match interpreter {
        "node" | "nodejs" => "index.js",
        "bash" | "sh" => "run.sh",
        _ => "main.py",
    }
}

impl NodeInner {
    fn error(&self, e: &SdkError) {
        self.st.borrow_mut().last_error = Some(e.message.clone());
        self.events.emit("error", &e.clone().into_js());
    }

    async fn heartbeat(&self) -> Result<()> {
        let body = Obj::new();
        body.set("node_id", &self.id);
        match post(&self.broker, "heartbeat", "/heartbeat", body).await {
            Ok(_) => {
                self.st.borrow_mut().last_heartbeat = Some(platform::now_ms());
                let o = Obj::new();
                o.set("nodeId", &self.id);
                self.events.emit("heartbeat", &o.into());
                Ok(())
            }
            Err(e) => {
                self.error(&e);
                Err(e)
            }
        }
    }

    /// Runs one broker job on the worker; never fails (a failure is the report).
    async fn run(&self, job: &JsValue) -> Report {
        let id = wire::string(job, "id").unwrap_or_default();
        let code = wire::string(job, "code").unwrap_or_default();
        let interpreter = wire::string(job, "interpreter").unwrap_or_else(|| "python3".into());
        let args: Vec<String> = js_sys::Reflect::get(job, &"args".into())
            .ok()
            .filter(js_sys::Array::is_array)
            .map(|a| {
                js_sys::Array::from(&a)
                    .iter()
                    .map(|x| {
                        x.as_string()
                            .unwrap_or_else(|| crate::convert::num(x.as_f64().unwrap_or(0.0)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = entry_for(&interpreter).to_string();
        let mut draft = JobDraft::default();
        draft
            .files
            .insert(name.clone(), FileSource::Bytes(Rc::from(code.into_bytes())));
        draft.entrypoint = Some(name);
        draft.interpreter = Some(interpreter);
        draft.args = args;
        draft.outputs = vec!["out/*".into()];
        let ran = async {
            let exec = JobBuilder::submit_inner(self.worker.clone(), draft, None).await?;
            let status = exec.inner.wait_terminal(None, None).await?;
            let logs = self
                .worker
                .http
                .get_json(
                    "logs",
                    &format!("/logs/{}", exec.inner.id),
                    &CallOpts::default(),
                    |v, bytewise| {
                        let t = |k: &str| {
                            sandrun_protocol::text::recover_text(
                                &wire::string(v, k).unwrap_or_default(),
                                bytewise,
                            )
                        };
                        Ok((t("stdout"), t("stderr")))
                    },
                )
                .await?;
            let exit = status
                .execution_metadata
                .as_ref()
                .map(|m| m.exit_code as f64)
                .unwrap_or(if status.status == "completed" {
                    0.0
                } else {
                    -1.0
                });
            Ok::<_, SdkError>((logs, exit))
        };
        match ran.await {
            Ok(((output, error), exit_code)) => Report {
                job_id: id,
                output,
                error,
                exit_code,
            },
            Err(e) => Report {
                job_id: id,
                output: String::new(),
                error: format!("the node could not run the job: {}", e.message),
                exit_code: -1.0,
            },
        }
    }

    /// Sends every pending report; keeps the ones the broker did not acknowledge.
    async fn flush(&self) -> bool {
        let pending = self.st.borrow().pending.clone();
        for r in pending {
            let body = Obj::new();
            body.set("node_id", &self.id)
                .set("job_id", &r.job_id)
                .set("output", &r.output)
                .set("error", &r.error)
                .set("exit_code", &r.exit_code);
            match post(&self.broker, "complete", "/complete", body).await {
                Ok(_) => {
                    let mut st = self.st.borrow_mut();
                    st.pending.retain(|p| p.job_id != r.job_id);
                    if r.exit_code == 0.0 {
                        st.completed += 1.0;
                    } else {
                        st.failed += 1.0;
                    }
                    st.reported.insert(r.job_id.clone(), r.clone());
                    drop(st);
                    let o = Obj::new();
                    o.set("jobId", &r.job_id)
                        .set("exitCode", &r.exit_code)
                        .set("output", &r.output)
                        .set("error", &r.error);
                    self.events.emit("job-completed", &o.into());
                }
                Err(e) if e.code == Code::NotFound => {
                    // The broker no longer knows the job: nothing to report it to.
                    self.st
                        .borrow_mut()
                        .pending
                        .retain(|p| p.job_id != r.job_id);
                    self.error(&e);
                }
                Err(e) => {
                    self.error(&e);
                    return false;
                }
            }
        }
        true
    }

    /// One round: report what is pending, then claim and run one job. Returns whether it did
    /// work (so the loop polls again at once).
    async fn step(&self) -> bool {
        if !self.flush().await {
            return false;
        }
        let body = Obj::new();
        body.set("node_id", &self.id);
        let job = match post(&self.broker, "claim", "/claim", body).await {
            Ok(v) => js_sys::Reflect::get(&v, &"job".into()).unwrap_or_default(),
            Err(e) => {
                self.error(&e);
                return false;
            }
        };
        if !job.is_object() {
            return false;
        }
        let id = wire::string(&job, "id").unwrap_or_default();
        let again = self.st.borrow().reported.get(&id).cloned();
        let pending = self.st.borrow().pending.iter().any(|p| p.job_id == id);
        if let Some(r) = again {
            // Handed out again (the broker re-queued it): report the same result, do not re-run.
            self.st.borrow_mut().pending.push(r);
            return true;
        }
        if pending {
            return true;
        }
        self.st.borrow_mut().current = Some(id.clone());
        let o = Obj::new();
        o.set("jobId", &id);
        self.events.emit("job-claimed", &o.into());
        let report = self.run(&job).await;
        let mut st = self.st.borrow_mut();
        st.current = None;
        st.pending.push(report);
        true
    }
}

/// A registered node (`sandrun.node()…register()`).
#[wasm_bindgen]
pub struct Node {
    inner: Rc<NodeInner>,
}

#[wasm_bindgen]
impl Node {
    /// The broker's id for this node.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// Sends one heartbeat now (they also go out on the interval).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn heartbeat(&self) -> Promise {
        let inner = self.inner.clone();
        crate::pool::boxed_promise(async move {
            inner.heartbeat().await.map_err(SdkError::into_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Claims jobs from the broker and runs them on the worker, one at a time, until
    /// `stopListening()`. `pollIntervalMs` (default 5000) is the pause when there is no job.
    #[wasm_bindgen(js_name = startListening)]
    pub fn start_listening(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "{ pollIntervalMs?: number }")]
        options: Option<JsValue>,
    ) -> std::result::Result<(), JsValue> {
        let mut r = Reader::new(&options.unwrap_or_default(), "startListening options.");
        r.only(&["pollIntervalMs"]);
        let poll = r.number("pollIntervalMs").unwrap_or(5000.0).max(10.0);
        if !r.problems.is_empty() {
            return Err(SdkError::validation(r.problems).into_js());
        }
        if self.inner.closed.get() {
            return Err(SdkError::new(Code::Cancelled, "the node was closed").into_js());
        }
        if self.inner.listening.replace(true) {
            return Ok(());
        }
        let stopper = Stopper::new();
        let signal = stopper.signal();
        *self.inner.listen_stop.borrow_mut() = Some(stopper);
        let weak = Rc::downgrade(&self.inner);
        crate::pool::boxed_spawn(async move {
            let mut failures = 0.0;
            loop {
                let Some(n) = weak.upgrade() else { break };
                if !n.listening.get() {
                    // Stopped: still deliver what finished.
                    n.flush().await;
                    break;
                }
                let worked = n.step().await;
                let errored = n.st.borrow().last_error.is_some() && !worked;
                failures = if errored {
                    (failures + 1.0_f64).min(5.0)
                } else {
                    0.0
                };
                n.st.borrow_mut().last_error = None;
                drop(n);
                if !worked
                    && platform::sleep(poll * (1.0 + failures), Some(&signal))
                        .await
                        .is_err()
                {
                    if let Some(n) = weak.upgrade() {
                        n.flush().await;
                    }
                    break;
                }
            }
        });
        Ok(())
    }

    /// Stops claiming jobs; a job already running finishes and is reported.
    #[wasm_bindgen(js_name = stopListening)]
    pub fn stop_listening(&self) {
        self.inner.listening.set(false);
        if let Some(s) = self.inner.listen_stop.borrow_mut().take() {
            s.stop();
        }
    }

    #[wasm_bindgen(unchecked_return_type = "NodeStatus")]
    pub fn status(&self) -> JsValue {
        let st = self.inner.st.borrow();
        NodeStatus {
            node_id: self.inner.id.clone(),
            endpoint: self.inner.endpoint.clone(),
            worker_id: self.inner.worker_id.clone(),
            listening: self.inner.listening.get(),
            jobs_completed: st.completed,
            jobs_failed: st.failed,
            current_job: st.current.clone(),
            pending_reports: st.pending.len() as f64,
            last_heartbeat: st.last_heartbeat,
            last_error: st.last_error.clone(),
        }
        .to_js()
    }

    /// Listens to `registered`, `heartbeat`, `job-claimed`, `job-completed`, `error`.
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NodeEvent")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: any) => void")] listener: Function,
    ) -> std::result::Result<(), JsValue> {
        self.inner.events.on(NODE_EVENTS, &event, listener)
    }

    /// Stops heartbeats and listening (a running job still finishes and is reported).
    pub fn close(&self) {
        self.stop_listening();
        self.inner.closed.set(true);
        self.inner.stop.stop();
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** `'2-of-3'`, `'3-of-5'`, … or `{ k, n }` (k more than half of n). */
export type ConsensusStrategy = `${number}-of-${number}` | { k: number; n: number };
export type PoolEvent = 'node-joined' | 'node-left' | 'job-started' | 'job-completed' | 'consensus-achieved';
export type NodeEvent = 'registered' | 'heartbeat' | 'job-claimed' | 'job-completed' | 'error';
/** A worker given to `pool().workers([...])`: its URL, and optionally its key and capabilities. */
export interface PoolWorker { url: string; workerId?: string; region?: string; gpus?: number; memoryMb?: number; maxConcurrent?: number; pricing?: { perJob?: number }; [capability: string]: unknown }
"#;
