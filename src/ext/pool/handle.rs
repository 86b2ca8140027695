//! `Pool`: the handle JS holds on a joined pool.

use super::dispatch::PoolJob;
use super::state::{PoolInner, POOL_EVENTS};
use super::unregister;
use crate::core::boundary::error::{Code, SdkError};
use crate::core::boundary::js::{message_of, method, Obj, ToJs};
use crate::core::boundary::platform::call_async;
use crate::core::boundary::promise::promise;
use crate::core::boundary::reader::FromJs;
use crate::core::builder::JobBuilder;
use crate::core::execution::JobExecution;
use crate::core::submit::submit;
use js_sys::{Array, Function, Promise};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A set of workers jobs can be spread over (`sandrun.pool()…join()`).
#[wasm_bindgen]
pub struct Pool {
    inner: Rc<PoolInner>,
}

/// Options for `schedule()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "schedule options.")]
pub struct ScheduleOptions {
    /// Jobs at once (default: the pool's capacity).
    pub concurrency: Option<f64>,
}

/// One entry of `schedule()`'s answer.
#[derive(sandrun_derive::ToJs)]
pub struct ScheduledJob {
    pub index: f64,
    pub ok: bool,
    #[js(optional, ts = "JobResult")]
    pub result: Option<JsValue>,
    /// The error (a `SandrunError`) when `ok` is false.
    #[js(optional)]
    pub error: Option<JsValue>,
}

/// Calls `obj[name](...args)` and awaits what it returns.
async fn invoke(obj: &JsValue, name: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let f =
        method(obj, name).ok_or_else(|| JsValue::from(format!("not a JobBuilder: no {name}()")))?;
    call_async(&f, obj, args).await
}

impl Pool {
    pub fn new(inner: Rc<PoolInner>) -> Pool {
        Pool { inner }
    }
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
        self.inner.infos().to_js()
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
            .infos()
            .iter()
            .filter(|n| n.healthy)
            .map(|n| n.capacity)
            .sum()
    }

    /// Submits a job to the pool (the same as `job.with(pool).submit()`).
    #[wasm_bindgen(unchecked_return_type = "Promise<JobExecution>")]
    pub fn distribute(&self, job: &JobBuilder) -> Promise {
        // As `.with(pool)`: a closed pool is a problem of the job, reported before sending.
        let job = super::attach(job, &self.marker())
            .unwrap_or_else(|| job.with_extension(Rc::new(PoolJob(self.inner.clone()))));
        let (client, draft, exts) = (
            job.client().clone(),
            job.draft().clone(),
            job.extensions().to_vec(),
        );
        promise(async move {
            let exec = submit(client, draft, &exts, None).await?;
            Ok(JobExecution::new(exec).into())
        })
    }

    /// Runs many jobs, at most `concurrency` at once (default: the pool's capacity); resolves
    /// with one entry per job, in order, once all ended.
    #[wasm_bindgen(unchecked_return_type = "Promise<ScheduledJob[]>")]
    pub fn schedule(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReadonlyArray<JobBuilder>")] jobs: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ScheduleOptions")] options: Option<JsValue>,
    ) -> Promise {
        let o = match ScheduleOptions::from_js(&options.unwrap_or_default()) {
            Ok(o) => o,
            Err(e) => return Promise::reject(&e.op("schedule").into_js()),
        };
        let lanes = o.concurrency.unwrap_or_else(|| self.capacity()).max(1.0) as usize;
        let marker = self.marker();
        // The builders stay the caller's (templates may be reused): each is attached to the pool
        // and submitted through its own JS methods.
        let jobs: Rc<Vec<JsValue>> = Rc::new(Array::from(&jobs).iter().collect());
        let results: Rc<RefCell<Vec<JsValue>>> =
            Rc::new(RefCell::new(vec![JsValue::UNDEFINED; jobs.len()]));
        let next = Rc::new(Cell::new(0usize));
        let all: Array = (0..lanes.min(jobs.len()).max(1))
            .map(|_| {
                let (jobs, next, results, marker) =
                    (jobs.clone(), next.clone(), results.clone(), marker.clone());
                JsValue::from(promise(async move {
                    while let Some(job) = jobs.get(next.get()) {
                        let index = next.get();
                        next.set(index + 1);
                        let run = async {
                            let b = invoke(job, "with", &[&marker]).await?;
                            let exec = invoke(&b, "submit", &[]).await?;
                            let out = invoke(&exec, "wait", &[]).await;
                            if let Some(free) = method(&exec, "free") {
                                let _ = free.call0(&exec);
                            }
                            out
                        };
                        let entry = match run.await {
                            Ok(v) => ScheduledJob {
                                index: index as f64,
                                ok: true,
                                result: Some(v),
                                error: None,
                            },
                            Err(e) => ScheduledJob {
                                index: index as f64,
                                ok: false,
                                result: None,
                                error: Some(e),
                            },
                        };
                        results.borrow_mut()[index] = entry.to_js();
                    }
                    Ok(JsValue::UNDEFINED)
                }))
            })
            .collect();
        promise(async move {
            JsFuture::from(Promise::all(&all))
                .await
                .map_err(|e| SdkError::new(Code::Internal, message_of(&e)))?;
            let out: Vec<JsValue> = results.borrow().clone();
            Ok(out.to_js())
        })
    }

    /// Checks every worker again (and asks the sources for replacements of failed ones).
    #[wasm_bindgen(js_name = healthCheck, unchecked_return_type = "Promise<NodeInfo[]>")]
    pub fn health_check(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            inner.refresh().await.map_err(|e| e.op("healthCheck"))?;
            Ok(inner.infos().to_js())
        })
    }

    /// Listens to `node-joined`, `node-left`, `job-started`, `job-completed`,
    /// `consensus-achieved`.
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PoolEvent")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: any) => void")] listener: Function,
    ) -> Result<(), JsValue> {
        self.inner
            .events
            .on(POOL_EVENTS, &event, listener)
            .map_err(SdkError::into_js)
    }

    /// Removes a listener added with `on()`; true if it was there.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PoolEvent")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: any) => void")] listener: Function,
    ) -> bool {
        self.inner.events.off(&event, &listener)
    }

    /// Stops health checks and listeners; jobs already submitted keep running. New jobs are
    /// refused.
    pub fn close(&self) {
        self.inner.closed.set(true);
        self.inner.stop.stop();
        self.inner.events.clear();
        unregister(self.inner.id);
    }
}

impl Pool {
    /// The object `.with()` recognises as this pool.
    pub fn marker(&self) -> JsValue {
        let o = Obj::new();
        o.set("__sandrunPool", &self.inner.id);
        o.into()
    }
}
