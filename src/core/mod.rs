//! The core layer: configuration, the job as data, packaging, the transport and the worker
//! actions, executions and their verification, and the extension points the layers above use.
//! It knows nothing of plugins, pools, consensus or the market. Within it, each module depends
//! only on those listed before it.

pub mod actions;
pub mod boundary;
pub mod builder;
pub mod client;
pub mod config;
pub mod execution;
pub mod extension;
pub mod package;
pub mod sandrun;
pub mod spec;
pub mod submit;
pub mod transport;
pub mod verify;
