//! The two config sections the paid job reads: `market` (the SandrunMarket's address) and
//! `limits` (`{ maxPerJob, maxTotal }`, amounts like `payment()`'s). Both are checked at
//! `Sandrun.create`; the caps are enforced before anything of a paid job is sent.

use crate::core::boundary::error::{FieldProblem, Result, SdkError};
use crate::core::boundary::js::entries;
use crate::core::client::Client;
use crate::market::chain::values::{address, amount};
use alloy_primitives::{Address, U256};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const CONFIG_TS: &'static str = r#"
/** Spend caps of a client's paid market jobs (`@sandrun/sdk/full`), each a bigint of wei or a string with a unit. */
export interface SpendLimits {
  /** The most one job may put in escrow. */
  maxPerJob?: Amount;
  /** The most all of this client's jobs may put in escrow together. */
  maxTotal?: Amount;
}
export interface SandrunConfig {
  /** The SandrunMarket contract's address: jobs with `.payment()` go to it (needs `chain` and `ipfs`). */
  market?: string;
  /** Spend caps, enforced before anything is sent. */
  limits?: SpendLimits;
}
export interface ResolvedConfig {
  market?: string;
  limits?: SpendLimits;
}
"#;

/// The client's spend caps (none: no cap).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub max_per_job: Option<U256>,
    pub max_total: Option<U256>,
}

pub fn check_market(v: &JsValue) -> Vec<FieldProblem> {
    market_address(v).err().into_iter().collect()
}

pub fn check_limits(v: &JsValue) -> Vec<FieldProblem> {
    limits(v).err().unwrap_or_default()
}

fn market_address(v: &JsValue) -> std::result::Result<Address, FieldProblem> {
    match v.as_string() {
        Some(s) => address("config.market", &s),
        None => Err(FieldProblem::new(
            "config.market",
            "must be the market contract's address (0x + 40 hex digits)",
        )),
    }
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

/// The market's address from a client's config; a clear error when there is none.
pub fn market_of(client: &Client) -> Result<Address> {
    let v = client.config.section("market").ok_or_else(|| {
        SdkError::field(
            "config.market",
            "a job with .payment() goes to the market: Sandrun.create({ chain, ipfs, market: '0x…' })",
        )
    })?;
    market_address(v).map_err(|p| SdkError::validation(vec![p]))
}

/// The client's caps and the JS object they came from (the running total is kept per object:
/// see `spend.rs`).
pub fn limits_of(client: &Client) -> Result<(Limits, Option<JsValue>)> {
    match client.config.section("limits") {
        None => Ok((Limits::default(), None)),
        Some(v) => Ok((limits(v).map_err(SdkError::validation)?, Some(v.clone()))),
    }
}
