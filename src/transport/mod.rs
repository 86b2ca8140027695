//! Talking to a worker: HTTP requests through the platform with the checks the real server needs
//! (shape of every answer, its error bodies and rate-limit hints), and the log-stream socket.

mod http;
pub mod ratelimit;
pub mod wire;

pub use http::{parse_value, CallOpts, Http};
