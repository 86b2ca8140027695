//! `sandrun-devnode pinning`: the IPFS Pinning Service API, backed by a local Kubo that really
//! pins (its RPC `pin/add` and `pin/rm`), with the requests kept in SQLite.
//!
//! `routes` reads requests (bearer token, `Pin` bodies, `filter` for listings), `answers` writes
//! the spec's JSON, `store` keeps requests, `lifecycle` moves them from `queued` to `pinned` or
//! `failed` on Kubo (`kubo`).

mod answers;
pub mod filter;
mod kubo;
mod lifecycle;
mod routes;
mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sandrun_protocol::hash::sha256_hex;

use crate::http;

pub struct PinningCfg {
    pub kubo: String,
    pub tokens: Vec<String>,
    pub db: PathBuf,
    pub pin_timeout: Duration,
}

/// Opens the database, checks that Kubo answers, resumes unfinished pins; the HTTP handler.
pub async fn start(cfg: PinningCfg) -> Result<http::Handler, String> {
    if cfg.tokens.iter().any(|t| t.trim().is_empty()) {
        return Err("--token must not be empty".into());
    }
    let kubo = kubo::Kubo::new(&cfg.kubo)?;
    let (kubo, id) = tokio::task::spawn_blocking(move || {
        let id = kubo.id();
        (kubo, id)
    })
    .await
    .map_err(|e| e.to_string())?;
    let (peer, addrs) = id.map_err(|e| format!("cannot reach Kubo at {}: {e}", cfg.kubo))?;
    // Kubo lists its addresses with /p2p/<id>; offline without a swarm it has none, and the bare
    // peer id is then the one multiaddr that names it.
    let mut delegates: Vec<String> = addrs.into_iter().take(20).collect();
    if delegates.is_empty() {
        delegates.push(format!("/p2p/{peer}"));
    }
    let store = store::Store::open(&cfg.db)?;
    let pinner = lifecycle::Pinner::new(store, kubo, cfg.pin_timeout);
    for r in pinner.store.unfinished()? {
        pinner.start(r);
    }
    let owners = cfg
        .tokens
        .iter()
        .map(|t| sha256_hex(t.trim().as_bytes()))
        .collect();
    Ok(routes::handler(Arc::new(routes::Service {
        pinner,
        owners,
        delegates,
    })))
}
