//! `GET /logs/{id}`: JSON `{"stdout": …, "stderr": …}` (not plain text), escaped byte by byte by
//! the real worker; the bytes the job printed are recovered here (they may not be UTF-8).

use crate::core::boundary::error::Result;
use crate::core::boundary::js::string;
use crate::core::transport::{CallOpts, Http};
use sandrun_protocol::text::recover_bytes;

pub struct Logs {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

pub async fn logs(http: &Http, id: &str, opts: &CallOpts) -> Result<Logs> {
    http.get_json("logs", &format!("/logs/{id}"), opts, |v, bytewise| {
        let (stdout, stderr) = (string(v, "stdout"), string(v, "stderr"));
        if stdout.is_none() && stderr.is_none() {
            return Err("no \"stdout\" or \"stderr\"".into());
        }
        Ok(Logs {
            stdout: recover_bytes(&stdout.unwrap_or_default(), bytewise),
            stderr: recover_bytes(&stderr.unwrap_or_default(), bytewise),
        })
    })
    .await
}
