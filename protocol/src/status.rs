//! Response bodies of the worker's `/status/{id}` and `/outputs/{id}`, as the real server sends
//! them. Every field a queued job may lack is optional or defaulted, so one type reads them all.

use crate::map::SortedMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusBody {
    pub job_id: String,
    /// `queued` | `running` | `completed` | `failed` (the dev node adds `cancelled`).
    pub status: String,
    #[serde(default)]
    pub queue_position: Option<u64>,
    #[serde(default)]
    pub execution_metadata: Option<ExecutionMetadata>,
    #[serde(default)]
    pub job_hash: String,
    #[serde(default)]
    pub output_files: SortedMap<OutputFile>,
    #[serde(default)]
    pub worker_metadata: Option<WorkerMetadata>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionMetadata {
    /// Rounded to two decimals by the server; the signed figure is `%g` of the exact one.
    #[serde(default)]
    pub cpu_seconds: f64,
    #[serde(default)]
    pub memory_peak_bytes: u64,
    #[serde(default)]
    pub memory_peak_mb: u64,
    #[serde(default)]
    pub wall_time_ms: u64,
    #[serde(default)]
    pub exit_code: i64,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub interpreter: String,
    /// Dev-node extension: the exact CPU string that went into the signed message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_signed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputFile {
    pub size_bytes: u64,
    pub sha256: String,
    #[serde(default, rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerMetadata {
    pub worker_id: Option<String>,
    pub signature: Option<String>,
}

/// True when a status value is final.
pub fn is_terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_fixture() {
        let s: StatusBody =
            serde_json::from_str(include_str!("../fixtures/signed-job/status.json")).unwrap();
        assert_eq!(s.status, "completed");
        assert_eq!(s.output_files.len(), 3);
        assert_eq!(s.output_files.get("out/plot.png").unwrap().size_bytes, 256);
        let m = s.execution_metadata.unwrap();
        assert_eq!((m.exit_code, m.memory_peak_mb, m.cpu_signed), (0, 13, None));
        assert!(is_terminal(&s.status));
    }

    #[test]
    fn reads_a_queued_status() {
        let s: StatusBody =
            serde_json::from_str(r#"{"job_id":"job_1_1","status":"queued"}"#).unwrap();
        assert!(!is_terminal(&s.status));
        assert!(s.execution_metadata.is_none() && s.output_files.is_empty());
    }
}
