//! Chain failures → the SDK's typed errors: a revert's data decoded into `RevertError`
//! (`errorName`, `args`, message `Name(arg, …)`), EIP-1193 code 4001 → `UserRejectedError`,
//! another chain → `WrongChainError`, too little ether → `InsufficientFundsError`, a nonce mined
//! under another hash → `ReplacedError`; the rest `ChainError` with the node's code and message.

use super::provider::RpcError;
use super::values::bigint;
use crate::core::boundary::error::{Code, SdkError};
use crate::core::boundary::js::{prop, Obj, ToJs};
use alloy_primitives::{hex, Address, B256, U256};
use sandrun_chain::replacement::Replacement;
use sandrun_chain::revert::decode_revert;
use wasm_bindgen::JsValue;

/// Adds `key: value` to the error's details (the keys its JS error gets).
pub fn detail(mut e: SdkError, key: &str, value: &dyn ToJs) -> SdkError {
    let details = e
        .details
        .take()
        .filter(|d| d.is_object())
        .unwrap_or_else(|| js_sys::Object::new().into());
    let _ = js_sys::Reflect::set(&details, &key.into(), &value.to_js());
    e.with_details(details)
}

/// The transaction an error is about (`txHash` on the JS error).
pub fn with_tx(e: SdkError, hash: B256) -> SdkError {
    detail(e, "txHash", &hash.to_string())
}

/// The error of a call whose transaction was sent: `txHash` added unless it names one already
/// (the caller must not lose a transaction that may still be mined).
pub fn about_tx(e: SdkError, hash: B256) -> SdkError {
    let named = e
        .details
        .as_ref()
        .is_some_and(|d| prop(d, "txHash").is_some());
    if named {
        e
    } else {
        with_tx(e, hash)
    }
}

/// A failed request of `method` as a typed error.
pub fn rpc(method: &str, e: RpcError) -> SdkError {
    let (code, message, data) = match e {
        RpcError::Transport(e) => return e,
        RpcError::Answer {
            code,
            message,
            data,
        } => (code, message, data),
    };
    if code == Some(4001) {
        return SdkError::new(
            Code::Rejected,
            format!("{method}: the user rejected the request in the wallet"),
        )
        .cause(message);
    }
    if let Some(bytes) = data.as_ref().and_then(revert_bytes) {
        return reverted(&bytes);
    }
    let lower = message.to_ascii_lowercase();
    if lower.contains("insufficient funds") {
        return SdkError::new(
            Code::InsufficientFunds,
            format!(
                "{method}: the account cannot pay for the transaction (value plus gas): {message}"
            ),
        )
        .cause(message);
    }
    if code == Some(3) || lower.contains("execution reverted") {
        // A revert without data the SDK can decode.
        return detail(
            SdkError::new(Code::Reverted, format!("{method}: {message}")),
            "errorName",
            &"",
        );
    }
    let e = match code {
        // EIP-1193: the provider is disconnected (from every chain, or from this one).
        Some(4900) | Some(4901) => SdkError::new(
            Code::Chain,
            format!("{method}: the provider is disconnected: {message}"),
        )
        .retryable(true),
        Some(4200) => SdkError::new(
            Code::Unsupported,
            format!("{method}: the provider does not support it: {message}"),
        ),
        Some(c) => SdkError::new(Code::Chain, format!("{method}: {message} (code {c})")),
        // No EIP-1193 code: the provider itself failed (a wallet's fetch to its node, say),
        // which asking again may mend; a wallet's refusals carry codes.
        None => SdkError::new(Code::Chain, format!("{method}: {message}")).retryable(true),
    };
    match code {
        Some(c) => detail(e.cause(message), "rpcCode", &(c as f64)),
        None => e.cause(message),
    }
}

/// Revert data wherever providers put it: the error's `data` as hex, or nested in `data.data`
/// or `data.originalError.data` (wallets wrap the node's error).
fn revert_bytes(data: &JsValue) -> Option<Vec<u8>> {
    if let Some(s) = data.as_string() {
        let digits = s.strip_prefix("0x")?;
        let bytes = hex::decode(digits).ok()?;
        return (bytes.len() >= 4).then_some(bytes);
    }
    ["data", "originalError"]
        .iter()
        .filter_map(|k| prop(data, k))
        .find_map(|inner| {
            if inner.is_object() {
                prop(&inner, "data").and_then(|d| revert_bytes(&d))
            } else {
                revert_bytes(&inner)
            }
        })
}

/// Revert data → `RevertError`: `errorName`, `args` by name (bigint for integers, strings for
/// addresses and bytes), the raw `data`; the message is `Name(arg, …)`.
pub fn reverted(data: &[u8]) -> SdkError {
    let raw = format!("0x{}", hex::encode(data));
    let Some(r) = decode_revert(data) else {
        let e = SdkError::new(
            Code::Reverted,
            format!("the contract reverted with data the SDK does not know ({raw})"),
        );
        return detail(detail(e, "errorName", &""), "data", &raw);
    };
    let args = Obj::new();
    for a in &r.args {
        let is_int = a.ty.starts_with("uint") || a.ty.starts_with("int");
        let value = if is_int {
            js_sys::BigInt::new(&JsValue::from_str(&a.value))
                .map(JsValue::from)
                .unwrap_or_else(|_| JsValue::from_str(&a.value))
        } else {
            JsValue::from_str(&a.value)
        };
        args.set(&a.name, &value);
    }
    let d = Obj::new();
    d.set("errorName", &r.name.as_str())
        .set("args", &JsValue::from(args))
        .set("data", &raw);
    SdkError::new(Code::Reverted, r.to_string()).with_details(d.into())
}

/// The provider is on `actual`, not `expected`.
pub fn wrong_chain(expected: u64, actual: u64, why: &str) -> SdkError {
    let d = Obj::new();
    d.set("expectedChainId", &bigint(U256::from(expected)))
        .set("chainId", &bigint(U256::from(actual)));
    SdkError::new(
        Code::WrongChain,
        format!("the provider is on chain {actual}, not the expected {expected}{why}"),
    )
    .with_details(d.into())
}

/// No code at the address (a wrong address, or another chain).
pub fn no_contract(address: Address, chain_id: u64) -> SdkError {
    detail(
        detail(
            SdkError::new(
                Code::Chain,
                format!(
                    "no contract at {} on chain {chain_id}",
                    address.to_checksum(None)
                ),
            ),
            "reason",
            &"no-contract",
        ),
        "address",
        &address.to_checksum(None),
    )
}

/// Code at the address that does not answer as SandrunMarket.
pub fn not_a_market(address: Address, why: &str) -> SdkError {
    detail(
        SdkError::new(
            Code::Chain,
            format!(
                "the contract at {} is not a SandrunMarket ({why})",
                address.to_checksum(None)
            ),
        ),
        "reason",
        &"not-a-market",
    )
}

/// The nonce of `original` was mined under `replacement`.
pub fn replaced(original: B256, how: Replacement, replacement: B256) -> SdkError {
    let e = SdkError::new(
        Code::Replaced,
        format!(
            "transaction {original} was {} by {replacement}",
            match how {
                Replacement::Cancelled => "cancelled",
                _ => "replaced",
            }
        ),
    );
    let e = detail(e, "reason", &how.as_str());
    with_tx(detail(e, "replacement", &replacement.to_string()), original)
}

/// The node no longer knows the transaction and its nonce was not used.
pub fn dropped(hash: B256) -> SdkError {
    let e = SdkError::new(
        Code::Chain,
        format!("transaction {hash} was dropped: the node no longer knows it and its nonce is unused; send it again"),
    )
    .retryable(true);
    with_tx(detail(e, "reason", &"dropped"), hash)
}

/// The client cannot send: an RPC URL without a key or an account.
pub fn read_only() -> SdkError {
    SdkError::field(
        "config.chain",
        "read-only: give privateKey (or a provider with accounts) to send transactions",
    )
}

/// A value that answered with something else than JSON-RPC says.
pub fn bad_answer(method: &str, why: &str) -> SdkError {
    SdkError::new(
        Code::Protocol,
        format!("{method}: unexpected answer ({why})"),
    )
}
