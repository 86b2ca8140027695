//! The extension layer (feature `full`, npm `@sandrun/sdk/full`): plugins and middleware, pools of
//! workers, k-of-n consensus and the node-operator agent. It builds on the core's extension
//! points only (transport layers, `JobExtension`, `Execution`, `ClientHooks`); the core knows
//! none of it.

pub mod attach;
pub mod broker;
pub mod consensus;
pub mod operator;
pub mod plugins;
pub mod pool;
pub mod signature_search;

/// What the extension layer adds to the core at `setPlatform`: the faster signature search.
pub fn register() {
    crate::core::verify::install_port(&signature_search::TableSearch);
}
