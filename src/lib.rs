//! Sandrun SDK: a fluent, typed API to Sandrun workers and the Sandrun marketplace, compiled to
//! WebAssembly for browsers and Node.js. Layers, each depending only on those below it
//! (`docs/architecture.md` has the picture):
//!
//! - `sandrun-protocol` (crate `protocol/`): the wire protocol's pure parts, shared with the dev
//!   node;
//! - `core`: configuration, the job as data, packaging, transport, worker actions, executions and
//!   their verification, and the extension points above it;
//! - `ext` (feature `ext`): plugins and middleware, pools, k-of-n consensus, the node-operator
//!   agent;
//! - `market` (features `chain`, `ipfs`, `market`): the contract over EIP-1193, IPFS, and the paid
//!   coordinated job;
//! - `entries`: what each npm entry exports beyond the layers (`@sandrun/sdk` is the core build,
//!   `@sandrun/sdk/full` the full one).
//!
//! Cargo features choose which layers are compiled; no file of a layer has a `cfg(feature)`.
//! No panic may cross into JS: failures are `SdkError`s, which become instances of the JS error
//! classes (`js/errors.js`).

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// SdkError carries its whole context (attempt, plugin, thrown JS value): errors are rare, and
// boxing them would cost code size for no measurable gain.
#![allow(clippy::result_large_err)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub mod core;
mod entries;
#[cfg(feature = "ext")]
pub mod ext;
#[cfg(any(feature = "chain", feature = "ipfs"))]
pub mod market;

pub use core::builder::JobBuilder;
pub use core::execution::{JobExecution, LogStream};
pub use core::sandrun::Sandrun;
pub use entries::set_platform;
#[cfg(feature = "ext")]
pub use ext::plugins;
