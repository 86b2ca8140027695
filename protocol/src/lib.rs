//! The pure parts of the Sandrun wire protocol, shared by the SDK (compiled to wasm) and the dev
//! node: what the manifest may contain, how a job hash and a signed result message are formed, how
//! the worker prints CPU time, how log text is recovered and how output patterns match.
//!
//! Nothing here does I/O. Ed25519 lives behind the `ed25519` feature because the wasm SDK verifies
//! signatures with WebCrypto (free in bundle size) and only needs the message bytes from here.

pub mod b64;
pub mod cpu;
pub mod glob;
pub mod hash;
pub mod ids;
pub mod manifest;
pub mod map;
pub mod signing;
pub mod status;
pub mod stream;
pub mod text;
