//! What a worker is configured with (from the command line).

use std::path::PathBuf;
use std::time::Duration;

use crate::sandbox::Isolation;

#[derive(Clone, Debug)]
pub struct WorkerCfg {
    pub compat: bool,
    pub max_concurrent: usize,
    pub jobs_per_hour: usize,
    pub cpu_per_minute: f64,
    pub max_request: usize,
    pub retention: Duration,
    pub parallel: usize,
    pub job_timeout: Duration,
    pub job_cpu_secs: u64,
    pub job_memory_mb: u64,
    pub job_file_mb: u64,
    pub max_log_bytes: usize,
    pub work_dir: PathBuf,
    pub alter_output: bool,
    pub isolation: Isolation,
}
