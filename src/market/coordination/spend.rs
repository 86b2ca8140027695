//! What a paid job costs the submitter and the client's caps on it (`config.limits`), one rule
//! for `submit()` and `estimate()`: a job's cost is its payment plus the gas of the transactions
//! the submitter sends for it (`postJob`, estimated by the node; `finalize`, which cannot be
//! estimated before the job exists, from its measured cost) at the most per gas the wallet will
//! pay. `maxPerJob` caps that cost; `maxTotal` caps what this client's jobs spent so far (escrow
//! plus the gas of their mined transactions, from the receipts) plus this job's cost.
//!
//! A job's cost is reserved before its `postJob` is sent (two submits at once cannot both slip
//! under the cap) and replaced by what it really spent once mined, or released if nothing was
//! posted. A job's `finalize` (or refund) counts when this client's transaction is mined.

use super::config::{limits_of, Limits};
use super::terms::Terms;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::Obj;
use crate::core::boundary::platform::now_ms;
use crate::core::client::Client;
use crate::market::chain::contract::MarketContract;
use crate::market::chain::fees;
use crate::market::chain::rpc::TxCall;
use crate::market::chain::send::Mined;
use crate::market::chain::values::{bigint, Wei};
use alloy_primitives::{B256, U256};
use sandrun_chain::market::{self as m, PostJob};
use sandrun_chain::units::format_ether;
use std::cell::RefCell;
use wasm_bindgen::JsValue;

/// `finalize` of a k-of-n job: 86,320 gas measured for 2-of-3 (contracts/README.md: 2 paid, 1
/// slashed, 1 share refunded); each claimant adds a payment or slash (~17,000).
const FINALIZE_GAS_BASE: u64 = 35_000;
const FINALIZE_GAS_PER_NODE: u64 = 17_000;
/// A CIDv1 base32 directory CID is 59 characters; calldata cost depends only on the length.
const SAMPLE_CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

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

/// What one job costs the submitter.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub payment: U256,
    /// The gas of its transactions × the price per gas.
    pub gas: U256,
}

impl Cost {
    pub fn total(&self) -> U256 {
        self.payment.saturating_add(self.gas)
    }
}

/// The gas of the submitter's transactions for a job on `terms`, and why `postJob` would fail
/// (the node's estimate refused it: 0 gas is counted for it then).
pub async fn gas(
    contract: &MarketContract,
    terms: &Terms,
) -> Result<(GasEstimate, Option<String>)> {
    let chain = &contract.chain;
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
    let (post_gas, failure) = match chain.rpc.estimate_gas(&call).await {
        Ok(g) => (g, None),
        Err(e) => (0, Some(format!("postJob would fail: {}", e.message))),
    };
    let buffer = |g: u64| g + g * chain.settings.gas_buffer_percent as u64 / 100;
    let post_gas = buffer(post_gas);
    let finalize_gas = buffer(FINALIZE_GAS_BASE + FINALIZE_GAS_PER_NODE * terms.quorum.n as u64);
    let price = fees::quote(chain, None).await?.max_per_gas();
    let estimate = GasEstimate {
        post_job: Wei(U256::from(post_gas)),
        finalize: Wei(U256::from(finalize_gas)),
        price_per_gas: Wei(price),
        cost: Wei(price * U256::from(post_gas + finalize_gas)),
    };
    Ok((estimate, failure))
}

/// What a job on `terms` costs, as the caps count it: its payment and the estimated gas (not
/// asked for when there is no cap: it would only cost the submit two requests).
pub async fn cost(contract: &MarketContract, terms: &Terms, limits: &Limits) -> Result<Cost> {
    let gas = if limits.max_per_job.is_none() && limits.max_total.is_none() {
        U256::ZERO
    } else {
        gas(contract, terms).await?.0.cost.0
    };
    Ok(Cost {
        payment: terms.payment,
        gas,
    })
}

thread_local! {
    /// Spent (and reserved) so far, per `limits` object of a client's config (the same object
    /// for every job of a client; a client without caps is not tracked).
    static SPENT: RefCell<Vec<(JsValue, U256)>> = const { RefCell::new(Vec::new()) };
}

/// What `key`'s jobs have spent so far (escrow and gas), with what is reserved.
pub fn spent(key: Option<&JsValue>) -> U256 {
    let Some(key) = key else { return U256::ZERO };
    SPENT.with(|s| {
        s.borrow()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .unwrap_or_default()
    })
}

/// Why a job costing `cost` is not allowed under `limits` (None: it is): the rule of both
/// `submit()` and `estimate()`.
pub fn refusal(
    limits: &Limits,
    key: Option<&JsValue>,
    cost: Cost,
) -> Option<(&'static str, String)> {
    let what = |c: Cost| {
        format!(
            "{} ether (payment {} ether + gas {} ether)",
            format_ether(c.total()),
            format_ether(c.payment),
            format_ether(c.gas)
        )
    };
    if let Some(max) = limits.max_per_job {
        if cost.total() > max {
            return Some((
                "maxPerJob",
                format!(
                    "the job costs up to {}, above config.limits.maxPerJob ({} ether)",
                    what(cost),
                    format_ether(max)
                ),
            ));
        }
    }
    if let Some(max) = limits.max_total {
        let before = spent(key);
        if before.saturating_add(cost.total()) > max {
            return Some((
                "maxTotal",
                format!(
                    "this client's jobs spent {} ether already (escrow and gas); {} more is above config.limits.maxTotal ({} ether)",
                    format_ether(before),
                    what(cost),
                    format_ether(max)
                ),
            ));
        }
    }
    None
}

/// A `SpendLimitError` naming the cap `cost` would exceed.
pub fn check(limits: &Limits, key: Option<&JsValue>, cost: Cost) -> Result<()> {
    match refusal(limits, key, cost) {
        None => Ok(()),
        Some((limit, message)) => {
            let d = Obj::new();
            d.set("limit", &limit)
                .set("payment", &bigint(cost.payment))
                .set("gasCost", &bigint(cost.gas))
                .set("total", &bigint(cost.total()));
            Err(
                SdkError::new(Code::SpendLimit, format!("{message}; nothing was sent"))
                    .with_details(d.into()),
            )
        }
    }
}

/// Reserves `cost` under the caps (its total, returned), or a `SpendLimitError` naming the cap.
pub fn reserve(limits: &Limits, key: Option<&JsValue>, cost: Cost) -> Result<U256> {
    check(limits, key, cost)?;
    add(key, cost.total(), true);
    Ok(cost.total())
}

/// Gives back a reservation whose job was not posted.
pub fn release(key: Option<&JsValue>, reserved: U256) {
    add(key, reserved, false);
}

/// Replaces a reservation by what the job spent: its escrow and its `postJob`'s gas.
pub fn posted(key: Option<&JsValue>, reserved: U256, escrow: U256, mined: &Mined) {
    release(key, reserved);
    add(key, escrow.saturating_add(gas_cost(mined)), true);
}

/// Counts the gas of a mined transaction the client sent for a job (`finalize`, `refund`).
pub fn paid_gas(client: &Client, mined: &Mined) {
    if let Ok((_, key)) = limits_of(client) {
        add(key.as_ref(), gas_cost(mined), true);
    }
}

fn gas_cost(mined: &Mined) -> U256 {
    mined.receipt.gas_used * mined.receipt.effective_gas_price
}

fn add(key: Option<&JsValue>, amount: U256, more: bool) {
    let Some(key) = key else { return };
    SPENT.with(|s| {
        let mut s = s.borrow_mut();
        match s.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) if more => *v = v.saturating_add(amount),
            Some((_, v)) => *v = v.saturating_sub(amount),
            None if more => s.push((key.clone(), amount)),
            None => {}
        }
    });
}
