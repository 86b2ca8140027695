//! `GET /health`: `{"status":"healthy","worker_id":<base64 key | null>}`; never blocked by a
//! running job on the real worker.

use crate::core::boundary::error::Result;
use crate::core::boundary::js::{required, string};
use crate::core::transport::{CallOpts, Http};

pub struct HealthBody {
    pub status: String,
    /// The worker's Ed25519 public key (base64); `None` on an anonymous worker.
    pub worker_id: Option<String>,
}

pub async fn health(http: &Http, opts: &CallOpts) -> Result<HealthBody> {
    http.get_json("health", "/health", opts, |v, _| {
        Ok(HealthBody {
            status: required(v, "status")?,
            worker_id: string(v, "worker_id"),
        })
    })
    .await
}
