//! `GET /status/{id}`: read by hand into the protocol's `StatusBody`. A missing required field is
//! an error: it is how an answer of the wrong shape (the real worker's info body for an unknown
//! path) is told apart. The real worker holds this request while a job runs, so callers give it
//! the rest of their deadline as its timeout.

use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{entries, number, prop, required, string};
use crate::core::transport::{CallOpts, Http};
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::{ExecutionMetadata, OutputFile, StatusBody, WorkerMetadata};
use wasm_bindgen::JsValue;

pub async fn status(http: &Http, id: &str, opts: &CallOpts) -> Result<StatusBody> {
    let s = http
        .get_json("status", &format!("/status/{id}"), opts, read)
        .await?;
    if s.job_id != id {
        return Err(SdkError::new(
            Code::Protocol,
            format!("asked for job {id} and got the status of {}", s.job_id),
        )
        .job(id)
        .op("status"));
    }
    Ok(s)
}

/// A status body (also the `worker_status` a coordinator relays).
pub fn read(v: &JsValue, _bytewise: bool) -> std::result::Result<StatusBody, String> {
    let n = |v: &JsValue, k: &str| number(v, k).unwrap_or(0.0);
    let execution_metadata = prop(v, "execution_metadata").map(|m| ExecutionMetadata {
        cpu_seconds: n(&m, "cpu_seconds"),
        memory_peak_bytes: n(&m, "memory_peak_bytes") as u64,
        memory_peak_mb: n(&m, "memory_peak_mb") as u64,
        wall_time_ms: n(&m, "wall_time_ms") as u64,
        exit_code: n(&m, "exit_code") as i64,
        environment: string(&m, "environment").unwrap_or_default(),
        interpreter: string(&m, "interpreter").unwrap_or_default(),
        cpu_signed: string(&m, "cpu_signed"),
    });
    let mut output_files = SortedMap::new();
    if let Some(files) = prop(v, "output_files") {
        for (path, f) in entries(&files) {
            let sha256 =
                required(&f, "sha256").map_err(|e| format!("output_files[\"{path}\"]: {e}"))?;
            let file = OutputFile {
                size_bytes: n(&f, "size_bytes") as u64,
                sha256,
                kind: string(&f, "type").unwrap_or_default(),
            };
            output_files.insert(path, file);
        }
    }
    let worker_metadata = prop(v, "worker_metadata").map(|w| WorkerMetadata {
        worker_id: string(&w, "worker_id"),
        signature: string(&w, "signature"),
    });
    Ok(StatusBody {
        job_id: required(v, "job_id")?,
        status: required(v, "status")?,
        queue_position: number(v, "queue_position").map(|q| q as u64),
        execution_metadata,
        job_hash: string(v, "job_hash").unwrap_or_default(),
        output_files,
        worker_metadata,
    })
}

/// What the SDK knows of a job it just submitted: queued, nothing else yet.
pub fn queued(id: &str) -> StatusBody {
    StatusBody {
        job_id: id.into(),
        status: "queued".into(),
        queue_position: None,
        execution_metadata: None,
        job_hash: String::new(),
        output_files: Default::default(),
        worker_metadata: None,
    }
}
