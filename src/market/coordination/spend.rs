//! The client's spend caps (`config.limits`), enforced before anything is sent: one job's escrow
//! against `maxPerJob`, and what this client's jobs put in escrow so far plus this one against
//! `maxTotal`. A job's escrow is reserved before its `postJob` is sent (two submits at once cannot
//! both slip under the cap) and released if nothing was posted. The gas of the submitter's
//! transactions is shown by `estimate()` but not counted: it is not known before they are mined.

use super::config::Limits;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::Obj;
use crate::market::chain::values::bigint;
use alloy_primitives::U256;
use sandrun_chain::units::format_ether;
use std::cell::RefCell;
use wasm_bindgen::JsValue;

thread_local! {
    /// Escrow reserved so far, per `limits` object of a client's config (the same object for
    /// every job of a client; a client without caps is not tracked).
    static SPENT: RefCell<Vec<(JsValue, U256)>> = const { RefCell::new(Vec::new()) };
}

/// What `key`'s jobs have put in escrow so far.
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

/// Why `payment` is not allowed under `limits` (None: it is).
pub fn refusal(
    limits: &Limits,
    key: Option<&JsValue>,
    payment: U256,
) -> Option<(&'static str, String)> {
    if let Some(max) = limits.max_per_job {
        if payment > max {
            return Some((
                "maxPerJob",
                format!(
                    "the payment ({} ether) is above config.limits.maxPerJob ({} ether)",
                    format_ether(payment),
                    format_ether(max)
                ),
            ));
        }
    }
    if let Some(max) = limits.max_total {
        let before = spent(key);
        if before.saturating_add(payment) > max {
            return Some((
                "maxTotal",
                format!(
                    "this client's jobs put {} ether in escrow already; {} ether more is above config.limits.maxTotal ({} ether)",
                    format_ether(before),
                    format_ether(payment),
                    format_ether(max)
                ),
            ));
        }
    }
    None
}

/// A `SpendLimitError` naming the cap `payment` would exceed.
pub fn check(limits: &Limits, key: Option<&JsValue>, payment: U256) -> Result<()> {
    match refusal(limits, key, payment) {
        None => Ok(()),
        Some((limit, message)) => {
            let d = Obj::new();
            d.set("limit", &limit).set("payment", &bigint(payment));
            Err(
                SdkError::new(Code::SpendLimit, format!("{message}; nothing was sent"))
                    .with_details(d.into()),
            )
        }
    }
}

/// Reserves `payment` under the caps, or a `SpendLimitError` naming the cap.
pub fn reserve(limits: &Limits, key: Option<&JsValue>, payment: U256) -> Result<()> {
    check(limits, key, payment)?;
    add(key, payment, true);
    Ok(())
}

/// Gives back a reservation whose job was not posted.
pub fn release(key: Option<&JsValue>, payment: U256) {
    add(key, payment, false);
}

fn add(key: Option<&JsValue>, payment: U256, more: bool) {
    let Some(key) = key else { return };
    SPENT.with(|s| {
        let mut s = s.borrow_mut();
        match s.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) if more => *v = v.saturating_add(payment),
            Some((_, v)) => *v = v.saturating_sub(payment),
            None if more => s.push((key.clone(), payment)),
            None => {}
        }
    });
}
