//! `sandrun.marketHealth()`: every service a paid job depends on, each `up`, `degraded` or
//! `down` — the registered nodes' workers (`/health`), the chain (its id, head block, and the
//! market's code at the configured address) and IPFS (the layer's own health: node, gateways,
//! pinning services). Probes run at once; none throws: a failure is reported as `down`.

use super::config::market_of;
use super::history::registered_nodes;
use super::ipfs_call::{settle, MarketIpfs};
use crate::core::actions::health::health as worker_health;
use crate::core::boundary::error::Result;
use crate::core::boundary::js::{string, ToJs};
use crate::core::boundary::platform::now_ms;
use crate::core::boundary::promise::promise;
use crate::core::client::Client;
use crate::core::sandrun::Sandrun;
use crate::core::transport::CallOpts;
use crate::market::chain::connection::Chain;
use crate::market::chain::contract::MarketContract;
use crate::market::chain::values::Addr;
use alloy_primitives::Address;
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct WorkerHealth {
    #[js(ts = "string")]
    pub node: Addr,
    pub endpoint: String,
    #[js(ts = "'up' | 'down'")]
    pub status: String,
    pub worker_id: Option<String>,
    pub error: Option<String>,
    pub latency_ms: f64,
}

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct ChainHealth {
    #[js(ts = "'up' | 'degraded' | 'down'")]
    pub status: String,
    pub chain_id: Option<f64>,
    pub head_block: Option<f64>,
    /// The configured market has code on this chain.
    pub contract: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct MarketHealth {
    /// `up` when everything is; `down` when the chain or IPFS is; else `degraded`.
    #[js(ts = "'up' | 'degraded' | 'down'")]
    pub status: String,
    pub workers: Vec<WorkerHealth>,
    pub chain: ChainHealth,
    #[js(ts = "IpfsHealth | { status: 'down'; error: string }")]
    pub ipfs: JsValue,
}

async fn chain_health(client: &Rc<Client>) -> (ChainHealth, Vec<(Address, String)>) {
    let mut h = ChainHealth {
        status: "down".into(),
        chain_id: None,
        head_block: None,
        contract: false,
        error: None,
    };
    let run = async {
        let address = market_of(client)?;
        let chain = Chain::open(client)?;
        h.chain_id = Some(chain.rpc.chain_id().await? as f64);
        let head = chain.rpc.block_number().await?;
        h.head_block = Some(head as f64);
        h.contract = !chain.rpc.code(address).await?.is_empty();
        // The nodes' endpoints, as they registered or last updated them.
        let contract = MarketContract {
            chain,
            address,
            chain_id: h.chain_id.unwrap_or_default() as u64,
        };
        let nodes = registered_nodes(client, &contract).await?;
        Ok::<_, crate::core::boundary::error::SdkError>(nodes)
    };
    let nodes = match run.await {
        Ok(nodes) => nodes,
        Err(e) => {
            h.error = Some(e.message);
            Vec::new()
        }
    };
    h.status = match (h.head_block.is_some(), h.contract) {
        (true, true) => "up",
        (true, false) => "degraded",
        _ => "down",
    }
    .into();
    (h, nodes)
}

async fn probe(client: &Rc<Client>, node: Address, endpoint: String) -> WorkerHealth {
    let start = now_ms();
    let c = client.for_endpoint(&endpoint);
    let answer = worker_health(&c.http, &CallOpts::default()).await;
    WorkerHealth {
        node: Addr(node),
        endpoint,
        status: if answer.is_ok() { "up" } else { "down" }.into(),
        latency_ms: now_ms() - start,
        error: answer.as_ref().err().map(|e| e.message.clone()),
        worker_id: answer.ok().and_then(|b| b.worker_id),
    }
}

async fn market_health(client: Rc<Client>) -> Result<MarketHealth> {
    let (chain, nodes) = chain_health(&client).await;
    let mut workers = Vec::new();
    for (node, endpoint) in nodes {
        workers.push(probe(&client, node, endpoint).await);
    }
    let ipfs = match MarketIpfs::open(&client) {
        Ok(i) => settle(i.ipfs.health(None)).await,
        Err(e) => Err(e),
    };
    let ipfs_status = match &ipfs {
        Ok(v) => string(v, "status").unwrap_or_else(|| "down".into()),
        Err(_) => "down".into(),
    };
    let ipfs = ipfs.unwrap_or_else(|e| down(&e.message));
    let workers_up = workers.iter().filter(|w| w.status == "up").count();
    let status = if chain.status == "down" || ipfs_status == "down" {
        "down"
    } else if chain.status == "up" && ipfs_status == "up" && workers_up == workers.len() {
        "up"
    } else {
        "degraded"
    };
    Ok(MarketHealth {
        status: status.into(),
        workers,
        chain,
        ipfs,
    })
}

/// A part that could not be asked: `{ status: 'down', error }`.
fn down(error: &str) -> JsValue {
    let o = crate::core::boundary::js::Obj::new();
    o.set("status", &"down").set("error", &error);
    o.into()
}

/// The market's part of `health()`: when the client has a market.
pub fn health_part(client: Rc<Client>) -> Option<crate::core::transport::Fut<'static, JsValue>> {
    market_of(&client).ok()?;
    Some(Box::pin(async move {
        match market_health(client).await {
            Ok(h) => h.to_js(),
            Err(e) => down(&e.message),
        }
    }))
}

#[wasm_bindgen(typescript_custom_section)]
const HEALTH_TS: &'static str = r#"
export interface Health {
    /** With a market configured (full build): what `marketHealth()` reports. */
    market?: MarketHealth;
}
"#;

#[wasm_bindgen]
impl Sandrun {
    /// The health of every service a paid market job depends on: the registered nodes'
    /// workers, the chain (id, head block, the market's code) and IPFS (node, gateways,
    /// pinning services), each `up`, `degraded` or `down`. Never rejects for a service that
    /// is down: that is what it reports.
    #[wasm_bindgen(js_name = marketHealth, unchecked_return_type = "Promise<MarketHealth>")]
    pub fn market_health(&self) -> Promise {
        let client = self.client().clone();
        promise(async move { Ok(market_health(client).await?.to_js()) })
    }
}
