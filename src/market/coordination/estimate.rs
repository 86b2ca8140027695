//! `.estimate()`: what a paid job would cost and whether it can run, before anything is sent —
//! the registered nodes that qualify (active, not unbonding, price within the job's price per
//! node and `maxPrice`, bond free for a claim), the payment, the gas of every transaction the
//! submitter sends (`spend::gas`), the total, and whether the spend caps allow it (`spend`'s
//! rule, the one `submit()` applies).

use super::config::{limits_of, market_of};
use super::history::registered_nodes;
use super::spend::{self, Cost, GasEstimate};
use super::terms::Paid;
use crate::core::boundary::error::{Result, SdkError};
use crate::core::boundary::js::ToJs;
use crate::core::boundary::platform::now_ms;
use crate::core::boundary::promise::promise;
use crate::core::builder::JobBuilder;
use crate::core::client::Client;
use crate::core::extension::{find, JobExtension};
use crate::market::chain::connection::Chain;
use crate::market::chain::contract::MarketContract;
use crate::market::chain::values::{Addr, Wei};
use alloy_primitives::U256;
use js_sys::Promise;
use sandrun_chain::units::format_ether;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct QualifyingNode {
    #[js(ts = "string")]
    pub address: Addr,
    pub endpoint: String,
    #[js(ts = "bigint")]
    pub price: Wei,
}

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct MarketEstimate {
    pub k: u32,
    pub n: u32,
    /// Nodes that could take the job now.
    pub nodes: Vec<QualifyingNode>,
    #[js(ts = "bigint")]
    pub payment: Wei,
    #[js(ts = "bigint")]
    pub price_per_node: Wei,
    pub gas: GasEstimate,
    /// payment + gas.cost: the most this job takes from the account (what `limits.maxPerJob`
    /// is compared with).
    #[js(ts = "bigint")]
    pub total: Wei,
    /// The spend caps allow it (as `submit()` checks them) and at least n nodes qualify.
    pub allowed: bool,
    /// Why not, in words.
    pub reasons: Vec<String>,
}

async fn estimate(client: Rc<Client>, all: Vec<Rc<dyn JobExtension>>) -> Result<MarketEstimate> {
    let paid = find::<Paid>(&all).cloned().ok_or_else(|| {
        SdkError::field(
            "payment",
            "estimate() is for a paid job: call .payment(amount) first",
        )
    })?;
    let terms = paid
        .terms(&all, now_ms() / 1000.0)
        .map_err(SdkError::validation)?;
    let address = market_of(&client)?;
    let (limits, key) = limits_of(&client)?;
    let chain = Chain::open(&client)?;
    let contract = MarketContract::open(chain, address).await?;
    let (gas, failure) = spend::gas(&contract, &terms).await?;
    let cost = Cost {
        payment: terms.payment,
        gas: gas.cost.0,
    };
    let mut reasons = Vec::new();
    if let Some((_, message)) = spend::refusal(&limits, key.as_ref(), cost) {
        reasons.push(message);
    }

    let settings = contract.settings().await?;
    let nodes = qualifying(
        &client,
        &contract,
        terms.node_price_cap,
        settings.claim_bond,
    )
    .await?;
    if (nodes.len() as u32) < terms.quorum.n {
        reasons.push(format!(
            "{} registered node(s) qualify (active, price at most {} ether, bond free for a claim); the job needs {}",
            nodes.len(),
            format_ether(terms.node_price_cap),
            terms.quorum.n
        ));
    }
    reasons.extend(failure);
    Ok(MarketEstimate {
        k: terms.quorum.k,
        n: terms.quorum.n,
        nodes,
        payment: Wei(terms.payment),
        price_per_node: Wei(terms.price_per_node),
        gas,
        total: Wei(cost.total()),
        allowed: reasons.is_empty(),
        reasons,
    })
}

/// Every registered node, as `getNode` says it is now, that could claim a job paying `cap` per
/// node.
async fn qualifying(
    client: &Client,
    c: &MarketContract,
    cap: U256,
    claim_bond: U256,
) -> Result<Vec<QualifyingNode>> {
    let mut out = Vec::new();
    for (address, _) in registered_nodes(client, c).await? {
        let n = c.node(address).await?;
        let free = n.bond.saturating_sub(n.locked);
        if n.registered && n.unbonding_at.is_none() && n.price <= cap && free >= claim_bond {
            out.push(QualifyingNode {
                address: Addr(address),
                endpoint: n.endpoint,
                price: Wei(n.price),
            });
        }
    }
    Ok(out)
}

#[wasm_bindgen]
impl JobBuilder {
    /// What this paid job would cost and whether it can run now: the qualifying nodes, the
    /// payment, the gas of the submitter's transactions, the total, and whether the spend caps
    /// allow it. Sends nothing.
    #[wasm_bindgen(unchecked_return_type = "Promise<MarketEstimate>")]
    pub fn estimate(&self) -> Promise {
        let (client, all) = (self.client().clone(), self.extensions().to_vec());
        promise(async move {
            let e = estimate(client, all).await.map_err(|e| e.op("estimate"))?;
            Ok(e.to_js())
        })
    }
}
