//! A small hand-written HTTP/1.1 server (and the client the pool uses to reach workers) over
//! tokio sockets. Hand-written so that the `--compat` quirks of the real worker (case-sensitive
//! header names, one request per connection without a `Connection` header, `Unknown` reasons, the
//! truncated 413) can be reproduced exactly, while the default mode behaves like a well-mannered
//! server (keep-alive, CORS preflight, chunked request bodies, `Expect: 100-continue`).

pub mod chunked;
mod client;
pub mod head;
mod io;
mod message;
mod percent;
mod render;
mod server;

pub use client::{client_request, split_endpoint};
pub use message::{Handler, Request, Response};
pub use percent::{percent_decode, percent_encode_path};
pub use server::{serve, ServerCfg};
