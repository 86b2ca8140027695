//! What an execution answers: `wait()`'s result, the outputs, `cancel()`'s answer, and the
//! options `wait()` takes.

use crate::core::boundary::js::Extra;
use crate::core::verify::VerificationReport;
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::StatusBody;
use wasm_bindgen::JsValue;

/// `wait()`'s answer.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct JobResult {
    pub id: String,
    /// `completed` (exit code 0) or `failed`.
    pub status: String,
    pub exit_code: Option<f64>,
    /// CPU seconds as `/status` shows them (two decimals).
    pub cpu_seconds: Option<f64>,
    pub memory_mb: Option<f64>,
    pub job_hash: String,
    /// Base64 Ed25519 public key of the worker; `null` for an anonymous worker.
    pub worker_id: Option<String>,
    /// The worker signed the result (`verify()` checks the signature).
    pub signed: bool,
    pub outputs: SortedMap<OutputInfo>,
    /// Present when the client was created with `requireVerified: true`.
    #[js(optional)]
    pub verification: Option<VerificationReport>,
    /// What extensions add (`consensus`, `route`, …; declared by them in TypeScript).
    #[js(extra)]
    pub extra: Extra,
}

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct OutputInfo {
    pub size: f64,
    pub sha256: String,
    /// The worker's guess: `text`, `data`, `image`, …
    #[js(name = "type")]
    pub kind: String,
}

impl JobResult {
    /// The result a worker's status describes.
    pub fn from_status(id: &str, s: &StatusBody) -> JobResult {
        let meta = s.execution_metadata.as_ref();
        let worker = s.worker_metadata.as_ref();
        JobResult {
            id: id.to_string(),
            status: s.status.clone(),
            exit_code: meta.map(|m| m.exit_code as f64),
            cpu_seconds: meta.map(|m| m.cpu_seconds),
            memory_mb: meta.map(|m| m.memory_peak_mb as f64),
            job_hash: s.job_hash.clone(),
            worker_id: worker.and_then(|w| w.worker_id.clone()),
            signed: worker.map(|w| w.signature.is_some()).unwrap_or(false),
            outputs: outputs_of(s),
            verification: None,
            extra: Extra::default(),
        }
    }
}

/// Path → size, sha256 and type, as the worker signed them.
pub fn outputs_of(s: &StatusBody) -> SortedMap<OutputInfo> {
    s.output_files
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                OutputInfo {
                    size: v.size_bytes as f64,
                    sha256: v.sha256.clone(),
                    kind: v.kind.clone(),
                },
            )
        })
        .collect()
}

/// Options for `wait()`.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "wait options.")]
pub struct WaitOptions {
    /// Overrides the client's `timeoutMs` for this wait.
    pub timeout_ms: Option<f64>,
    /// An `AbortSignal`; aborting rejects the wait with a `CancelledError`.
    #[js(ts = "AbortSignal")]
    pub signal: Option<JsValue>,
}

/// `cancel()`'s answer.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct CancelResult {
    /// The worker stopped the job.
    pub stopped_on_server: bool,
    pub message: String,
}
