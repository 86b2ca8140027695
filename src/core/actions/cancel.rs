//! `DELETE /jobs/{id}`: the dev node stops the job; the real worker has no such endpoint (404).

use crate::core::boundary::error::Result;
use crate::core::transport::{CallOpts, Http};

pub async fn cancel(http: &Http, id: &str, opts: &CallOpts) -> Result<()> {
    http.send("cancel", "DELETE", &format!("/jobs/{id}"), None, opts)
        .await
        .map(|_| ())
}
