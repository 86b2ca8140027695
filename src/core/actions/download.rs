//! `GET /download/{id}/{path}`: one output's raw bytes. Never with an empty path: the real
//! worker answers `GET /download/{id}` with the whole job folder and deletes the job. It answers
//! a missing file with 500 (read here as NOT_FOUND) and cannot serve names with spaces.

use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::transport::{CallOpts, Http};
use sandrun_protocol::manifest::check_path;

/// Whether `path` can be downloaded at all; checked before anything is sent.
pub fn check(id: &str, path: &str) -> Result<()> {
    check_path("path", path).map_err(|e| SdkError::field(e.field, e.problem).op("download"))?;
    if path.contains(' ') {
        return Err(SdkError::new(
            Code::Unsupported,
            format!("\"{path}\": the Sandrun worker cannot serve file names with spaces"),
        )
        .op("download")
        .job(id));
    }
    Ok(())
}

pub async fn download(http: &Http, id: &str, path: &str, opts: &CallOpts) -> Result<Vec<u8>> {
    check(id, path)?;
    let res = http
        .send(
            "download",
            "GET",
            &format!("/download/{id}/{path}"),
            None,
            opts,
        )
        .await
        .map_err(|e| {
            if e.context.status == Some(500) {
                SdkError {
                    code: Code::NotFound,
                    retryable: false,
                    ..e
                }
            } else {
                e
            }
        })?;
    Ok(res.body)
}
