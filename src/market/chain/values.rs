//! Values at the JS boundary: amounts are bigint wei (or a decimal string with a unit,
//! `'0.01 ether'`), job ids bigint, hashes and addresses `0x` hex, worker keys and signatures
//! base64 (as Sandrun workers write them), times unix seconds. Never floats for amounts: a
//! `number` is taken only where it is a small whole number (k, n, a job id, a deadline).
//! `parseEther`, `parseUnits` and `formatEther` are exported for JS.

use crate::core::boundary::error::{FieldProblem, SdkError};
use crate::core::boundary::js::ToJs;
use alloy_primitives::{Address, B256, U256};
use js_sys::BigInt;
use sandrun_chain::input;
use sandrun_chain::units;
use wasm_bindgen::prelude::*;

/// The largest integer a JS number holds exactly (2^53 - 1).
pub const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A U256 that crosses into JS as a bigint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wei(pub U256);

impl ToJs for Wei {
    fn to_js(&self) -> JsValue {
        bigint(self.0)
    }
}

/// An address crossing into JS, EIP-55 checksummed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr(pub Address);

impl ToJs for Addr {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(&self.0.to_checksum(None))
    }
}

/// A 32-byte hash crossing into JS as `0x` hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hash(pub B256);

impl ToJs for Hash {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(&self.0.to_string())
    }
}

/// A U256 as a JS bigint.
pub fn bigint(v: U256) -> JsValue {
    BigInt::new(&JsValue::from_str(&format!("{v:#x}")))
        .map(JsValue::from)
        .unwrap_or(JsValue::UNDEFINED)
}

/// A non-negative bigint, or a whole non-negative JS number up to 2^53 - 1, as U256. `what`
/// says what else is accepted, for the message.
fn whole(field: &str, v: &JsValue, what: &str) -> Result<U256, FieldProblem> {
    let bad = || FieldProblem::new(field, format!("must be {what}"));
    if v.is_bigint() {
        let digits = BigInt::from(v.clone())
            .to_string(16)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(bad)?;
        if digits.starts_with('-') {
            return Err(FieldProblem::new(field, "must not be negative"));
        }
        return U256::from_str_radix(&digits, 16)
            .map_err(|_| FieldProblem::new(field, "is above 2^256 - 1"));
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&n) => Ok(U256::from(n as u64)),
        _ => Err(bad()),
    }
}

/// An amount of wei: a bigint, or a decimal string with a unit (`'0.01 ether'`, `'1.5 gwei'`;
/// bare digits are wei). A JS number is refused: amounts of wei overflow its 53 bits.
pub fn amount(field: &str, v: &JsValue) -> Result<U256, FieldProblem> {
    if let Some(s) = v.as_string() {
        return units::parse_units(&s).map_err(|e| FieldProblem::new(field, e.to_string()));
    }
    if !v.is_bigint() {
        return Err(FieldProblem::new(
            field,
            "must be a bigint of wei or a string with a unit such as '0.01 ether'",
        ));
    }
    whole(field, v, "a bigint of wei")
}

/// A job id: a bigint, or a whole non-negative number.
pub fn job_id(field: &str, v: &JsValue) -> Result<U256, FieldProblem> {
    whole(field, v, "a job id (bigint or a whole number)")
}

/// A whole number within `0..=max` (k, n, confirmations, a deadline in unix seconds).
pub fn small(field: &str, v: &JsValue, max: u64) -> Result<u64, FieldProblem> {
    let n = whole(field, v, "a whole number")?;
    match u64::try_from(n) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(FieldProblem::new(field, format!("must be at most {max}"))),
    }
}

/// Unix seconds: a whole number or a `Date`.
pub fn unix_seconds(field: &str, v: &JsValue) -> Result<u64, FieldProblem> {
    if let Some(date) = v.dyn_ref::<js_sys::Date>() {
        let ms = date.get_time();
        if ms.is_finite() && ms >= 0.0 {
            return Ok((ms / 1000.0).floor() as u64);
        }
        return Err(FieldProblem::new(field, "is an invalid Date"));
    }
    small(field, v, u64::MAX)
}

/// An address (`0x` + 40 hex digits; mixed case must carry a valid EIP-55 checksum).
pub fn address(field: &str, s: &str) -> Result<Address, FieldProblem> {
    input::address(field, s).map_err(problem)
}

/// A 32-byte hash: `0x` + 64 hex digits, or the 64 hex digits alone (how Sandrun writes job
/// hashes and sha256s).
pub fn hash32(field: &str, s: &str) -> Result<B256, FieldProblem> {
    let prefixed;
    let s = if s.len() == 64 && !s.starts_with("0x") {
        prefixed = format!("0x{s}");
        &prefixed
    } else {
        s
    };
    input::bytes32(field, s).map_err(problem)
}

/// Base64 of exactly `len` bytes (a worker key: 32, a signature: 64).
pub fn base64(field: &str, s: &str, len: usize) -> Result<Vec<u8>, FieldProblem> {
    match sandrun_protocol::b64::decode(s) {
        Some(b) if b.len() == len => Ok(b),
        Some(b) => Err(FieldProblem::new(
            field,
            format!("must be base64 of {len} bytes, got {}", b.len()),
        )),
        None => Err(FieldProblem::new(field, "must be base64")),
    }
}

/// A check of the pure crate (naming the field) as a field problem.
pub fn problem(e: input::InputError) -> FieldProblem {
    let message = e.to_string();
    let message = message
        .strip_prefix(&format!("{}: ", e.field))
        .unwrap_or(&message)
        .to_string();
    FieldProblem::new(e.field, message)
}

/// A field problem as the ValidationError of operation `op`.
pub fn invalid(op: &'static str, p: FieldProblem) -> SdkError {
    SdkError::validation(vec![p]).op(op)
}

/// `'0.1'` ether → wei, exactly (decimal strings, never floats).
#[wasm_bindgen(js_name = parseEther)]
pub fn parse_ether(amount: String) -> Result<BigInt, JsValue> {
    units::parse_ether(&amount)
        .map(|v| BigInt::from(bigint(v)))
        .map_err(|e| invalid("parseEther", FieldProblem::new("amount", e.to_string())).into_js())
}

/// `'1.5 gwei'`, `'0.01 ether'`, `'21000'` (wei) → wei.
#[wasm_bindgen(js_name = parseUnits)]
pub fn parse_units(amount: String) -> Result<BigInt, JsValue> {
    units::parse_units(&amount)
        .map(|v| BigInt::from(bigint(v)))
        .map_err(|e| invalid("parseUnits", FieldProblem::new("amount", e.to_string())).into_js())
}

/// wei → ether as a decimal string without trailing zeros (`1500000000000000000n` → `'1.5'`).
#[wasm_bindgen(js_name = formatEther)]
pub fn format_ether(
    #[wasm_bindgen(unchecked_param_type = "bigint")] wei: JsValue,
) -> Result<String, JsValue> {
    whole("wei", &wei, "a bigint of wei")
        .map(units::format_ether)
        .map_err(|p| invalid("formatEther", p).into_js())
}
