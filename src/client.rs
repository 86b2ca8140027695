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
}

impl ToJs for Health {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("endpoint", &self.endpoint)
            .set("status", &self.status)
            .set("workerId", &self.worker_id)
            .set("trusted", &self.trusted);
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

impl Sandrun {
    pub fn from_config(config: SandrunConfig) -> Result<Sandrun, SdkError> {
        let config = config.resolve()?;
        let http = Http {
            endpoint: config.endpoint.clone(),
            request_timeout_ms: config.request_timeout_ms,
        };
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
            let h = Health {
                endpoint: client.config.endpoint.clone(),
                status: body.status,
                worker_id: body.worker_id,
                trusted,
            };
            to_js_value(&h)
        })
    }
}
