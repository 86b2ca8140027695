//! The worker server: every endpoint of the real Sandrun worker, in a well-behaved default mode or
//! in `--compat` mode with the real server's client-visible quirks.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sandrun_protocol::signing::WorkerKey;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, Semaphore};

use crate::archive;
use crate::http::{self, Request, Response};
use crate::json::{self, Escape, J};
use crate::manifest::{self, Manifest};
use crate::multipart;
use crate::sandbox::{self, Exit, Isolation, Limits};
use crate::util;
use crate::ws;

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

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }
    pub fn terminal(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Cancelled)
    }
}

#[derive(Clone, Debug)]
enum Ev {
    Started,
    Out(Vec<u8>),
    Err(Vec<u8>),
    Done,
}

struct OutFile {
    path: String,
    size: u64,
    sha256: String,
}

struct JobResult {
    exit_code: i64,
    cpu: f64,
    cpu_str: String,
    memory_mb: u64,
    wall_ms: u64,
    /// In discovery order (compat lists them unsorted, like the real server).
    outputs: Vec<OutFile>,
    signature: Option<String>,
}

struct JobState {
    status: Status,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    result: Option<JobResult>,
    subs: Vec<mpsc::UnboundedSender<Ev>>,
    pid: Option<i32>,
    cancel: bool,
}

pub struct Job {
    id: String,
    seq: u64,
    owner: IpAddr,
    submitted: Instant,
    dir: PathBuf,
    entrypoint: String,
    interpreter: String,
    environment: String,
    args: Vec<String>,
    outputs: Vec<String>,
    env: Vec<(String, String)>,
    limits: Limits,
    wall: Duration,
    job_hash: String,
    st: Mutex<JobState>,
}

impl Job {
    fn notify(st: &mut JobState, ev: Ev) {
        st.subs.retain(|s| s.send(ev.clone()).is_ok());
    }

    fn append(&self, stderr: bool, bytes: &[u8], cap: usize) {
        let mut st = self.st.lock().unwrap();
        let buf = if stderr {
            &mut st.stderr
        } else {
            &mut st.stdout
        };
        let room = cap.saturating_sub(buf.len());
        let take = &bytes[..bytes.len().min(room)];
        if take.is_empty() {
            return;
        }
        buf.extend_from_slice(take);
        let ev = if stderr {
            Ev::Err(take.to_vec())
        } else {
            Ev::Out(take.to_vec())
        };
        Job::notify(&mut st, ev);
    }

    /// Kills the running process group (timeout or cancellation).
    fn kill(&self, cancel: bool) {
        let mut st = self.st.lock().unwrap();
        if cancel {
            st.cancel = true;
        }
        if let Some(pid) = st.pid {
            sandbox::kill_group(pid);
        }
    }
}

#[derive(Default)]
struct Quota {
    active: usize,
    submits: VecDeque<Instant>,
    cpu: VecDeque<(Instant, f64)>,
}

impl Quota {
    fn prune(&mut self, now: Instant) {
        while self
            .submits
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(3600))
        {
            self.submits.pop_front();
        }
        while self
            .cpu
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= Duration::from_secs(60))
        {
            self.cpu.pop_front();
        }
    }
    fn cpu_used(&self) -> f64 {
        self.cpu.iter().map(|(_, c)| c).sum()
    }
}

pub struct Worker {
    pub cfg: WorkerCfg,
    key: Option<WorkerKey>,
    pub worker_id: Option<String>,
    jobs: Mutex<HashMap<String, Arc<Job>>>,
    seq: AtomicU64,
    quotas: Mutex<HashMap<IpAddr, Quota>>,
    /// Compat: the real server's global lock, held while a job runs.
    exec_lock: tokio::sync::Mutex<()>,
    compat_queue: mpsc::UnboundedSender<Arc<Job>>,
    sem: Arc<Semaphore>,
}

fn num(v: f64) -> J {
    let r = (v * 100.0).round() / 100.0;
    J::Raw(format!("{r}"))
}

impl Worker {
    pub fn new(cfg: WorkerCfg, key: Option<WorkerKey>) -> std::io::Result<Arc<Worker>> {
        std::fs::create_dir_all(&cfg.work_dir)?;
        let (tx, mut rx) = mpsc::unbounded_channel::<Arc<Job>>();
        let worker_id = key.as_ref().map(|k| k.worker_id());
        let w = Arc::new(Worker {
            sem: Arc::new(Semaphore::new(cfg.parallel.max(1))),
            cfg,
            key,
            worker_id,
            jobs: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            quotas: Mutex::new(HashMap::new()),
            exec_lock: tokio::sync::Mutex::new(()),
            compat_queue: tx,
        });
        // Compat runner: one job at a time, holding the global lock.
        let wr = Arc::downgrade(&w);
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let Some(w) = wr.upgrade() else { return };
                let guard = w.exec_lock.lock().await;
                run_job(w.clone(), job).await;
                drop(guard);
            }
        });
        // Retention sweeper.
        let wr = Arc::downgrade(&w);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let Some(w) = wr.upgrade() else { return };
                w.sweep();
            }
        });
        Ok(w)
    }

    fn esc(&self) -> Escape {
        if self.cfg.compat {
            Escape::Bytewise
        } else {
            Escape::Utf8
        }
    }

    fn sweep(&self) {
        let now = Instant::now();
        let expired: Vec<Arc<Job>> = {
            let mut jobs = self.jobs.lock().unwrap();
            let ids: Vec<String> = jobs
                .values()
                .filter(|j| {
                    now.duration_since(j.submitted) >= self.cfg.retention
                        && j.st.lock().unwrap().status.terminal()
                })
                .map(|j| j.id.clone())
                .collect();
            ids.iter().filter_map(|id| jobs.remove(id)).collect()
        };
        for j in expired {
            let _ = std::fs::remove_dir_all(&j.dir);
        }
    }

    /// Kills running jobs and removes the work folder.
    pub fn shutdown(&self) {
        let jobs: Vec<Arc<Job>> = self.jobs.lock().unwrap().values().cloned().collect();
        for j in jobs {
            j.kill(true);
        }
        let _ = std::fs::remove_dir_all(&self.cfg.work_dir);
    }

    fn job(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs.lock().unwrap().get(id).cloned()
    }

    // ------------------------------------------------------------ quotas

    fn reserve(&self, ip: IpAddr) -> Result<(), Response> {
        let now = Instant::now();
        let mut q = self.quotas.lock().unwrap();
        let q = q.entry(ip).or_default();
        q.prune(now);
        let used = q.cpu_used();
        let avail = (self.cfg.cpu_per_minute - used).max(0.0);
        let refusal = if used >= self.cfg.cpu_per_minute {
            let oldest = q
                .cpu
                .front()
                .map(|(t, _)| now.duration_since(*t))
                .unwrap_or_default();
            let wait = 60u64.saturating_sub(oldest.as_secs()).max(1);
            Some((format!("CPU quota exhausted, wait {wait} seconds"), wait))
        } else if q.active >= self.cfg.max_concurrent {
            Some((
                format!("Max concurrent jobs reached ({})", self.cfg.max_concurrent),
                5,
            ))
        } else if q.submits.len() >= self.cfg.jobs_per_hour {
            let oldest = q
                .submits
                .front()
                .map(|t| now.duration_since(*t))
                .unwrap_or_default();
            let wait = 3600u64.saturating_sub(oldest.as_secs()).max(1);
            Some((
                format!("Max jobs per hour reached ({})", self.cfg.jobs_per_hour),
                wait,
            ))
        } else {
            None
        };
        if let Some((msg, wait)) = refusal {
            let mut fields = vec![
                ("error", J::s(msg)),
                ("cpu_available", num(avail)),
                ("active_jobs", J::U(q.active as u64)),
            ];
            if self.cfg.compat {
                return Err(Response::json(
                    429,
                    json::to_string(&J::obj(fields), self.esc(), false),
                ));
            }
            fields.push(("retry_after", J::U(wait)));
            return Err(
                Response::json(429, json::to_string(&J::obj(fields), self.esc(), false))
                    .with_header("Retry-After", wait.to_string()),
            );
        }
        q.active += 1;
        q.submits.push_back(now);
        Ok(())
    }

    fn release(&self, ip: IpAddr, undo_submit: bool, cpu: Option<f64>) {
        let mut q = self.quotas.lock().unwrap();
        let q = q.entry(ip).or_default();
        q.active = q.active.saturating_sub(1);
        if undo_submit {
            q.submits.pop_back();
        }
        if let Some(c) = cpu {
            q.cpu.push_back((Instant::now(), c));
        }
    }

    // ------------------------------------------------------------ bodies

    fn info(&self) -> Response {
        let c = &self.cfg;
        let mut fields = vec![
            ("service", J::s("sandrun")),
            ("status", J::s("running")),
            ("description", J::s("Anonymous, ephemeral, sandboxed code execution (sandrun-devnode: a local development node)")),
            ("privacy", J::s("No accounts, no tracking. Job files are deleted after retention; logs live in memory only.")),
            (
                "limits",
                J::obj(vec![
                    ("max_concurrent_jobs", J::U(c.max_concurrent as u64)),
                    ("jobs_per_hour", J::U(c.jobs_per_hour as u64)),
                    ("cpu_seconds_per_minute", num(c.cpu_per_minute)),
                    ("max_upload_bytes", J::U(c.max_request as u64)),
                    ("job_timeout_seconds", J::U(c.job_timeout.as_secs())),
                    ("job_cpu_seconds", J::U(c.job_cpu_secs)),
                    ("job_memory_mb", J::U(c.job_memory_mb)),
                    ("retention_seconds", J::U(c.retention.as_secs())),
                ]),
            ),
        ];
        if !c.compat {
            fields.push((
                "devnode",
                J::obj(vec![
                    ("mode", J::s("default")),
                    ("isolation", J::s(c.isolation.describe())),
                    (
                        "extensions",
                        J::A(vec![
                            J::s("DELETE /jobs/{id}"),
                            J::s("execution_metadata.cpu_signed"),
                            J::s("status cancelled"),
                        ]),
                    ),
                ]),
            ));
        }
        Response::json(200, json::to_string(&J::obj(fields), self.esc(), false))
    }

    fn health(&self) -> Response {
        let v = J::obj(vec![
            ("status", J::s("healthy")),
            ("worker_id", J::opt_s(self.worker_id.as_deref())),
        ]);
        Response::json(200, json::to_string(&v, self.esc(), false))
    }

    fn queue_position(&self, job: &Job) -> u64 {
        let jobs = self.jobs.lock().unwrap();
        let ahead = jobs
            .values()
            .filter(|j| j.seq < job.seq && j.st.lock().unwrap().status == Status::Queued)
            .count();
        ahead as u64 + 1
    }

    fn status_body(&self, job: &Job) -> String {
        let qpos = {
            let queued = job.st.lock().unwrap().status == Status::Queued;
            if queued {
                self.queue_position(job)
            } else {
                0
            }
        };
        let st = job.st.lock().unwrap();
        let r = st.result.as_ref();
        let mem = r.map(|r| r.memory_mb).unwrap_or(0);
        let mut meta = vec![
            (
                "cpu_seconds",
                J::Raw(format!("{:.2}", r.map(|r| r.cpu).unwrap_or(0.0))),
            ),
            ("memory_peak_bytes", J::U(mem * 1024 * 1024)),
            ("memory_peak_mb", J::U(mem)),
            (
                "wall_time_ms",
                J::U(if self.cfg.compat {
                    0
                } else {
                    r.map(|r| r.wall_ms).unwrap_or(0)
                }),
            ),
            ("exit_code", J::I(r.map(|r| r.exit_code).unwrap_or(0))),
            ("environment", J::s(&job.environment)),
            ("interpreter", J::s(&job.interpreter)),
        ];
        if !self.cfg.compat {
            if let Some(r) = r {
                meta.push(("cpu_signed", J::s(&r.cpu_str)));
            }
        }
        let mut files: Vec<&OutFile> = r.map(|r| r.outputs.iter().collect()).unwrap_or_default();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let output_files = J::O(
            files
                .iter()
                .map(|f| {
                    (
                        f.path.clone(),
                        J::obj(vec![
                            ("size_bytes", J::U(f.size)),
                            ("sha256", J::s(&f.sha256)),
                            ("type", J::s(util::file_kind(&f.path))),
                        ]),
                    )
                })
                .collect(),
        );
        let v = J::obj(vec![
            ("job_id", J::s(&job.id)),
            ("status", J::s(self.status_word(st.status))),
            ("queue_position", J::U(qpos)),
            ("execution_metadata", J::obj(meta)),
            ("job_hash", J::s(&job.job_hash)),
            ("output_files", output_files),
            (
                "worker_metadata",
                J::obj(vec![
                    ("worker_id", J::opt_s(self.worker_id.as_deref())),
                    (
                        "signature",
                        J::opt_s(r.and_then(|r| r.signature.as_deref())),
                    ),
                ]),
            ),
        ]);
        json::to_string(&v, self.esc(), true)
    }

    /// Compat has no `cancelled` (cancellation is a default-mode extension anyway).
    fn status_word(&self, s: Status) -> &'static str {
        if self.cfg.compat && s == Status::Cancelled {
            "failed"
        } else {
            s.word()
        }
    }

    fn outputs_body(&self, job: &Job) -> String {
        let st = job.st.lock().unwrap();
        let mut files: Vec<&OutFile> = st
            .result
            .as_ref()
            .map(|r| r.outputs.iter().collect())
            .unwrap_or_default();
        if !self.cfg.compat {
            files.sort_by(|a, b| a.path.cmp(&b.path));
        }
        let list: Vec<J> = files
            .iter()
            .map(|f| {
                let url_path = if self.cfg.compat {
                    f.path.clone()
                } else {
                    http::percent_encode_path(&f.path)
                };
                J::obj(vec![
                    ("name", J::s(&f.path)),
                    ("size", J::U(f.size)),
                    ("size_formatted", J::s(util::size_formatted(f.size))),
                    ("type", J::s(util::file_kind(&f.path))),
                    ("mime_type", J::s(util::mime(&f.path))),
                    (
                        "download_url",
                        J::s(format!("/download/{}/{}", job.id, url_path)),
                    ),
                ])
            })
            .collect();
        let v = J::obj(vec![
            ("job_id", J::s(&job.id)),
            ("status", J::s(self.status_word(st.status))),
            ("total_files", J::U(list.len() as u64)),
            ("files", J::A(list)),
        ]);
        json::to_string(&v, self.esc(), true)
    }

    fn logs_body(&self, job: &Job) -> String {
        let st = job.st.lock().unwrap();
        let v = J::obj(vec![
            ("stdout", J::B(st.stdout.clone())),
            ("stderr", J::B(st.stderr.clone())),
        ]);
        json::to_string(&v, self.esc(), false)
    }

    fn stats_body(&self, ip: IpAddr) -> String {
        let now = Instant::now();
        let (used, active, per_hour) = {
            let mut q = self.quotas.lock().unwrap();
            let q = q.entry(ip).or_default();
            q.prune(now);
            (q.cpu_used(), q.active, q.submits.len())
        };
        let limit = self.cfg.cpu_per_minute;
        let reason = if used >= limit {
            "CPU quota exhausted".to_string()
        } else if active >= self.cfg.max_concurrent {
            format!("Max concurrent jobs reached ({})", self.cfg.max_concurrent)
        } else if per_hour >= self.cfg.jobs_per_hour {
            format!("Max jobs per hour reached ({})", self.cfg.jobs_per_hour)
        } else {
            String::new()
        };
        let (queued, running) = {
            let jobs = self.jobs.lock().unwrap();
            let mut q = 0;
            let mut r = 0;
            for j in jobs.values() {
                match j.st.lock().unwrap().status {
                    Status::Queued => q += 1,
                    Status::Running => r += 1,
                    _ => {}
                }
            }
            (q, r)
        };
        let v = J::obj(vec![
            (
                "your_quota",
                J::obj(vec![
                    ("used", num(used)),
                    ("limit", num(limit)),
                    ("available", num((limit - used).max(0.0))),
                    ("active_jobs", J::U(active as u64)),
                    ("can_submit", J::Bool(reason.is_empty())),
                    ("reason", J::s(reason)),
                ]),
            ),
            (
                "system",
                J::obj(vec![
                    ("queue_length", J::U(queued)),
                    ("active_jobs", J::U(running)),
                ]),
            ),
        ]);
        json::to_string(&v, self.esc(), false)
    }

    fn environments_body(&self) -> String {
        let v = J::obj(vec![
            ("templates", J::A(vec![])),
            (
                "stats",
                J::obj(vec![
                    ("total_templates", J::U(0)),
                    ("cached_environments", J::U(0)),
                    ("total_uses", J::U(0)),
                    ("disk_usage_mb", J::U(0)),
                ]),
            ),
        ]);
        json::to_string(&v, self.esc(), false)
    }
}

// ---------------------------------------------------------------- routing

pub fn handler(w: Arc<Worker>) -> http::Handler {
    Arc::new(move |req: Request| {
        let w = w.clone();
        Box::pin(async move { route(w, req).await })
    })
}

async fn route(w: Arc<Worker>, req: Request) -> Response {
    if w.cfg.compat {
        route_compat(w, req).await
    } else {
        route_default(w, req).await
    }
}

fn not_found(w: &Worker) -> Response {
    Response::error(404, "Job not found", w.esc())
}

async fn route_compat(w: Arc<Worker>, req: Request) -> Response {
    let t = req.target.clone();
    let esc = w.esc();
    if req.method == "POST" {
        if t.starts_with("/submit") {
            let _g = w.exec_lock.lock().await;
            return submit(&w, req).await;
        }
        return Response::error(404, "Not found", esc);
    }
    if req.method != "GET" {
        return Response::error(404, "Not found", esc);
    }
    let blocking = ["/status/", "/logs/", "/outputs/", "/download/", "/stats"];
    if blocking.iter().any(|p| t.starts_with(p)) {
        drop(w.exec_lock.lock().await);
    }
    if t.starts_with("/health") {
        w.health()
    } else if let Some(id) = t.strip_prefix("/status/") {
        w.job(id)
            .map(|j| Response::json(200, w.status_body(&j)))
            .unwrap_or_else(|| not_found(&w))
    } else if let Some(id) = t.strip_prefix("/logs/") {
        w.job(id)
            .map(|j| Response::json(200, w.logs_body(&j)))
            .unwrap_or_else(|| not_found(&w))
    } else if let Some(id) = t.strip_prefix("/outputs/") {
        w.job(id)
            .map(|j| Response::json(200, w.outputs_body(&j)))
            .unwrap_or_else(|| not_found(&w))
    } else if let Some(rest) = t.strip_prefix("/download/") {
        download(&w, rest).await
    } else if t.starts_with("/stats") {
        Response::json(200, w.stats_body(req.peer))
    } else if t.starts_with("/environments") {
        Response::json(200, w.environments_body())
    } else if let (Some(id), Some(_), Some(_), Some(key)) = (
        t.strip_prefix("/stream/"),
        req.header("Upgrade", true),
        req.header("Connection", true),
        req.header("Sec-WebSocket-Key", true),
    ) {
        stream(w.clone(), id.to_string(), key.to_string())
    } else {
        w.info()
    }
}

async fn route_default(w: Arc<Worker>, req: Request) -> Response {
    let esc = w.esc();
    let Some(path) = http::percent_decode(req.path()) else {
        return Response::error(400, "Malformed percent-encoding in the path", esc);
    };
    let m = req.method.as_str();
    let seg: Vec<&str> = path.trim_start_matches('/').splitn(2, '/').collect();
    let (head, rest) = (seg[0], seg.get(1).copied());
    let id_only = |r: Option<&str>| {
        r.filter(|s| !s.is_empty() && !s.contains('/'))
            .map(str::to_string)
    };
    let allowed: &str = match (head, rest) {
        ("", None) | ("health", None) | ("stats", None) | ("environments", None) => "GET",
        ("status" | "logs" | "outputs" | "stream", Some(_)) | ("download", Some(_)) => "GET",
        ("submit", None) => "POST",
        ("jobs", Some(_)) => "DELETE",
        _ => return Response::error(404, "Not found", esc),
    };
    if m != allowed {
        return Response::error(
            405,
            &format!("Method {m} not allowed here (use {allowed})"),
            esc,
        )
        .with_header("Allow", format!("{allowed}, OPTIONS"));
    }
    match head {
        "" => w.info(),
        "health" => w.health(),
        "stats" => Response::json(200, w.stats_body(req.peer)),
        "environments" => Response::json(200, w.environments_body()),
        "submit" => submit(&w, req).await,
        "status" | "logs" | "outputs" | "stream" | "jobs" => {
            let Some(id) = id_only(rest) else {
                return Response::error(404, "Not found", esc);
            };
            if head == "stream" {
                let Some(key) = req.header("Sec-WebSocket-Key", false) else {
                    return Response::error(
                        400,
                        "WebSocket upgrade required (Upgrade: websocket, Sec-WebSocket-Key)",
                        esc,
                    );
                };
                if !req
                    .header("Upgrade", false)
                    .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
                {
                    return Response::error(
                        400,
                        "WebSocket upgrade required (Upgrade: websocket)",
                        esc,
                    );
                }
                return stream(w.clone(), id, key.to_string());
            }
            let Some(job) = w.job(&id) else {
                return not_found(&w);
            };
            match head {
                "status" => Response::json(200, w.status_body(&job)),
                "logs" => Response::json(200, w.logs_body(&job)),
                "outputs" => Response::json(200, w.outputs_body(&job)),
                _ => cancel(&w, &job, req.peer),
            }
        }
        "download" => download(&w, rest.unwrap_or("")).await,
        _ => Response::error(404, "Not found", esc),
    }
}

// ---------------------------------------------------------------- submit

async fn submit(w: &Arc<Worker>, req: Request) -> Response {
    let ip = req.peer;
    if let Err(r) = w.reserve(ip) {
        return r;
    }
    let w2 = w.clone();
    let created = tokio::task::spawn_blocking(move || create_job(&w2, req)).await;
    let created = match created {
        Ok(r) => r,
        Err(e) => Err((500, format!("Internal error: {e}"))),
    };
    match created {
        Ok(job) => {
            w.jobs.lock().unwrap().insert(job.id.clone(), job.clone());
            enqueue(w, job.clone());
            let v = J::obj(vec![("job_id", J::s(&job.id)), ("status", J::s("queued"))]);
            Response::json(200, json::to_string(&v, w.esc(), false))
        }
        Err((code, msg)) => {
            w.release(ip, true, None);
            Response::error(code, &msg, w.esc())
        }
    }
}

fn enqueue(w: &Arc<Worker>, job: Arc<Job>) {
    if w.cfg.compat {
        let _ = w.compat_queue.send(job);
    } else {
        let w = w.clone();
        tokio::spawn(async move {
            let Ok(_permit) = w.sem.clone().acquire_owned().await else {
                return;
            };
            run_job(w.clone(), job).await;
        });
    }
}

type Fail = (u16, String);

fn create_job(w: &Arc<Worker>, req: Request) -> Result<Arc<Job>, Fail> {
    let compat = w.cfg.compat;
    let bad = |m: &str| -> Fail { (400, m.to_string()) };
    let no_files = || bad("No files uploaded");
    let boundary = req
        .header("Content-Type", compat)
        .and_then(multipart::boundary);
    let parts = match boundary {
        None if compat => return Err(no_files()),
        None => {
            return Err(bad(
                "Expected a multipart/form-data body (Content-Type with a boundary)",
            ))
        }
        Some(b) => match multipart::parse(&req.body, &b, compat) {
            Ok(p) => p,
            Err(_) if compat => return Err(no_files()),
            Err(e) => return Err(bad(&format!("Malformed multipart body: {e}"))),
        },
    };
    let files: Vec<&multipart::Part> = parts.iter().filter(|p| p.name == "files").collect();
    if files.is_empty() {
        return Err(no_files());
    }
    let manifest_text = parts
        .iter()
        .find(|p| p.name == "manifest")
        .map(|p| String::from_utf8_lossy(&p.data).to_string());
    let mut m: Manifest = match &manifest_text {
        None => Manifest::default(),
        Some(t) if compat => manifest::parse_compat(t),
        Some(t) => manifest::parse_strict(t).map_err(|e| bad(&e))?,
    };
    if !compat {
        if let Some(i) = &m.interpreter {
            if sandbox::resolve(i).is_none() {
                return Err(bad(&format!(
                    "Interpreter {i:?} is not available on this node"
                )));
            }
        }
    }

    let seq = w.seq.fetch_add(1, Ordering::SeqCst) + 1;
    let id = format!("job_{}_{}", util::unix_now(), seq);
    let dir = w.cfg.work_dir.join(&id);
    std::fs::create_dir_all(&dir).map_err(|e| (500, format!("Cannot create job folder: {e}")))?;
    let cleanup = |e: Fail| {
        let _ = std::fs::remove_dir_all(&dir);
        e
    };
    let limit = (w.cfg.max_request as u64).saturating_mul(10).max(1 << 30);
    for part in &files {
        let name = part.filename.clone().unwrap_or_default();
        if name.contains(".tar.gz") || name.contains(".tgz") {
            match archive::unpack_tar_gz(&part.data, &dir, limit) {
                Ok(u) => {
                    if let (false, Some((p, why))) = (compat, u.refused.first()) {
                        return Err(cleanup(bad(&format!(
                            "Archive {name:?}: entry {p:?} refused: {why}"
                        ))));
                    }
                }
                Err(_) if compat => {}
                Err(e) => return Err(cleanup(bad(&format!("Cannot unpack {name:?}: {e}")))),
            }
        } else if name.contains(".zip") {
            if !compat {
                return Err(cleanup(bad(
                    "zip uploads are not supported by the dev node; send one .tar.gz",
                )));
            }
        } else {
            let rel = archive::safe_rel(Path::new(&name));
            match rel {
                None if compat => {}
                None => {
                    return Err(cleanup(bad(&format!(
                        "File name {name:?} is empty or leaves the job folder"
                    ))))
                }
                Some(rel) => {
                    if compat {
                        // No sub-folders are created: `pkg/mod.py` is dropped unless pkg/ exists.
                        let parent_ok = rel
                            .parent()
                            .map(|p| p.as_os_str().is_empty() || dir.join(p).is_dir())
                            .unwrap_or(true);
                        if parent_ok {
                            let _ = archive::write_file(&dir, &rel, &mut &part.data[..], limit);
                        }
                    } else if let Err(e) =
                        archive::write_file(&dir, &rel, &mut &part.data[..], limit)
                    {
                        return Err(cleanup(bad(&format!("Cannot store {name:?}: {e}"))));
                    }
                }
            }
        }
    }

    // Entrypoint: manifest, then job.json, then main.py / index.js / run.sh.
    if m.entrypoint.is_none() {
        let jj = dir.join("job.json");
        if std::fs::symlink_metadata(&jj)
            .map(|x| x.is_file())
            .unwrap_or(false)
        {
            let text = std::fs::read_to_string(&jj).unwrap_or_default();
            let from_file = if compat {
                Some(manifest::parse_compat(&text))
            } else {
                Some(
                    manifest::parse_strict(&text)
                        .map_err(|e| cleanup(bad(&format!("job.json: {e}"))))?,
                )
            };
            if let Some(f) = from_file.filter(|f| f.entrypoint.is_some()) {
                m = f;
            }
        }
    }
    if m.entrypoint.is_none() {
        for (file, interp) in [
            ("main.py", "python3"),
            ("index.js", "node"),
            ("run.sh", "bash"),
        ] {
            if std::fs::symlink_metadata(dir.join(file))
                .map(|x| x.is_file())
                .unwrap_or(false)
            {
                m.entrypoint = Some(file.to_string());
                if m.interpreter.is_none() {
                    m.interpreter = Some(interp.to_string());
                }
                break;
            }
        }
    }
    let Some(entrypoint) = m.entrypoint.clone() else {
        return Err(cleanup(bad("No entrypoint specified")));
    };
    let entry_bytes = archive::safe_rel(Path::new(&entrypoint))
        .map(|rel| dir.join(rel))
        .filter(|p| {
            std::fs::symlink_metadata(p)
                .map(|x| x.is_file())
                .unwrap_or(false)
        })
        .and_then(|p| std::fs::read(p).ok());
    if entry_bytes.is_none() && !compat {
        return Err(cleanup(bad(&format!(
            "Entrypoint {entrypoint:?} is not a file of the upload"
        ))));
    }
    let interpreter = m.interpreter.clone().unwrap_or_else(|| "python3".into());
    let environment = m.environment.clone().unwrap_or_default();
    let job_hash = sandrun_protocol::hash::job_hash(
        &entrypoint,
        &interpreter,
        &environment,
        &m.args,
        entry_bytes.as_deref().unwrap_or(&[]),
    );
    let c = &w.cfg;
    let cap = |asked: Option<f64>, max: f64| asked.map(|a| a.min(max)).unwrap_or(max);
    let limits = Limits {
        cpu_secs: cap(m.cpu_seconds, c.job_cpu_secs as f64).ceil().max(1.0) as u64,
        memory_bytes: (cap(m.memory_mb, c.job_memory_mb as f64) * 1024.0 * 1024.0) as u64,
        file_bytes: c.job_file_mb * 1024 * 1024,
    };
    let wall = Duration::from_secs_f64(cap(m.timeout, c.job_timeout.as_secs_f64()).max(0.1));
    Ok(Arc::new(Job {
        id,
        seq,
        owner: req.peer,
        submitted: Instant::now(),
        dir,
        entrypoint,
        interpreter,
        environment,
        args: m.args,
        outputs: m.outputs,
        env: m.env,
        limits,
        wall,
        job_hash,
        st: Mutex::new(JobState {
            status: Status::Queued,
            stdout: Vec::new(),
            stderr: Vec::new(),
            result: None,
            subs: Vec::new(),
            pid: None,
            cancel: false,
        }),
    }))
}

// ---------------------------------------------------------------- running

async fn run_job(w: Arc<Worker>, job: Arc<Job>) {
    {
        // Claim the job under the lock: a cancel that comes while the process is being spawned
        // then takes the Running path (kill once the pid is known) instead of racing with it.
        let mut st = job.st.lock().unwrap();
        if st.status != Status::Queued {
            return; // cancelled while queued
        }
        st.status = Status::Running;
    }
    let j2 = job.clone();
    let watchdog = tokio::spawn(async move {
        tokio::time::sleep(j2.wall).await;
        j2.kill(false);
    });
    let (w2, j3) = (w.clone(), job.clone());
    let _ = tokio::task::spawn_blocking(move || execute(&w2, &j3)).await;
    watchdog.abort();
}

fn execute(w: &Worker, job: &Arc<Job>) {
    let started = Instant::now();
    let cap = w.cfg.max_log_bytes;
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), sandbox::job_path()),
        ("HOME".into(), job.dir.to_string_lossy().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
        ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
        ("SANDRUN_JOB_ID".into(), job.id.clone()),
    ];
    env.extend(job.env.iter().cloned());
    let mut args = vec![job.entrypoint.clone()];
    args.extend(job.args.iter().cloned());
    let spawned = match sandbox::resolve(&job.interpreter) {
        None => Err(format!("interpreter {:?} not found", job.interpreter)),
        Some(p) => sandbox::spawn(&p, &args, &job.dir, &env, job.limits, w.cfg.isolation)
            .map_err(|e| e.to_string()),
    };
    let exit = match spawned {
        Err(e) => {
            {
                let mut st = job.st.lock().unwrap();
                st.status = Status::Running;
                Job::notify(&mut st, Ev::Started);
            }
            job.append(
                true,
                format!("sandrun-devnode: cannot start the job: {e}\n").as_bytes(),
                cap,
            );
            Exit {
                exit_code: 127,
                cpu_seconds: 0.0,
                memory_mb: 0,
            }
        }
        Ok(mut child) => {
            let pid = child.id() as i32;
            {
                let mut st = job.st.lock().unwrap();
                st.pid = Some(pid);
                st.status = Status::Running;
                Job::notify(&mut st, Ev::Started);
                if st.cancel {
                    sandbox::kill_group(pid);
                }
            }
            let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
            let mut readers = 0;
            let pipes: Vec<(bool, Box<dyn Read + Send>)> = [
                child
                    .stdout
                    .take()
                    .map(|p| (false, Box::new(p) as Box<dyn Read + Send>)),
                child
                    .stderr
                    .take()
                    .map(|p| (true, Box::new(p) as Box<dyn Read + Send>)),
            ]
            .into_iter()
            .flatten()
            .collect();
            for (is_err, mut pipe) in pipes {
                readers += 1;
                let (job, tx) = (job.clone(), done_tx.clone());
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        match pipe.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => job.append(is_err, &buf[..n], cap),
                        }
                    }
                    let _ = tx.send(());
                });
            }
            sandbox::wait_exited(pid);
            job.st.lock().unwrap().pid = None;
            sandbox::kill_group(pid); // leftovers of the job's process group
            let exit = sandbox::reap(pid);
            let deadline = Instant::now() + Duration::from_secs(2);
            for _ in 0..readers {
                let left = deadline.saturating_duration_since(Instant::now());
                if done_rx.recv_timeout(left).is_err() {
                    break; // a detached grandchild keeps a pipe open: stop waiting for it
                }
            }
            exit
        }
    };
    finish(w, job, exit, started.elapsed());
}

fn walk(root: &Path, rel: &str, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(root, &r, out),
            Ok(t) if t.is_file() => out.push(r),
            _ => {} // links and specials are never outputs
        }
    }
}

fn sha256_file(p: &Path) -> Option<(u64, String)> {
    let mut f = std::fs::File::open(p).ok()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).ok()?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Some((n, sandrun_protocol::hash::hex(&h.finalize())))
}

fn finish(w: &Worker, job: &Arc<Job>, exit: Exit, wall: Duration) {
    let mut paths = Vec::new();
    walk(&job.dir, "", &mut paths);
    paths.retain(|p| sandrun_protocol::glob::any_matches(&job.outputs, p));
    if !w.cfg.compat {
        paths.sort();
    }
    if w.cfg.alter_output {
        if let Some(victim) = paths.iter().min() {
            let p = job.dir.join(victim);
            let mut data = std::fs::read(&p).unwrap_or_default();
            match data.first_mut() {
                Some(b) => *b ^= 0x20,
                None => data.push(b'X'),
            }
            let _ = std::fs::write(&p, data);
        }
    }
    let outputs: Vec<OutFile> = paths
        .into_iter()
        .filter_map(|p| {
            sha256_file(&job.dir.join(&p)).map(|(size, sha256)| OutFile {
                path: p,
                size,
                sha256,
            })
        })
        .collect();
    let cpu_str = sandrun_protocol::cpu::format_g(exit.cpu_seconds);
    let signature = w.key.as_ref().map(|k| {
        k.sign(&sandrun_protocol::signing::result_message(
            &job.job_hash,
            exit.exit_code,
            &cpu_str,
            exit.memory_mb,
            outputs.iter().map(|o| (o.path.as_str(), o.sha256.as_str())),
        ))
    });
    {
        let mut st = job.st.lock().unwrap();
        st.status = if st.cancel {
            Status::Cancelled
        } else if exit.exit_code == 0 {
            Status::Completed
        } else {
            Status::Failed
        };
        st.result = Some(JobResult {
            exit_code: exit.exit_code,
            cpu: exit.cpu_seconds,
            cpu_str,
            memory_mb: exit.memory_mb,
            wall_ms: wall.as_millis() as u64,
            outputs,
            signature,
        });
        Job::notify(&mut st, Ev::Done);
        st.subs.clear();
    }
    w.release(job.owner, false, Some(exit.cpu_seconds));
}

fn cancel(w: &Worker, job: &Arc<Job>, peer: IpAddr) -> Response {
    let esc = w.esc();
    if peer != job.owner {
        return Response::error(
            403,
            "Only the client that submitted a job can cancel it",
            esc,
        );
    }
    let mut st = job.st.lock().unwrap();
    match st.status {
        Status::Queued => {
            st.status = Status::Cancelled;
            st.cancel = true;
            let cpu_str = "0".to_string();
            let signature = w.key.as_ref().map(|k| {
                k.sign(&sandrun_protocol::signing::result_message(
                    &job.job_hash,
                    -1,
                    &cpu_str,
                    0,
                    std::iter::empty(),
                ))
            });
            st.result = Some(JobResult {
                exit_code: -1,
                cpu: 0.0,
                cpu_str,
                memory_mb: 0,
                wall_ms: 0,
                outputs: vec![],
                signature,
            });
            Job::notify(&mut st, Ev::Done);
            st.subs.clear();
            drop(st);
            w.release(job.owner, false, None);
        }
        Status::Running => {
            st.cancel = true;
            if let Some(pid) = st.pid {
                sandbox::kill_group(pid);
            }
        }
        s => {
            let v = J::obj(vec![
                ("error", J::s("Job already finished")),
                ("status", J::s(s.word())),
            ]);
            return Response::json(409, json::to_string(&v, esc, false));
        }
    }
    let v = J::obj(vec![
        ("job_id", J::s(&job.id)),
        ("status", J::s("cancelled")),
    ]);
    Response::json(200, json::to_string(&v, esc, false))
}

// ---------------------------------------------------------------- download

async fn download(w: &Arc<Worker>, rest: &str) -> Response {
    let compat = w.cfg.compat;
    let esc = w.esc();
    let (id, file) = match rest.split_once('/') {
        Some((id, f)) => (id, f),
        None => (rest, ""),
    };
    let Some(job) = w.job(id) else {
        return not_found(w);
    };
    if file.is_empty() {
        // The whole job folder as tar.gz; the real server then deletes the job (compat only).
        if !compat && !job.st.lock().unwrap().status.terminal() {
            return Response::error(409, "Job has not finished yet", esc);
        }
        let dir = job.dir.clone();
        let packed = tokio::task::spawn_blocking(move || archive::pack_dir(&dir)).await;
        return match packed {
            Ok(Ok(bytes)) => {
                if compat {
                    w.jobs.lock().unwrap().remove(id);
                    let _ = std::fs::remove_dir_all(&job.dir);
                }
                Response::new(200, "application/gzip", bytes).with_header(
                    "Content-Disposition",
                    format!("attachment; filename=\"{id}.tar.gz\""),
                )
            }
            _ => Response::error(500, "Failed to create archive", esc),
        };
    }
    if !compat && !job.st.lock().unwrap().status.terminal() {
        return Response::error(409, "Job has not finished yet", esc);
    }
    let Some(rel) = archive::safe_rel(Path::new(file)) else {
        return Response::error(403, "Access denied", esc);
    };
    let full = job.dir.join(&rel);
    let inside = match (
        std::fs::canonicalize(&full),
        std::fs::canonicalize(&job.dir),
    ) {
        (Ok(f), Ok(d)) => Some(f.starts_with(&d)),
        _ => None,
    };
    match inside {
        Some(false) => return Response::error(403, "Access denied", esc),
        None if compat => {
            return Response::error(500, &format!("Failed to read file: {file}"), esc)
        }
        None => return Response::error(404, &format!("No file {file:?} in job {id}"), esc),
        Some(true) => {}
    }
    match tokio::fs::read(&full).await {
        Ok(bytes) => {
            let base = file.rsplit('/').next().unwrap_or(file).replace('"', "");
            Response::new(200, util::mime(file), bytes).with_header(
                "Content-Disposition",
                format!("attachment; filename=\"{base}\""),
            )
        }
        Err(_) if compat => Response::error(500, &format!("Failed to read file: {file}"), esc),
        Err(_) => Response::error(404, &format!("No file {file:?} in job {id}"), esc),
    }
}

// ---------------------------------------------------------------- log stream

/// Hands back complete UTF-8 text, keeping an unfinished trailing sequence for later.
fn take_utf8(pending: &mut Vec<u8>, flush: bool) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(pending) {
            Ok(s) => {
                out.push_str(s);
                pending.clear();
                return out;
            }
            Err(e) => {
                let v = e.valid_up_to();
                out.push_str(std::str::from_utf8(&pending[..v]).unwrap_or(""));
                match e.error_len() {
                    Some(n) => {
                        out.push('\u{FFFD}');
                        pending.drain(..v + n);
                    }
                    None => {
                        pending.drain(..v);
                        if flush {
                            out.push('\u{FFFD}');
                            pending.clear();
                        }
                        return out;
                    }
                }
            }
        }
    }
}

fn stream(w: Arc<Worker>, id: String, key: String) -> Response {
    Response::upgrade(Box::new(move |sock| {
        Box::pin(async move {
            let Some((mut out, mut inc)) = ws::accept(sock, &key).await else {
                return;
            };
            let Some(job) = w.job(&id) else {
                out.text(format!("[ERROR] Job not found: {id}\n").as_bytes())
                    .await;
                out.close(1000).await;
                linger_ws(&mut inc, Duration::from_secs(2)).await;
                return;
            };
            if w.cfg.compat {
                stream_compat(&w, job, out, inc).await
            } else {
                stream_default(&w, job, out, inc).await
            }
        })
    }))
}

async fn linger_ws(inc: &mut mpsc::UnboundedReceiver<Incoming>, d: Duration) {
    let _ = tokio::time::timeout(d, async {
        while let Some(m) = inc.recv().await {
            if matches!(m, Incoming::Closed { .. }) {
                return;
            }
        }
    })
    .await;
}

use ws::Incoming;

fn done_line(w: &Worker, st: &JobState) -> String {
    let r = st.result.as_ref();
    sandrun_protocol::stream::format_done(
        w.status_word(st.status),
        r.map(|r| r.exit_code).unwrap_or(-1),
        r.map(|r| r.cpu).unwrap_or(0.0),
        r.map(|r| r.memory_mb).unwrap_or(0),
    )
}

async fn stream_compat(
    w: &Worker,
    job: Arc<Job>,
    mut out: ws::WsWriter,
    mut inc: mpsc::UnboundedReceiver<Incoming>,
) {
    let (status, rx) = {
        let mut st = job.st.lock().unwrap();
        let rx = if st.status.terminal() {
            None
        } else {
            let (tx, rx) = mpsc::unbounded_channel();
            st.subs.push(tx);
            Some(rx)
        };
        (st.status, rx)
    };
    out.text(format!("[STATUS] Job status: {}\n", w.status_word(status)).as_bytes())
        .await;
    let Some(mut rx) = rx else {
        // Attaching to a finished job replays the output twice: accumulated, then split.
        let (stdout, stderr, done) = {
            let st = job.st.lock().unwrap();
            (st.stdout.clone(), st.stderr.clone(), done_line(w, &st))
        };
        let mut all = stdout.clone();
        all.extend_from_slice(&stderr);
        if !all.is_empty() {
            out.text(&all).await;
        }
        send_final(&mut out, &stdout, &stderr).await;
        out.text(done.as_bytes()).await;
        out.close(1000).await;
        linger_ws(&mut inc, Duration::from_secs(2)).await;
        return;
    };
    if status == Status::Running {
        out.text(b"[STATUS] Job started\n").await;
    }
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(Ev::Started) => { out.text(b"[STATUS] Job started\n").await; }
                Some(Ev::Out(_)) | Some(Ev::Err(_)) => {} // not streamed by the real server
                Some(Ev::Done) | None => break,
            },
            m = inc.recv() => match m {
                Some(Incoming::Ping(p)) => { out.pong(&p).await; }
                _ => return, // client went away
            },
        }
    }
    let (stdout, stderr, done) = {
        let st = job.st.lock().unwrap();
        (st.stdout.clone(), st.stderr.clone(), done_line(w, &st))
    };
    send_final(&mut out, &stdout, &stderr).await;
    out.text(done.as_bytes()).await;
    // No close frame on a live stream: wait for the client to hang up.
    linger_ws(&mut inc, Duration::from_secs(120)).await;
}

async fn send_final(out: &mut ws::WsWriter, stdout: &[u8], stderr: &[u8]) {
    if !stdout.is_empty() {
        out.text(stdout).await;
    }
    if !stderr.is_empty() {
        let mut f = b"[STDERR]\n".to_vec();
        f.extend_from_slice(stderr);
        out.text(&f).await;
    }
}

async fn stream_default(
    w: &Worker,
    job: Arc<Job>,
    mut out: ws::WsWriter,
    mut inc: mpsc::UnboundedReceiver<Incoming>,
) {
    let (status, mut pend_out, mut pend_err, rx) = {
        let mut st = job.st.lock().unwrap();
        let rx = if st.status.terminal() {
            None
        } else {
            let (tx, rx) = mpsc::unbounded_channel();
            st.subs.push(tx);
            Some(rx)
        };
        (st.status, st.stdout.clone(), st.stderr.clone(), rx)
    };
    out.text(format!("[STATUS] Job status: {}\n", status.word()).as_bytes())
        .await;
    if status != Status::Queued {
        out.text(b"[STATUS] Job started\n").await;
    }
    async fn send_out(
        out: &mut ws::WsWriter,
        pending: &mut Vec<u8>,
        is_err: bool,
        flush: bool,
    ) -> bool {
        let text = take_utf8(pending, flush);
        if text.is_empty() {
            return true;
        }
        if is_err {
            out.text(format!("[STDERR]\n{text}").as_bytes()).await
        } else {
            out.text(text.as_bytes()).await
        }
    }
    let terminal = rx.is_none();
    send_out(&mut out, &mut pend_out, false, terminal).await;
    send_out(&mut out, &mut pend_err, true, terminal).await;
    if let Some(mut rx) = rx {
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(Ev::Started) => { out.text(b"[STATUS] Job started\n").await; }
                    Some(Ev::Out(b)) => { pend_out.extend_from_slice(&b); if !send_out(&mut out, &mut pend_out, false, false).await { return; } }
                    Some(Ev::Err(b)) => { pend_err.extend_from_slice(&b); if !send_out(&mut out, &mut pend_err, true, false).await { return; } }
                    Some(Ev::Done) | None => break,
                },
                m = inc.recv() => match m {
                    Some(Incoming::Ping(p)) => { out.pong(&p).await; }
                    Some(Incoming::Closed { got_close_frame: true }) => { out.close(1000).await; return; }
                    _ => return,
                },
            }
        }
        send_out(&mut out, &mut pend_out, false, true).await;
        send_out(&mut out, &mut pend_err, true, true).await;
    }
    let done = {
        let st = job.st.lock().unwrap();
        done_line(w, &st)
    };
    out.text(done.as_bytes()).await;
    out.close(1000).await;
    linger_ws(&mut inc, Duration::from_secs(2)).await;
}
