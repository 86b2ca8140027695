//! `POST /submit`: the multipart upload (one gzip'd tar in `files`, the manifest as text).

use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{required, string};
use crate::core::transport::{Body, CallOpts, Http};

pub struct Submitted {
    pub job_id: String,
    /// What the server said (`queued`; `pending` at a broker).
    pub status: String,
}

pub async fn submit(http: &Http, body: Body, opts: &CallOpts) -> Result<Submitted> {
    let res = http
        .send("submit", "POST", "/submit", Some(body), opts)
        .await?;
    let answer = http.read_json("submit", "/submit", opts, &res, |v, _| {
        Ok((required(v, "job_id")?, string(v, "status")))
    })?;
    let (job_id, status) = answer;
    if !super::is_job_id(&job_id) {
        return Err(SdkError::new(
            Code::Protocol,
            format!(
                "submit: {} returned an unusable job id \"{job_id}\"",
                http.endpoint
            ),
        )
        .op("submit")
        .endpoint(&http.endpoint));
    }
    Ok(Submitted {
        job_id,
        status: status.unwrap_or_else(|| "queued".into()),
    })
}
