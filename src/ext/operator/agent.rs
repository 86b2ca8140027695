//! A node operator's agent: registered at a broker, it heartbeats on an interval and, while
//! listening, claims the broker's jobs, runs each on its own worker server and reports the real
//! exit code, output and error.
//!
//! Survives broker restarts and network errors: a finished job's report is kept and re-sent until
//! the broker acknowledges it, and a job the broker hands out again after the node already ran it
//! is reported again, not run twice.

use crate::core::actions;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{num, prop, string, Obj, ToJs};
use crate::core::boundary::platform;
use crate::core::boundary::promise::{promise, spawn, Events, Stopper};
use crate::core::boundary::reader::FromJs;
use crate::core::client::Client;
use crate::core::execution::WaitOptions;
use crate::core::extension::Extensions;
use crate::core::spec::{FileSource, JobDraft};
use crate::core::submit::submit;
use crate::core::transport::CallOpts;
use crate::ext::broker::{self, Completion};
use js_sys::{Function, Promise};
use sandrun_protocol::manifest::default_entrypoint;
use sandrun_protocol::map::SortedMap;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

pub const NODE_EVENTS: &[&str] = &[
    "registered",
    "heartbeat",
    "job-claimed",
    "job-completed",
    "error",
];

/// Options for `startListening()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "startListening options.")]
pub struct ListenOptions {
    /// The pause when the broker has no job, in ms (default 5000).
    pub poll_interval_ms: Option<f64>,
}

#[wasm_bindgen(typescript_custom_section)]
const NODE_TS: &'static str = r#"
export type NodeEvent = 'registered' | 'heartbeat' | 'job-claimed' | 'job-completed' | 'error';
"#;

#[derive(Default)]
pub struct NodeState {
    completed: f64,
    failed: f64,
    current: Option<String>,
    last_heartbeat: Option<f64>,
    last_error: Option<String>,
    /// Finished, not yet acknowledged by the broker.
    pending: Vec<Completion>,
    /// Acknowledged (job id → exit code): a job handed out again is reported, not re-run.
    reported: SortedMap<Completion>,
}

pub struct NodeInner {
    pub id: String,
    pub endpoint: String,
    pub worker_id: Option<String>,
    pub worker: Rc<Client>,
    pub broker: Rc<Client>,
    /// The client's job extensions (plugins), for the jobs the node runs.
    pub defaults: Extensions,
    pub events: Events,
    pub st: RefCell<NodeState>,
    pub listening: Cell<bool>,
    pub closed: Cell<bool>,
    pub stop: Stopper,
    pub listen_stop: RefCell<Option<Stopper>>,
}

/// `status()`'s answer.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
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

impl NodeInner {
    pub fn error(&self, e: &SdkError) {
        self.st.borrow_mut().last_error = Some(e.message.clone());
        self.events.emit("error", &e.clone().into_js());
    }

    pub async fn heartbeat(&self) -> Result<()> {
        match broker::heartbeat(&self.broker.http, &self.id).await {
            Ok(()) => {
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
    async fn run(&self, job: &JsValue) -> Completion {
        let id = string(job, "id").unwrap_or_default();
        let code = string(job, "code").unwrap_or_default();
        let interpreter = string(job, "interpreter").unwrap_or_else(|| "python3".into());
        let args: Vec<String> = prop(job, "args")
            .filter(js_sys::Array::is_array)
            .map(|a| {
                js_sys::Array::from(&a)
                    .iter()
                    .map(|x| {
                        x.as_string()
                            .unwrap_or_else(|| num(x.as_f64().unwrap_or(0.0)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = default_entrypoint(&interpreter).to_string();
        let mut draft = JobDraft::default();
        draft
            .files
            .insert(name.clone(), FileSource::Bytes(Rc::from(code.into_bytes())));
        draft.entrypoint = Some(name);
        draft.interpreter = Some(interpreter);
        draft.args = args;
        draft.outputs = vec!["out/*".into()];
        let ran = async {
            let exec = submit(self.worker.clone(), draft, &self.defaults, None).await?;
            let result = exec.wait(WaitOptions::default()).await?;
            let logs =
                actions::logs::logs(&self.worker.http, &exec.id(), &CallOpts::default()).await?;
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let exit = result.exit_code.unwrap_or(if result.status == "completed" {
                0.0
            } else {
                -1.0
            });
            Ok::<_, SdkError>(((text(&logs.stdout), text(&logs.stderr)), exit))
        };
        match ran.await {
            Ok(((output, error), exit_code)) => Completion {
                job_id: id,
                output,
                error,
                exit_code,
            },
            Err(e) => Completion {
                job_id: id,
                output: String::new(),
                error: format!("the node could not run the job: {}", e.message),
                exit_code: -1.0,
            },
        }
    }

    /// Sends every pending report; keeps the ones the broker did not acknowledge.
    pub async fn flush(&self) -> bool {
        let pending = self.st.borrow().pending.clone();
        for r in pending {
            match broker::complete(&self.broker.http, &self.id, &r).await {
                Ok(()) => {
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
    pub async fn step(&self) -> bool {
        if !self.flush().await {
            return false;
        }
        let job = match broker::claim(&self.broker.http, &self.id).await {
            Ok(Some(job)) => job,
            Ok(None) => return false,
            Err(e) => {
                self.error(&e);
                return false;
            }
        };
        let id = string(&job, "id").unwrap_or_default();
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

impl Node {
    pub fn new(inner: Rc<NodeInner>) -> Node {
        Node { inner }
    }
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
        promise(async move {
            inner.heartbeat().await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Claims jobs from the broker and runs them on the worker, one at a time, until
    /// `stopListening()`. `pollIntervalMs` (default 5000) is the pause when there is no job.
    #[wasm_bindgen(js_name = startListening)]
    pub fn start_listening(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ListenOptions")] options: Option<JsValue>,
    ) -> std::result::Result<(), JsValue> {
        let o = ListenOptions::from_js(&options.unwrap_or_default()).map_err(SdkError::into_js)?;
        let poll = o.poll_interval_ms.unwrap_or(5000.0).max(10.0);
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
        spawn(async move {
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
        self.inner
            .events
            .on(NODE_EVENTS, &event, listener)
            .map_err(SdkError::into_js)
    }

    /// Removes a listener added with `on()`; true if it was there.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NodeEvent")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: any) => void")] listener: Function,
    ) -> bool {
        self.inner.events.off(&event, &listener)
    }

    /// Stops heartbeats and listening (a running job still finishes and is reported).
    pub fn close(&self) {
        self.stop_listening();
        self.inner.closed.set(true);
        self.inner.stop.stop();
    }
}
