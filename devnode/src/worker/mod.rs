//! The worker server: every endpoint of the real Sandrun worker, in a well-behaved default mode or
//! in `--compat` mode with the real server's client-visible quirks.
//!
//! `store` holds the state, `submit` takes jobs in, `runner` runs them, `bodies` writes the JSON
//! answers, `stream` the WebSocket log stream, `download` and `cancel` their endpoints; `routes`
//! (default mode) and `compat_routes` (the real server's routing) tie them to paths.

pub mod bodies;
mod cancel;
mod compat_routes;
mod config;
mod download;
pub mod job;
mod quota;
mod routes;
mod runner;
mod store;
mod stream;
mod submit;

use std::sync::Arc;

use sandrun_protocol::signing::WorkerKey;

pub use config::WorkerCfg;
pub use routes::handler;
pub use store::Worker;

/// A worker with its runner started.
pub fn start(cfg: WorkerCfg, key: Option<WorkerKey>) -> std::io::Result<Arc<Worker>> {
    let (w, queue) = Worker::new(cfg, key)?;
    runner::spawn_compat_runner(&w, queue);
    Ok(w)
}
