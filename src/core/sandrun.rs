//! `Sandrun`: the client JS holds. Makes job builders, re-attaches to jobs, reports health.
//! Extensions add methods of their own (`use`, `pool`, `node`, …).

use super::actions;
use super::boundary::error::{Result, SdkError};
use super::boundary::js::ToJs;
use super::boundary::promise::promise;
use super::boundary::reader::FromJs;
use super::boundary::registry;
use super::builder::JobBuilder;
use super::client::Client;
use super::config::SandrunConfig;
use super::execution::{Execution, JobExecution, WorkerExecution};
use super::extension::Extensions;
use super::transport::CallOpts;
use js_sys::Promise;
use sandrun_protocol::map::SortedMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Makes the execution of a layer's job from its id (without waiting: the call is synchronous).
pub type Attach = fn(&Rc<Client>, &str) -> Result<Rc<dyn Execution>>;

/// How a layer above the core re-attaches to its own jobs by id (the market's `market:<id>`):
/// ids starting with `prefix` go to `attach` instead of a worker.
#[derive(Clone, Copy)]
pub struct Attacher {
    pub prefix: &'static str,
    pub attach: Attach,
}

thread_local! {
    static ATTACHERS: std::cell::RefCell<Vec<Attacher>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Registers a layer's job ids (once per prefix; `src/entries/` calls it at set-up).
pub fn add_attacher(a: Attacher) {
    registry::add_once(&ATTACHERS, a, |a| a.prefix);
}

/// What a layer above the core adds to `health()` (the market: its chain, IPFS and nodes), under
/// `key` of the answer; `report` gives `None` when the client does not use that layer.
#[derive(Clone, Copy)]
pub struct HealthPart {
    pub key: &'static str,
    pub report: fn(Rc<Client>) -> Option<super::transport::Fut<'static, JsValue>>,
}

thread_local! {
    static HEALTH_PARTS: std::cell::RefCell<Vec<HealthPart>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Registers a layer's part of `health()` (once per key; `src/entries/` calls it at set-up).
pub fn add_health_part(part: HealthPart) {
    registry::add_once(&HEALTH_PARTS, part, |p| p.key);
}

#[wasm_bindgen]
pub struct Sandrun {
    client: Rc<Client>,
    /// Extensions every job of this client starts with (the client's plugins).
    defaults: Extensions,
}

/// `health()`'s answer.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct Health {
    pub endpoint: String,
    /// `healthy` when the worker answered; `degraded` when an optional service is down.
    pub status: String,
    /// The worker's public key (base64), `null` for an anonymous worker.
    pub worker_id: Option<String>,
    /// The worker is among `trustedWorkers` (`null` when none are configured).
    pub trusted: Option<bool>,
    /// Optional services: `stream` (the live log socket; logs fall back to polling without it),
    /// `up` or `down`. When one is down, `status` is `degraded` instead of failing.
    #[js(ts = "Record<string, 'up' | 'down'>")]
    pub services: SortedMap<String>,
}

impl Sandrun {
    pub fn new(client: Rc<Client>, defaults: Extensions) -> Sandrun {
        Sandrun { client, defaults }
    }

    pub fn from_config(config: SandrunConfig) -> Result<Sandrun> {
        let client = Client::new(config.resolve()?);
        Ok(Sandrun::new(Rc::new(client), Rc::from(Vec::new())))
    }

    pub fn client(&self) -> &Rc<Client> {
        &self.client
    }

    pub fn defaults(&self) -> &Extensions {
        &self.defaults
    }

    async fn health_inner(client: Rc<Client>) -> Result<Health> {
        let body = actions::health::health(&client.http, &CallOpts::default()).await?;
        let keys = &client.config.trusted_workers;
        let trusted = (!keys.is_empty()).then(|| {
            body.worker_id
                .as_ref()
                .map(|k| keys.contains(k))
                .unwrap_or(false)
        });
        let mut services = SortedMap::new();
        let mut status = body.status;
        if client.config.stream_logs {
            // The real worker answers a stream for an unknown job with an error message, so
            // opening one for `health` tells whether its WebSocket works without starting a job.
            let up = match actions::stream::open(&client.http, "health", &CallOpts::default()).await
            {
                Ok(s) => {
                    s.close();
                    true
                }
                Err(_) => false,
            };
            if !up && status == "healthy" {
                status = "degraded".into();
            }
            services.insert("stream".into(), if up { "up" } else { "down" }.to_string());
        }
        Ok(Health {
            endpoint: client.config.endpoint.clone(),
            status,
            services,
            worker_id: body.worker_id,
            trusted,
        })
    }
}

#[wasm_bindgen]
impl Sandrun {
    /// Makes a client. Contacts nothing: bad config fails here, unreachable servers on first use.
    #[wasm_bindgen(unchecked_return_type = "Promise<Sandrun>")]
    pub fn create(
        #[wasm_bindgen(unchecked_optional_param_type = "SandrunConfig")] config: Option<JsValue>,
    ) -> Promise {
        let made = SandrunConfig::from_js(&config.unwrap_or(JsValue::UNDEFINED))
            .map_err(|e| e.op("create"))
            .and_then(Sandrun::from_config);
        match made {
            Ok(s) => Promise::resolve(&JsValue::from(s)),
            Err(e) => Promise::reject(&e.into_js()),
        }
    }

    /// Runs what extensions do when a client ends (plugins' `onDestroy`, awaited in hook order).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn destroy(&self) -> Promise {
        let client = self.client.clone();
        promise(async move {
            if let Some(h) = &client.hooks {
                h.destroy().await?;
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// A new, empty job builder.
    pub fn job(&self) -> JobBuilder {
        JobBuilder::new(self.client.clone(), self.defaults.clone())
    }

    /// Re-attaches to a job by id (after a page reload, say). Its job hash is not known locally,
    /// so `verify()` checks the signature and outputs but cannot compare the hash. A layer's own
    /// ids (`market:<jobId>` for a paid market job) go to that layer.
    pub fn execution(&self, id: String) -> std::result::Result<JobExecution, JsValue> {
        let layer = registry::entries(&ATTACHERS)
            .into_iter()
            .find(|a| id.starts_with(a.prefix));
        if let Some(a) = layer {
            return (a.attach)(&self.client, &id)
                .map(JobExecution::new)
                .map_err(|e| e.op("execution").into_js());
        }
        if !actions::is_job_id(&id) {
            return Err(SdkError::field("id", format!("\"{id}\" is not a job id")).into_js());
        }
        let exec = WorkerExecution::new(self.client.clone(), id, None, None, None);
        Ok(JobExecution::new(exec))
    }

    /// The validated configuration, defaults applied.
    #[wasm_bindgen(getter, unchecked_return_type = "ResolvedConfig")]
    pub fn config(&self) -> JsValue {
        self.client.config.to_js()
    }

    /// Asks the worker's `/health` (and whether its log stream opens); the layers in use add
    /// their part (the full build's market: `market`, as `marketHealth()` reports it).
    #[wasm_bindgen(unchecked_return_type = "Promise<Health>")]
    pub fn health(&self) -> Promise {
        let client = self.client.clone();
        promise(async move {
            let parts: Vec<_> = registry::entries(&HEALTH_PARTS)
                .into_iter()
                .filter_map(|p| (p.report)(client.clone()).map(|f| (p.key, f)))
                .collect();
            let answer = Sandrun::health_inner(client).await?.to_js();
            for (key, report) in parts {
                let _ = js_sys::Reflect::set(&answer, &key.into(), &report.await);
            }
            Ok(answer)
        })
    }
}
