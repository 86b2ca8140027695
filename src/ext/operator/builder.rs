//! `sandrun.node()` → `NodeBuilder` → `register()`: what the node offers, where it runs jobs,
//! and which broker it serves.

use super::agent::{Node, NodeInner, NodeState};
use crate::core::actions;
use crate::core::boundary::error::{FieldProblem, Result, SdkError};
use crate::core::boundary::js::Obj;
use crate::core::boundary::platform;
use crate::core::boundary::promise::{promise, spawn, Events, Stopper};
use crate::core::client::Client;
use crate::core::config::normalize_endpoint;
use crate::core::extension::Extensions;
use crate::core::transport::CallOpts;
use crate::ext::broker;
use js_sys::Promise;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
#[derive(Clone)]
pub struct NodeBuilder {
    client: Rc<Client>,
    /// The client's job extensions (plugins), for the jobs the node runs.
    defaults: Extensions,
    endpoint: Option<String>,
    broker: Option<String>,
    capabilities: Option<JsValue>,
    pricing: Option<JsValue>,
    region: Option<String>,
    heartbeat_ms: f64,
    problems: Vec<FieldProblem>,
}

impl NodeBuilder {
    pub fn new(client: Rc<Client>, defaults: Extensions) -> NodeBuilder {
        NodeBuilder {
            client,
            defaults,
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

    /// Where a mode of the agent defined in a higher layer (the market's, `market::operator`)
    /// starts from: a client for the worker the node runs jobs on (the client's config, so its
    /// `chain` and `ipfs` sections), and the problems found in the builder so far.
    pub fn worker(&self) -> (Rc<Client>, Vec<FieldProblem>) {
        let endpoint = self
            .endpoint
            .as_ref()
            .unwrap_or(&self.client.config.endpoint);
        (self.client.for_endpoint(endpoint), self.problems.clone())
    }

    fn url(&self, field: &'static str, url: &str) -> std::result::Result<String, FieldProblem> {
        normalize_endpoint(url).map_err(|message| FieldProblem::new(field, message))
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
                b.problems
                    .push(FieldProblem::new("capabilities", "must be an object"))
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
                b.problems
                    .push(FieldProblem::new("pricing", "must be an object"))
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
                b.problems.push(FieldProblem::new(
                    "heartbeatInterval",
                    "must be a positive number of ms",
                ))
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
        promise(async move { Ok(b.register_inner().await?.into()) })
    }
}

impl NodeBuilder {
    async fn register_inner(self) -> Result<Node> {
        let mut problems = self.problems.clone();
        if self.broker.is_none() {
            problems.push(FieldProblem::new(
                "broker",
                "is missing: .broker(url) or register(url)",
            ));
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
        let health = actions::health::health(&worker.http, &CallOpts::default())
            .await
            .map_err(|e| e.op("register"))?
            .worker_id;
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
        let node_id = broker::register(&broker.http, &endpoint, &caps).await?;
        let inner = Rc::new(NodeInner {
            id: node_id,
            endpoint,
            worker_id: health,
            worker,
            broker,
            defaults: self.defaults.clone(),
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
        spawn(async move {
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
        Ok(Node::new(inner))
    }
}
