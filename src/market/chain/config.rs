//! The `chain` section of `Sandrun.create()`: where the chain is (an EIP-1193 provider or an
//! HTTP JSON-RPC URL), who signs, which chain is expected, and the fee, gas and waiting policy.
//! Checked once at `Sandrun.create` (the core runs `check` for the section), read again when a
//! market is opened.

use super::values::{address, amount, small, MAX_SAFE};
use crate::core::boundary::error::FieldProblem;
use crate::core::boundary::js::method;
use crate::core::boundary::reader::FromJs;
use alloy_primitives::{Address, U256};
use sandrun_chain::tx::LocalSigner;
use wasm_bindgen::prelude::*;

/// `Sandrun.create({ chain })`: a provider or an RPC URL, and how transactions are sent.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "config.chain.")]
pub struct ChainConfig {
    /// An EIP-1193 provider: `window.ethereum`, or a wallet `Sandrun.wallets()` found. Give this
    /// or `rpcUrl`.
    #[js(ts = "Eip1193Provider")]
    pub provider: Option<JsValue>,
    /// An HTTP JSON-RPC endpoint. Read-only unless `privateKey` (or a node-managed `account`)
    /// is given.
    pub rpc_url: Option<String>,
    /// A secp256k1 private key (`0x` + 64 hex digits) that signs transactions here, in the SDK.
    pub private_key: Option<String>,
    /// The account to send from when the provider manages several (default: its first).
    pub account: Option<String>,
    /// The chain expected. A wallet on another chain is asked to switch
    /// (`wallet_switchEthereumChain`); otherwise calls fail with `WrongChainError`.
    #[js(ts = "number | bigint")]
    pub chain_id: Option<JsValue>,
    /// What `wallet_addEthereumChain` is given when the wallet does not know `chainId` (EIP-3085).
    #[js(ts = "AddEthereumChainParameter")]
    pub add_chain: Option<JsValue>,
    /// Blocks a transaction must be under before a sending call resolves (default 1).
    pub confirmations: Option<f64>,
    /// The most to pay per gas (`maxFeePerGas`; the gas price on a legacy chain). A chain that
    /// needs more fails the call before anything is sent.
    #[js(ts = "bigint | string")]
    pub max_fee_per_gas: Option<JsValue>,
    /// The `eth_feeHistory` reward percentile the priority fee is read at (default 50).
    pub priority_fee_percentile: Option<f64>,
    /// `maxFeePerGas` = the next base fee × this / 100 + the priority fee (default 200).
    pub base_fee_multiplier_percent: Option<f64>,
    /// Percent added to `eth_estimateGas` (default 20).
    pub gas_buffer_percent: Option<f64>,
    /// Pause between polls for receipts and logs, in ms (default 1000).
    pub poll_interval_ms: Option<f64>,
    /// How long a transaction may stay pending before its call fails with a `TimeoutError`, in
    /// ms (default 300000).
    pub timeout_ms: Option<f64>,
}

#[wasm_bindgen(typescript_custom_section)]
const CONFIG_TS: &'static str = r#"
/** EIP-3085's parameter, given to `wallet_addEthereumChain` as it is. */
export interface AddEthereumChainParameter {
  chainId?: string;
  chainName: string;
  rpcUrls: string[];
  nativeCurrency?: { name: string; symbol: string; decimals: number };
  blockExplorerUrls?: string[];
  iconUrls?: string[];
}
export interface SandrunConfig {
  /** The chain the marketplace contract is on (`@sandrun/sdk/full`): `{ provider }` or `{ rpcUrl, privateKey? }`. */
  chain?: ChainConfig;
}
export interface ResolvedConfig {
  chain?: ChainConfig;
}
"#;

/// Where requests go.
#[derive(Clone)]
pub enum Source {
    Provider(JsValue),
    Url(String),
}

/// Fee policy (the pure crate's `FeePolicy` is built from it at each quote).
#[derive(Debug, Clone)]
pub struct FeeSettings {
    pub cap: Option<U256>,
    pub percentile: f64,
    pub multiplier_percent: u32,
}

/// The section, checked, with defaults applied.
#[derive(Clone)]
pub struct Settings {
    pub source: Source,
    pub account: Option<Address>,
    pub chain_id: Option<u64>,
    pub add_chain: Option<JsValue>,
    pub confirmations: u64,
    pub fees: FeeSettings,
    pub gas_buffer_percent: u32,
    pub poll_ms: f64,
    pub timeout_ms: f64,
}

/// The most confirmations a call may wait for (a day of 12-second blocks).
pub const MAX_CONFIRMATIONS: u64 = 7_200;

/// The section's problems (the core's check at `Sandrun.create`).
pub fn check(v: &JsValue) -> Vec<FieldProblem> {
    read(v).err().unwrap_or_default()
}

/// The section → settings and the local key, or every problem found.
pub fn read(v: &JsValue) -> Result<(Settings, Option<LocalSigner>), Vec<FieldProblem>> {
    let c = ChainConfig::from_js(v).map_err(|e| e.context.errors)?;
    let mut problems = Vec::new();
    let mut bad = |field: &str, message: String| {
        problems.push(FieldProblem::new(format!("config.chain.{field}"), message))
    };
    let source = match (&c.provider, &c.rpc_url) {
        (Some(p), None) => {
            if method(p, "request").is_none() {
                bad(
                    "provider",
                    "must be an EIP-1193 provider (an object with request({ method, params }))"
                        .into(),
                );
            }
            Source::Provider(p.clone())
        }
        (None, Some(url)) => {
            if let Err(m) = rpc_url(url) {
                bad("rpcUrl", m);
            }
            Source::Url(url.trim().trim_end_matches('/').to_string())
        }
        (Some(_), Some(_)) => {
            bad("provider", "give provider or rpcUrl, not both".into());
            Source::Url(String::new())
        }
        (None, None) => {
            bad(
                "rpcUrl",
                "give rpcUrl (an HTTP JSON-RPC URL) or provider (EIP-1193)".into(),
            );
            Source::Url(String::new())
        }
    };
    // The key is checked but never echoed.
    let signer = match c.private_key.as_deref().map(LocalSigner::from_hex) {
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            bad(
                "privateKey",
                "is not a secp256k1 private key (0x + 64 hex digits)".into(),
            );
            None
        }
        None => None,
    };
    let account = c.account.as_deref().and_then(|a| {
        address("config.chain.account", a)
            .map_err(|p| bad("account", p.message))
            .ok()
    });
    if let (Some(a), Some(s)) = (account, &signer) {
        if a != s.address() {
            bad(
                "account",
                "differs from the privateKey's address (leave it out)".into(),
            );
        }
    }
    let chain_id = c.chain_id.as_ref().and_then(|v| {
        small("config.chain.chainId", v, MAX_SAFE as u64)
            .ok()
            .filter(|id| *id > 0)
            .or_else(|| {
                bad("chainId", "must be a positive whole number".into());
                None
            })
    });
    if let Some(p) = &c.add_chain {
        if !p.is_object() {
            bad("addChain", "must be an object (EIP-3085)".into());
        }
    }
    let mut whole = |field: &str, v: Option<f64>, min: f64, max: f64, default: f64| match v {
        None => default,
        Some(n) if n.fract() == 0.0 && (min..=max).contains(&n) => n,
        Some(_) => {
            bad(field, format!("must be a whole number from {min} to {max}"));
            default
        }
    };
    let confirmations = whole(
        "confirmations",
        c.confirmations,
        1.0,
        MAX_CONFIRMATIONS as f64,
        1.0,
    ) as u64;
    let percentile = whole(
        "priorityFeePercentile",
        c.priority_fee_percentile,
        0.0,
        100.0,
        50.0,
    );
    let multiplier_percent = whole(
        "baseFeeMultiplierPercent",
        c.base_fee_multiplier_percent,
        100.0,
        1000.0,
        200.0,
    ) as u32;
    let gas_buffer_percent =
        whole("gasBufferPercent", c.gas_buffer_percent, 0.0, 400.0, 20.0) as u32;
    let poll_ms = whole(
        "pollIntervalMs",
        c.poll_interval_ms,
        10.0,
        600_000.0,
        1000.0,
    );
    let timeout_ms = whole("timeoutMs", c.timeout_ms, 100.0, MAX_SAFE, 300_000.0);
    let cap = c.max_fee_per_gas.as_ref().and_then(|v| {
        amount("config.chain.maxFeePerGas", v)
            .map_err(|p| bad("maxFeePerGas", p.message))
            .ok()
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let settings = Settings {
        source,
        account,
        chain_id,
        add_chain: c.add_chain,
        confirmations,
        fees: FeeSettings {
            cap,
            percentile,
            multiplier_percent,
        },
        gas_buffer_percent,
        poll_ms,
        timeout_ms,
    };
    Ok((settings, signer))
}

/// An HTTP(S) URL with a host. Queries are allowed (some providers put a key there); WebSocket
/// URLs are not taken yet (`eth_subscribe` is not implemented: logs are polled).
fn rpc_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    if url.starts_with("ws://") || url.starts_with("wss://") {
        return Err("WebSocket URLs are not supported yet: give the node's HTTP URL".into());
    }
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("must start with http:// or https://")?;
    if rest.split(['/', '?']).next().unwrap_or("").is_empty() {
        return Err("has no host".into());
    }
    if url.contains([' ', '"', '\\']) {
        return Err("must not contain spaces, quotes or backslashes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rpc_url;

    #[test]
    fn rpc_urls() {
        assert!(rpc_url("http://127.0.0.1:8545").is_ok());
        assert!(rpc_url("https://node.example/v3/key?x=1").is_ok());
        assert!(rpc_url("ws://127.0.0.1:8545")
            .unwrap_err()
            .contains("WebSocket"));
        assert!(rpc_url("127.0.0.1:8545").is_err());
        assert!(rpc_url("http:///x").is_err());
        assert!(rpc_url("http://a b").is_err());
    }
}
