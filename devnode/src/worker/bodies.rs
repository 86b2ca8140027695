//! The JSON bodies of the worker's answers, with the real server's keys in its order (struct
//! field order), numbers and escaping. `/status` and `/outputs` are pretty-printed like the real
//! server's.

use std::net::IpAddr;

use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::{OutputFile, WorkerMetadata};
use serde::Serialize;
use serde_json::value::RawValue;

use super::job::{Job, JobState, OutFile, Status};
use super::quota::Refusal;
use super::store::Worker;
use crate::http::{self, Response};
use crate::json::{self, fixed2, round2, JobText};
use crate::util;

fn reply<T: Serialize>(w: &Worker, status: u16, body: &T, pretty: bool) -> Response {
    Response::json(status, json::to_string(body, w.esc(), pretty))
}

pub fn not_found(w: &Worker) -> Response {
    Response::error(404, "Job not found", w.esc())
}

pub fn info(w: &Worker) -> Response {
    #[derive(Serialize)]
    struct Info {
        service: &'static str,
        status: &'static str,
        description: &'static str,
        privacy: &'static str,
        limits: Limits,
        #[serde(skip_serializing_if = "Option::is_none")]
        devnode: Option<Devnode>,
    }
    #[derive(Serialize)]
    struct Limits {
        max_concurrent_jobs: usize,
        jobs_per_hour: usize,
        cpu_seconds_per_minute: Box<RawValue>,
        max_upload_bytes: usize,
        job_timeout_seconds: u64,
        job_cpu_seconds: u64,
        job_memory_mb: u64,
        retention_seconds: u64,
    }
    #[derive(Serialize)]
    struct Devnode {
        mode: &'static str,
        isolation: &'static str,
        extensions: [&'static str; 3],
    }
    let c = &w.cfg;
    let body = Info {
        service: "sandrun",
        status: "running",
        description: "Anonymous, ephemeral, sandboxed code execution (sandrun-devnode: a local development node)",
        privacy: "No accounts, no tracking. Job files are deleted after retention; logs live in memory only.",
        limits: Limits {
            max_concurrent_jobs: c.max_concurrent,
            jobs_per_hour: c.jobs_per_hour,
            cpu_seconds_per_minute: round2(c.cpu_per_minute),
            max_upload_bytes: c.max_request,
            job_timeout_seconds: c.job_timeout.as_secs(),
            job_cpu_seconds: c.job_cpu_secs,
            job_memory_mb: c.job_memory_mb,
            retention_seconds: c.retention.as_secs(),
        },
        devnode: (!c.compat).then(|| Devnode {
            mode: "default",
            isolation: c.isolation.describe(),
            extensions: [
                "DELETE /jobs/{id}",
                "execution_metadata.cpu_signed",
                "status cancelled",
            ],
        }),
    };
    reply(w, 200, &body, false)
}

pub fn health(w: &Worker) -> Response {
    #[derive(Serialize)]
    struct Health<'a> {
        status: &'static str,
        worker_id: Option<&'a str>,
    }
    let body = Health {
        status: "healthy",
        worker_id: w.worker_id.as_deref(),
    };
    reply(w, 200, &body, false)
}

/// The `/status` body. Its fields are `sandrun_protocol::status::StatusBody`'s (which reads it
/// back in the SDK and the tests), except `cpu_seconds`: printed with two decimals here.
#[derive(Serialize)]
pub struct StatusJson<'a> {
    job_id: &'a str,
    status: &'static str,
    queue_position: u64,
    execution_metadata: Metadata<'a>,
    job_hash: &'a str,
    output_files: SortedMap<OutputFile>,
    worker_metadata: WorkerMetadata,
}

#[derive(Serialize)]
struct Metadata<'a> {
    cpu_seconds: Box<RawValue>,
    memory_peak_bytes: u64,
    memory_peak_mb: u64,
    wall_time_ms: u64,
    exit_code: i64,
    environment: &'a str,
    interpreter: &'a str,
    /// Default-mode extension: the exact CPU string that was signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_signed: Option<String>,
}

impl<'a> StatusJson<'a> {
    /// The body for `job` in state `st`; `status` is the word the worker shows for it.
    pub fn new(
        job: &'a Job,
        st: &'a JobState,
        status: &'static str,
        queue_position: u64,
        worker_id: Option<String>,
        compat: bool,
    ) -> Self {
        let r = st.result.as_ref();
        let mem = r.map(|r| r.memory_mb).unwrap_or(0);
        StatusJson {
            job_id: &job.id,
            status,
            queue_position,
            execution_metadata: Metadata {
                cpu_seconds: fixed2(r.map(|r| r.cpu).unwrap_or(0.0)),
                memory_peak_bytes: mem.saturating_mul(1024 * 1024),
                memory_peak_mb: mem,
                // The real worker always says 0.
                wall_time_ms: if compat {
                    0
                } else {
                    r.map(|r| r.wall_ms).unwrap_or(0)
                },
                exit_code: r.map(|r| r.exit_code).unwrap_or(0),
                environment: &job.environment,
                interpreter: &job.interpreter,
                cpu_signed: r.filter(|_| !compat).map(|r| r.cpu_str.clone()),
            },
            job_hash: &job.job_hash,
            output_files: r
                .map(|r| r.outputs.iter())
                .into_iter()
                .flatten()
                .map(|f| {
                    let file = OutputFile {
                        size_bytes: f.size,
                        sha256: f.sha256.clone(),
                        kind: util::file_kind(&f.path).to_string(),
                    };
                    (f.path.clone(), file)
                })
                .collect(),
            worker_metadata: WorkerMetadata {
                worker_id,
                signature: r.and_then(|r| r.signature.clone()),
            },
        }
    }
}

pub fn status(w: &Worker, job: &Job) -> Response {
    let queued = job.st.lock().unwrap().status == Status::Queued;
    let queue_position = if queued { w.queue_position(job) } else { 0 };
    let st = job.st.lock().unwrap();
    let word = w.status_word(st.status);
    let body = StatusJson::new(
        job,
        &st,
        word,
        queue_position,
        w.worker_id.clone(),
        w.cfg.compat,
    );
    reply(w, 200, &body, true)
}

pub fn outputs(w: &Worker, job: &Job) -> Response {
    #[derive(Serialize)]
    struct Outputs<'a> {
        job_id: &'a str,
        status: &'static str,
        total_files: usize,
        files: Vec<File<'a>>,
    }
    #[derive(Serialize)]
    struct File<'a> {
        name: &'a str,
        size: u64,
        size_formatted: String,
        #[serde(rename = "type")]
        kind: &'static str,
        mime_type: &'static str,
        download_url: String,
    }
    let compat = w.cfg.compat;
    let st = job.st.lock().unwrap();
    let mut files: Vec<&OutFile> = st.result.iter().flat_map(|r| &r.outputs).collect();
    if !compat {
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let files: Vec<File> = files
        .into_iter()
        .map(|f| File {
            name: &f.path,
            size: f.size,
            size_formatted: util::size_formatted(f.size),
            kind: util::file_kind(&f.path),
            mime_type: util::mime(&f.path),
            download_url: if compat {
                // The real server does not encode it.
                format!("/download/{}/{}", job.id, f.path)
            } else {
                format!(
                    "/download/{}/{}",
                    job.id,
                    http::percent_encode_path(&f.path)
                )
            },
        })
        .collect();
    let body = Outputs {
        job_id: &job.id,
        status: w.status_word(st.status),
        total_files: files.len(),
        files,
    };
    reply(w, 200, &body, true)
}

pub fn logs(w: &Worker, job: &Job) -> Response {
    #[derive(Serialize)]
    struct Logs<'a> {
        stdout: JobText<'a>,
        stderr: JobText<'a>,
    }
    let st = job.st.lock().unwrap();
    let body = Logs {
        stdout: JobText(&st.stdout, w.esc()),
        stderr: JobText(&st.stderr, w.esc()),
    };
    reply(w, 200, &body, false)
}

pub fn stats(w: &Worker, ip: IpAddr) -> Response {
    #[derive(Serialize)]
    struct Stats {
        your_quota: Quota,
        system: System,
    }
    #[derive(Serialize)]
    struct Quota {
        used: Box<RawValue>,
        limit: Box<RawValue>,
        available: Box<RawValue>,
        active_jobs: usize,
        can_submit: bool,
        reason: String,
    }
    #[derive(Serialize)]
    struct System {
        queue_length: u64,
        active_jobs: u64,
    }
    let usage = w.quotas.usage(ip, &w.cfg);
    let limit = w.cfg.cpu_per_minute;
    let (queued, running) = w.load();
    let body = Stats {
        your_quota: Quota {
            used: round2(usage.cpu_used),
            limit: round2(limit),
            available: round2((limit - usage.cpu_used).max(0.0)),
            active_jobs: usage.active,
            can_submit: usage.refusal.is_none(),
            reason: usage.refusal.map(|r| r.message).unwrap_or_default(),
        },
        system: System {
            queue_length: queued,
            active_jobs: running,
        },
    };
    reply(w, 200, &body, false)
}

pub fn environments(w: &Worker) -> Response {
    #[derive(Serialize)]
    struct Environments {
        templates: [(); 0],
        stats: EnvStats,
    }
    #[derive(Serialize)]
    struct EnvStats {
        total_templates: u64,
        cached_environments: u64,
        total_uses: u64,
        disk_usage_mb: u64,
    }
    let body = Environments {
        templates: [],
        stats: EnvStats {
            total_templates: 0,
            cached_environments: 0,
            total_uses: 0,
            disk_usage_mb: 0,
        },
    };
    reply(w, 200, &body, false)
}

/// 429 for a refused submission. The real worker gives the wait only in the error text; the
/// default mode adds a `Retry-After` header and a `retry_after` field.
pub fn refused(w: &Worker, r: Refusal) -> Response {
    #[derive(Serialize)]
    struct Refused {
        error: String,
        cpu_available: Box<RawValue>,
        active_jobs: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    }
    let compat = w.cfg.compat;
    let body = Refused {
        error: r.message,
        cpu_available: round2(r.cpu_available),
        active_jobs: r.active,
        retry_after: (!compat).then_some(r.wait_secs),
    };
    let resp = reply(w, 429, &body, false);
    if compat {
        resp
    } else {
        resp.with_header("Retry-After", r.wait_secs.to_string())
    }
}

/// `{"job_id": …, "status": …}`: a submission accepted (`queued`) or a job cancelled.
pub fn job_state(w: &Worker, job: &Job, status: &'static str) -> Response {
    #[derive(Serialize)]
    struct JobState<'a> {
        job_id: &'a str,
        status: &'static str,
    }
    let body = JobState {
        job_id: &job.id,
        status,
    };
    reply(w, 200, &body, false)
}

/// 409 for a cancel of a job that has already ended.
pub fn already_finished(w: &Worker, status: Status) -> Response {
    #[derive(Serialize)]
    struct Finished {
        error: &'static str,
        status: &'static str,
    }
    let body = Finished {
        error: "Job already finished",
        status: status.word(),
    };
    reply(w, 409, &body, false)
}
