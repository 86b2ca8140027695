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
