//! Sandrun's chain layer without I/O, for the SDK (wasm32) and native tools: everything is
//! plain values in and out (hex strings, bytes, `U256`, `Address`); sending, polling and
//! waiting are the caller's (the SDK's EIP-1193 requests).
//!
//! - [`market`]: calldata for every SandrunMarket function and the deployment code, inputs
//!   checked first; the views' return data decoded. Types come from `sol!` reading the
//!   committed ABI (contracts/out/SandrunMarket.json).
//! - [`events`]: typed decoding of every event from a log; a settlement from a receipt.
//! - [`revert`]: revert data → `Name(arg, …)` with the arguments' names, types and values.
//! - [`tx`] (feature `signer`): EIP-1559 and legacy EIP-155 transactions signed with a local
//!   key (RFC 6979), raw bytes and hash.
//! - [`fees`]: EIP-1559 fees from `eth_feeHistory`, a legacy gas price, a gas-limit buffer.
//! - [`units`]: `parse_ether`, `parse_units("1.5 gwei")`, `format_ether`: decimal strings,
//!   never floats.
//! - [`replacement`]: a transaction mined under another hash: repriced, cancelled or replaced.
//! - [`input`]: address, bytes32, k-of-n and deadline checks that name the field.

pub mod events;
pub mod fees;
pub mod input;
pub mod market;
pub mod replacement;
pub mod revert;
#[cfg(feature = "signer")]
pub mod tx;
pub mod units;
