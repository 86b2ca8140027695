//! Talking to servers: a call goes through the client's layers (plugins add them) to the
//! platform's request; error answers are read into typed errors; every answer is read into the
//! shape asked for.

pub mod base;
pub mod call;
pub mod http;
pub mod layer;
pub mod status;

pub use call::{Body, Call, CallOpts, Reply};
pub use http::Http;
pub use layer::{Fut, Layer, Next, Stack};
