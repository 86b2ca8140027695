//! `Sandrun`: the client. Holds the validated config and the worker transport; makes builders and
//! re-attaches to jobs.

use crate::builder::JobBuilder;
use crate::config::{ResolvedConfig, SandrunConfig};
use crate::convert::{to_js_value, Obj, ToJs};
use crate::error::SdkError;
use crate::execution::{ExecInner, JobExecution};
use crate::transport::{wire, CallOpts, Http};
use js_sys::Promise;
use std::rc::Rc;
use tsify::Tsify;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

pub struct Client {
    pub config: ResolvedConfig,
    pub http: Http,
}

#[wasm_bindgen]
pub struct Sandrun {
    client: Rc<Client>,
}

/// `health()`'s answer.
#[derive(Debug, Clone, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub endpoint: String,
    /// `healthy` when the worker answered.
    pub status: String,
    /// The worker's public key (base64), `null` for an anonymous worker.
    pub worker_id: Option<String>,
    /// The worker is among `trustedWorkers` (`null` when none are configured).
    pub trusted: Option<bool>,
    /// Optional services: `stream` (the live log socket; logs fall back to polling without it),
    /// `up` or `down`. When one is down, `status` is `degraded` instead of failing.
    #[tsify(type = "Record<string, 'up' | 'down'>")]
    pub services: sandrun_protocol::map::SortedMap<String>,
}

impl ToJs for Health {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("endpoint", &self.endpoint)
            .set("status", &self.status)
            .set("workerId", &self.worker_id)
            .set("trusted", &self.trusted)
            .set("services", &self.services);
        o.into()
    }
}

struct HealthBody {
    status: String,
    worker_id: Option<String>,
}

fn read_health(v: &JsValue, _bytewise: bool) -> Result<HealthBody, String> {
    Ok(HealthBody {
        status: wire::required(v, "status")?,
        worker_id: wire::string(v, "worker_id"),
    })
}

impl Client {
    /// The same settings, talking to another server (a pool's worker, a coordinator, a broker).
    pub fn for_endpoint(&self, endpoint: &str) -> Rc<Client> {
        let mut config = self.config.clone();
        config.endpoint = endpoint.to_string();
        let http = Http {
            endpoint: endpoint.to_string(),
            request_timeout_ms: config.request_timeout_ms,
            #[cfg(feature = "full")]
            pipeline: self.http.pipeline.clone(),
        };
        Rc::new(Client { config, http })
    }

    /// The same client with another plugin pipeline (a job's own plugins and middleware).
    #[cfg(feature = "full")]
    pub fn with_pipeline(&self, pipeline: crate::plugins::Pipeline) -> Client {
        let mut http = self.http.clone();
        http.pipeline = Rc::new(pipeline);
        Client {
            config: self.config.clone(),
            http,
        }
    }
}

impl Sandrun {
    pub fn from_config(config: SandrunConfig) -> Result<Sandrun, SdkError> {
        let config = config.resolve()?;
        let http = Http::new(&config.endpoint, config.request_timeout_ms);
        Ok(Sandrun {
            client: Rc::new(Client { config, http }),
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
            .and_then(Sandrun::from_config);
        match made {
            Ok(s) => Promise::resolve(&JsValue::from(s)),
            Err(e) => Promise::reject(&e.into_js()),
        }
    }

    /// Calls every plugin's `onDestroy` (awaited, in hook order).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn destroy(&self) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            #[cfg(feature = "full")]
            client
                .http
                .pipeline
                .each("onDestroy", &[])
                .await
                .map_err(SdkError::into_js)?;
            #[cfg(not(feature = "full"))]
            let _ = client;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// A new, empty job builder.
    pub fn job(&self) -> JobBuilder {
        JobBuilder::new(self.client.clone())
    }

    /// Re-attaches to a job by id (after a page reload, say). Its job hash is not known locally,
    /// so `verify()` checks the signature and outputs but cannot compare the hash.
    pub fn execution(&self, id: String) -> Result<JobExecution, JsValue> {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(SdkError::field("id", format!("{id:?} is not a job id")).into_js());
        }
        Ok(JobExecution {
            inner: ExecInner::new(self.client.clone(), id, None, None, None),
        })
    }

    /// The validated configuration, defaults applied.
    #[wasm_bindgen(getter, unchecked_return_type = "ResolvedConfig")]
    pub fn config(&self) -> Result<JsValue, JsValue> {
        to_js_value(&self.client.config)
    }

    /// Asks the worker's `/health`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Health>")]
    pub fn health(&self) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            let body: HealthBody = client
                .http
                .get_json("health", "/health", &CallOpts::default(), read_health)
                .await
                .map_err(SdkError::into_js)?;
            let keys = &client.config.trusted_workers;
            let trusted = (!keys.is_empty()).then(|| {
                body.worker_id
                    .as_ref()
                    .map(|k| keys.contains(k))
                    .unwrap_or(false)
            });
            let mut services = sandrun_protocol::map::SortedMap::new();
            let mut status = body.status;
            if client.config.stream_logs {
                let url = format!(
                    "{}/stream/health",
                    crate::config::ws_base(&client.config.endpoint)
                );
                let up = match crate::platform::Socket::open(&url).await {
                    Ok(Ok(s)) => {
                        s.close();
                        true
                    }
                    _ => false,
                };
                if !up && status == "healthy" {
                    status = "degraded".into();
                }
                services.insert("stream".into(), if up { "up" } else { "down" }.to_string());
            }
            let h = Health {
                endpoint: client.config.endpoint.clone(),
                status,
                services,
                worker_id: body.worker_id,
                trusted,
            };
            to_js_value(&h)
        })
    }
}

/// Pools, nodes and plugins (feature `full`, `@sandrun/sdk/full`).
#[cfg(feature = "full")]
#[wasm_bindgen]
impl Sandrun {
    /// A pool builder: workers from a list, a coordinator or a broker (issue 5).
    pub fn pool(&self) -> crate::pool::PoolBuilder {
        crate::pool::PoolBuilder::new(self.client.clone())
    }

    /// A node builder: registers a worker at a broker and serves its jobs.
    pub fn node(&self) -> crate::node::NodeBuilder {
        crate::node::NodeBuilder::new(self.client.clone())
    }

    /// A new client with `plugin` added (this one is unchanged): its hooks run for every job and
    /// request of the new client. Built-ins come from `retryPlugin()`, `metricsPlugin()`, …
    #[wasm_bindgen(js_name = "use")]
    pub fn use_plugin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Plugin | BuiltinPlugin")] plugin: JsValue,
    ) -> Result<Sandrun, JsValue> {
        let p = crate::plugins::Pipeline::derive(&self.client.http.pipeline, &[plugin], &[])
            .map_err(SdkError::into_js)?;
        Ok(Sandrun {
            client: Rc::new(self.client.with_pipeline(p)),
        })
    }
}

/// The core build: the same methods (the class has the same shape as in `@sandrun/sdk/full`),
/// each throwing an `UnsupportedError` that names the full entry.
#[cfg(not(feature = "full"))]
#[wasm_bindgen]
impl Sandrun {
    /// Pools need the full SDK (`import … from '@sandrun/sdk/full'`): throws `UnsupportedError`.
    #[wasm_bindgen(unchecked_return_type = "never")]
    pub fn pool(&self) -> Result<JsValue, JsValue> {
        Err(crate::error::full_only("pool", "pools").into_js())
    }

    /// Nodes need the full SDK (`import … from '@sandrun/sdk/full'`): throws `UnsupportedError`.
    #[wasm_bindgen(unchecked_return_type = "never")]
    pub fn node(&self) -> Result<JsValue, JsValue> {
        Err(crate::error::full_only("node", "nodes").into_js())
    }

    /// Plugins need the full SDK (`import … from '@sandrun/sdk/full'`): throws `UnsupportedError`.
    #[wasm_bindgen(js_name = "use", unchecked_return_type = "never")]
    pub fn use_plugin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object")] plugin: JsValue,
    ) -> Result<JsValue, JsValue> {
        let _ = plugin;
        Err(crate::error::full_only("use", "plugins").into_js())
    }
}
