//! The marketplace contract over EIP-1193 (feature `chain`, npm `@sandrun/sdk/full`).
//!
//! JSON-RPC requests are built and read here, in Rust, and sent through one EIP-1193
//! `request({ method, params })`: a wallet's provider (`chain: { provider }`, or one
//! `Sandrun.wallets()` found through EIP-6963), or an HTTP endpoint wrapped as one
//! (`chain: { rpcUrl }`, on the core transport, so plugins apply). Calldata, decoding, signing,
//! fees and units come from the pure crate `sandrun-chain`; alloy's provider stack is not used
//! (248 KB gzip measured, `../shared/design/toolchain.md`).
//!
//! Modules, each using only those listed before it:
//! - `values`: bigint ↔ U256, amounts, job ids, hashes, base64 keys; `parseEther`/`formatEther`;
//! - `config`: the `chain` section of `Sandrun.create()`, checked at `create`;
//! - `provider`: the EIP-1193 port and the HTTP JSON-RPC provider;
//! - `errors`: failures → typed errors (revert data, 4001, wrong chain, insufficient funds);
//! - `log_ranges`: `eth_getLogs` ranges split when a provider refuses their size;
//! - `rpc`: typed JSON-RPC calls (hex quantities, never floats);
//! - `signer`: the local key and its nonces for concurrent sends;
//! - `connection`: a connected chain (provider, expected chain id, account, wallet events);
//! - `deployment`: the block a contract was deployed in (where its log reads start);
//! - `fees`: EIP-1559 fees from `eth_feeHistory` under the user's cap, legacy fallback;
//! - `send`: estimate, fees, sign or send, confirmations, replacement, speed-up and cancel;
//! - `events`: decoded contract logs as JS objects, and the indexed-argument filters;
//! - `watch`: `eth_getLogs` polling with back-fill, de-duplication and reorg reports;
//! - `contract`: SandrunMarket's calls and views as Rust methods (what issue 11 builds on);
//! - `inputs`: what the `Market` methods take, read and checked before anything is sent;
//! - `results`: what the `Market` methods resolve to (receipts, settlements, job and node state);
//! - `market`: the `Market` class JS holds; `sandrun.market()`, `sandrun.deployMarket()`;
//! - `wallets`: `Sandrun.wallets()`, EIP-6963 discovery in browsers.

pub mod values;

pub mod config;
pub mod provider;

pub mod errors;
pub mod log_ranges;
pub mod rpc;

pub mod signer;

pub mod connection;
pub mod deployment;
pub mod fees;

pub mod send;

pub mod events;
pub mod watch;

pub mod contract;
pub mod inputs;
pub mod results;

pub mod market;
pub mod wallets;

/// What this layer adds to the core when the module is set up: the `chain` config section.
pub fn register() {
    crate::core::config::add_section(crate::core::config::Section {
        key: "chain",
        check: config::check,
    });
}
