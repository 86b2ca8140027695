//! The two config sections the paid job reads: `market` (the SandrunMarket's address, or
//! `{ address, fromBlock }` with its deployment block) and `limits` (`{ maxPerJob, maxTotal }`,
//! amounts like `payment()`'s). Both are checked at `Sandrun.create`; the caps are enforced
//! before anything of a paid job is sent.

use crate::core::boundary::error::{FieldProblem, Result, SdkError};
use crate::core::boundary::js::entries;
use crate::core::client::Client;
use crate::market::chain::values::{address, amount};
use alloy_primitives::{Address, U256};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const CONFIG_TS: &'static str = r#"
/**
 * Spend caps of a client's paid market jobs (`@sandrun/sdk/full`), each a bigint of wei or a
 * string with a unit. A job's cost is its payment plus the gas of the transactions this client
 * sends for it (`postJob` and `finalize`, at the fee the wallet will pay).
 */
export interface SpendLimits {
  /** The most one job may cost: its payment plus the estimated gas of `postJob` and `finalize` (as `estimate().total`), checked before anything is sent. */
  maxPerJob?: Amount;
  /** The most all of this client's jobs may cost together: what they put in escrow plus the gas their mined transactions used (from the receipts), plus the next job's estimated cost. */
  maxTotal?: Amount;
}
/** Where the market is, and the block it was deployed in (where every read of its logs starts). */
export interface MarketLocation {
  /** The SandrunMarket contract's address. */
  address: string;
  /** The block the contract was deployed in (`.sandrun/stack.json`'s `marketBlock`). Without it, the client finds it once (about log2(head) `eth_getCode` calls) and keeps it. */
  fromBlock?: number;
}
export interface SandrunConfig {
  /** The SandrunMarket contract: its address, or `{ address, fromBlock }`. Jobs with `.payment()` go to it (needs `chain` and `ipfs`). */
  market?: string | MarketLocation;
  /** Spend caps, enforced before anything is sent. */
  limits?: SpendLimits;
}
export interface ResolvedConfig {
  market?: string | MarketLocation;
  limits?: SpendLimits;
}
"#;

/// The client's spend caps (none: no cap).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub max_per_job: Option<U256>,
    pub max_total: Option<U256>,
}

/// The `market` section: where the contract is, and its deployment block when given.
#[derive(Debug, Clone, Copy)]
pub struct MarketLocation {
    pub address: Address,
    pub from_block: Option<u64>,
}

pub fn check_market(v: &JsValue) -> Vec<FieldProblem> {
    market_location(v).err().unwrap_or_default()
}

pub fn check_limits(v: &JsValue) -> Vec<FieldProblem> {
    limits(v).err().unwrap_or_default()
}

fn market_location(v: &JsValue) -> std::result::Result<MarketLocation, Vec<FieldProblem>> {
    if let Some(s) = v.as_string() {
        return address("config.market", &s)
            .map(|address| MarketLocation {
                address,
                from_block: None,
            })
            .map_err(|p| vec![p]);
    }
    if !v.is_object() {
        return Err(vec![FieldProblem::new(
            "config.market",
            "must be the market contract's address (0x + 40 hex digits) or { address, fromBlock }",
        )]);
    }
    let mut problems = Vec::new();
    let mut at = None;
    let mut from_block = None;
    for (key, value) in entries(v) {
        let field = format!("config.market.{key}");
        match key.as_str() {
            "address" => match value.as_string() {
                Some(s) => match address(&field, &s) {
                    Ok(a) => at = Some(a),
                    Err(p) => problems.push(p),
                },
                None => problems.push(FieldProblem::new(field, "must be 0x + 40 hex digits")),
            },
            "fromBlock" if value.is_undefined() => {}
            "fromBlock" => match block_number(&value) {
                Some(n) => from_block = Some(n),
                None => problems.push(FieldProblem::new(
                    field,
                    "must be a block number (a whole number >= 0): the block the market was deployed in",
                )),
            },
            _ => problems.push(FieldProblem::new(
                field,
                "is not an option (expected one of: address, fromBlock)",
            )),
        }
    }
    if at.is_none() && !problems.iter().any(|p| p.field == "config.market.address") {
        problems.push(FieldProblem::new(
            "config.market.address",
            "is required: the market contract's address",
        ));
    }
    match (at, problems.is_empty()) {
        (Some(address), true) => Ok(MarketLocation {
            address,
            from_block,
        }),
        _ => Err(problems),
    }
}

/// A block number as JS gives it: a safe whole number, or a bigint.
fn block_number(v: &JsValue) -> Option<u64> {
    if let Some(n) = v.as_f64() {
        let safe = n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0;
        return safe.then_some(n as u64);
    }
    if v.is_bigint() {
        return u64::try_from(v.clone()).ok();
    }
    None
}

fn limits(v: &JsValue) -> std::result::Result<Limits, Vec<FieldProblem>> {
    if !v.is_object() {
        return Err(vec![FieldProblem::new(
            "config.limits",
            "must be an object { maxPerJob?, maxTotal? }",
        )]);
    }
    let mut out = Limits::default();
    let mut problems = Vec::new();
    for (key, value) in entries(v) {
        let field = format!("config.limits.{key}");
        let slot = match key.as_str() {
            "maxPerJob" => &mut out.max_per_job,
            "maxTotal" => &mut out.max_total,
            _ => {
                problems.push(FieldProblem::new(
                    field,
                    "is not an option (expected one of: maxPerJob, maxTotal)",
                ));
                continue;
            }
        };
        if value.is_undefined() {
            continue;
        }
        match amount(&field, &value) {
            Ok(a) => *slot = Some(a),
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The market's location from a client's config; a clear error when there is none.
pub fn market_location_of(client: &Client) -> Result<MarketLocation> {
    let v = client.config.section("market").ok_or_else(|| {
        SdkError::field(
            "config.market",
            "a job with .payment() goes to the market: Sandrun.create({ chain, ipfs, market: '0x…' })",
        )
    })?;
    market_location(v).map_err(SdkError::validation)
}

/// The market's address from a client's config; a clear error when there is none.
pub fn market_of(client: &Client) -> Result<Address> {
    market_location_of(client).map(|m| m.address)
}

/// The client's caps and the JS object they came from (the running total is kept per object:
/// see `spend.rs`).
pub fn limits_of(client: &Client) -> Result<(Limits, Option<JsValue>)> {
    match client.config.section("limits") {
        None => Ok((Limits::default(), None)),
        Some(v) => Ok((limits(v).map_err(SdkError::validation)?, Some(v.clone()))),
    }
}
