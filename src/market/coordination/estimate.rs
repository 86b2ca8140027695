//! `.estimate()`: what a paid job would cost and whether it can run, before anything is sent —
//! the registered nodes that qualify (active, not unbonding, price within the job's price per
//! node and `maxPrice`, bond free for a claim), the payment, the gas of every transaction the
//! submitter sends (`postJob`, estimated by the node; `finalize`, which cannot be estimated
//! before the job exists, from its measured cost), the total, and whether the spend caps allow it.

use super::config::{limits_of, market_of};
use super::spend;
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
use crate::market::chain::fees;
use crate::market::chain::rpc::{LogFilter, TxCall};
use crate::market::chain::values::{Addr, Wei};
use alloy_primitives::{Address, B256, U256};
use js_sys::Promise;
use sandrun_chain::events::{decode_log, topic0, MarketEvent};
use sandrun_chain::market::{self as m, PostJob};
use sandrun_chain::units::format_ether;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// `finalize` of a k-of-n job: 86,320 gas measured for 2-of-3 (contracts/README.md: 2 paid, 1
/// slashed, 1 share refunded); each claimant adds a payment or slash (~17,000).
const FINALIZE_GAS_BASE: u64 = 35_000;
const FINALIZE_GAS_PER_NODE: u64 = 17_000;
/// A CIDv1 base32 directory CID is 59 characters; calldata cost depends only on the length.
const SAMPLE_CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct QualifyingNode {
    #[js(ts = "string")]
    pub address: Addr,
    pub endpoint: String,
    #[js(ts = "bigint")]
    pub price: Wei,
}

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct GasEstimate {
    #[js(ts = "bigint")]
    pub post_job: Wei,
    #[js(ts = "bigint")]
    pub finalize: Wei,
    /// The most per gas (maxFeePerGas, or the legacy gas price) at the time of the estimate.
    #[js(ts = "bigint")]
    pub price_per_gas: Wei,
    /// (postJob + finalize) × pricePerGas.
    #[js(ts = "bigint")]
    pub cost: Wei,
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
    /// payment + gas.cost: the most this job takes from the account.
    #[js(ts = "bigint")]
    pub total: Wei,
    /// The spend caps allow it and at least n nodes qualify.
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
    let chain = &contract.chain;
    let mut reasons = Vec::new();
    if let Some((_, message)) = spend::refusal(&limits, key.as_ref(), terms.payment) {
        reasons.push(message);
    }

    let settings = contract.settings().await?;
    let nodes = qualifying(&contract, terms.node_price_cap, settings.claim_bond).await?;
    if (nodes.len() as u32) < terms.quorum.n {
        reasons.push(format!(
            "{} registered node(s) qualify (active, price at most {} ether, bond free for a claim); the job needs {}",
            nodes.len(),
            format_ether(terms.node_price_cap),
            terms.quorum.n
        ));
    }

    let from = match chain.local_address() {
        Some(a) => Some(a),
        None => chain.sender().await.ok().map(|s| s.address()),
    };
    let posting = PostJob {
        job_hash: B256::repeat_byte(1),
        input_cid: SAMPLE_CID.into(),
        k: terms.quorum.k as u64,
        n: terms.quorum.n as u64,
        price_per_node: terms.price_per_node,
        deadline: terms.deadline,
    };
    let data = m::post_job(&posting, (now_ms() / 1000.0) as u64)
        .map_err(|e| SdkError::field(e.field.clone(), e.to_string()))?;
    let call = TxCall {
        from,
        to: Some(contract.address),
        value: terms.payment,
        data,
        ..TxCall::default()
    };
    let post_gas = match chain.rpc.estimate_gas(&call).await {
        Ok(g) => g,
        Err(e) => {
            reasons.push(format!("postJob would fail: {}", e.message));
            0
        }
    };
    let buffer = |g: u64| g + g * chain.settings.gas_buffer_percent as u64 / 100;
    let post_gas = buffer(post_gas);
    let finalize_gas = buffer(FINALIZE_GAS_BASE + FINALIZE_GAS_PER_NODE * terms.quorum.n as u64);
    let price = fees::quote(chain, None).await?.max_per_gas();
    let cost = price * U256::from(post_gas + finalize_gas);
    Ok(MarketEstimate {
        k: terms.quorum.k,
        n: terms.quorum.n,
        nodes,
        payment: Wei(terms.payment),
        price_per_node: Wei(terms.price_per_node),
        gas: GasEstimate {
            post_job: Wei(U256::from(post_gas)),
            finalize: Wei(U256::from(finalize_gas)),
            price_per_gas: Wei(price),
            cost: Wei(cost),
        },
        total: Wei(terms.payment + cost),
        allowed: reasons.is_empty(),
        reasons,
    })
}

/// Every node that registered (`NodeRegistered` logs), as `getNode` says it is now, that could
/// claim a job paying `cap` per node.
async fn qualifying(
    c: &MarketContract,
    cap: U256,
    claim_bond: U256,
) -> Result<Vec<QualifyingNode>> {
    let head = c.chain.rpc.block_number().await?;
    let topic = topic0("NodeRegistered").into_iter().map(Some).collect();
    let logs = c
        .chain
        .rpc
        .logs(&LogFilter {
            address: c.address,
            topics: topic,
            from_block: 0,
            to_block: head,
        })
        .await?;
    let mut seen: Vec<Address> = Vec::new();
    let mut out = Vec::new();
    for log in &logs {
        let Ok(MarketEvent::NodeRegistered(r)) = decode_log(&log.topics, &log.data) else {
            continue;
        };
        if seen.contains(&r.node) {
            continue;
        }
        seen.push(r.node);
        let n = c.node(r.node).await?;
        let free = n.bond.saturating_sub(n.locked);
        if n.registered && n.unbonding_at.is_none() && n.price <= cap && free >= claim_bond {
            out.push(QualifyingNode {
                address: Addr(r.node),
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
