//! One job: what was submitted, its state as it runs, and the events its log streams follow.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::sandbox::{self, Limits};

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

/// What a log stream following the job is told.
#[derive(Clone, Debug)]
pub enum Ev {
    Started,
    Out(Vec<u8>),
    Err(Vec<u8>),
    Done,
}

#[derive(Debug)]
pub struct OutFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug)]
pub struct JobResult {
    pub exit_code: i64,
    pub cpu: f64,
    /// The `%g` figure that was signed.
    pub cpu_str: String,
    pub memory_mb: u64,
    pub wall_ms: u64,
    /// In discovery order (compat lists them unsorted, like the real server).
    pub outputs: Vec<OutFile>,
    pub signature: Option<String>,
}

pub struct JobState {
    pub status: Status,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub result: Option<JobResult>,
    pub subs: Vec<mpsc::UnboundedSender<Ev>>,
    pub pid: Option<i32>,
    pub cancel: bool,
}

impl JobState {
    pub fn new() -> Self {
        JobState {
            status: Status::Queued,
            stdout: Vec::new(),
            stderr: Vec::new(),
            result: None,
            subs: Vec::new(),
            pid: None,
            cancel: false,
        }
    }

    pub fn notify(&mut self, ev: Ev) {
        self.subs.retain(|s| s.send(ev.clone()).is_ok());
    }

    /// A new follower of the job's events, or None when it has already ended.
    pub fn subscribe(&mut self) -> Option<mpsc::UnboundedReceiver<Ev>> {
        if self.status.terminal() {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        self.subs.push(tx);
        Some(rx)
    }

    /// The job's end: its final status and result; followers get `Done` and are let go.
    pub fn end(&mut self, status: Status, result: JobResult) {
        self.status = status;
        self.result = Some(result);
        self.notify(Ev::Done);
        self.subs.clear();
    }
}

pub struct Job {
    pub id: String,
    pub seq: u64,
    pub owner: IpAddr,
    pub submitted: Instant,
    pub dir: PathBuf,
    pub entrypoint: String,
    pub interpreter: String,
    pub environment: String,
    pub args: Vec<String>,
    pub outputs: Vec<String>,
    pub env: Vec<(String, String)>,
    pub limits: Limits,
    pub wall: Duration,
    pub job_hash: String,
    pub st: Mutex<JobState>,
}

impl Job {
    /// Keeps up to `cap` bytes of each stream and tells the followers.
    pub fn append(&self, stderr: bool, bytes: &[u8], cap: usize) {
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
        st.notify(ev);
    }

    /// Kills the running process group (timeout or cancellation).
    pub fn kill(&self, cancel: bool) {
        let mut st = self.st.lock().unwrap();
        if cancel {
            st.cancel = true;
        }
        if let Some(pid) = st.pid {
            sandbox::kill_group(pid);
        }
    }
}
