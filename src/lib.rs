//! Sandrun SDK: a fluent, typed API to Sandrun workers, compiled to WebAssembly for browsers and
//! Node.js. The modules follow a job's path:
//!
//! `builder` (JobBuilder) → `spec` (the job as data, validation) → `package` (tar.gz, manifest,
//! job hash) → `transport` (HTTP and log stream through the host platform) → `execution` (status,
//! logs, downloads) → `verify` (hash, Ed25519 signature, outputs).
//!
//! Feature `full` (default) adds plugins and middleware (`plugins`), pools, k-of-n consensus
//! and nodes (`pool`, `consensus`, `node`); without it the build is the core SDK (npm
//! `@sandrun/sdk`; the full build is `@sandrun/sdk/full`).
//!
//! No panic may cross into JS: failures are `SdkError`s, which become instances of the JS error
//! classes (`js/errors.js`).

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// SdkError carries its whole context (attempt, plugin, thrown JS value): errors are rare, and
// boxing them would cost code size for no measurable gain.
#![allow(clippy::result_large_err)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod builder;
pub mod client;
pub mod config;
#[cfg(feature = "full")]
pub mod consensus;
pub mod convert;
pub mod error;
pub mod execution;
#[cfg(feature = "full")]
pub mod node;
pub mod package;
pub mod platform;
#[cfg(feature = "full")]
pub mod plugins;
#[cfg(feature = "full")]
pub mod pool;
pub mod spec;
pub mod transport;
pub mod verify;

pub use builder::JobBuilder;
pub use client::Sandrun;
pub use execution::{JobExecution, LogStream};
