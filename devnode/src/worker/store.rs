//! The worker's state: its jobs (kept until retention ends), its key, the per-IP quotas and the
//! means of running jobs (the compat queue and global lock, the default mode's semaphore).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sandrun_protocol::signing::{result_message, WorkerKey};
use tokio::sync::{mpsc, Semaphore};

use super::config::WorkerCfg;
use super::job::{Job, OutFile, Status};
use super::quota::Quotas;
use crate::json::Escape;

pub struct Worker {
    pub cfg: WorkerCfg,
    key: Option<WorkerKey>,
    pub worker_id: Option<String>,
    jobs: Mutex<HashMap<String, Arc<Job>>>,
    seq: AtomicU64,
    pub quotas: Quotas,
    /// Compat: the real server's global lock, held while a job runs.
    pub exec_lock: tokio::sync::Mutex<()>,
    /// Compat: jobs wait here for the one runner.
    pub compat_queue: mpsc::UnboundedSender<Arc<Job>>,
    /// Default mode: jobs run at once.
    pub slots: Arc<Semaphore>,
}

impl Worker {
    /// The worker, and the receiving end of its compat queue (for the runner).
    pub fn new(
        cfg: WorkerCfg,
        key: Option<WorkerKey>,
    ) -> std::io::Result<(Arc<Worker>, mpsc::UnboundedReceiver<Arc<Job>>)> {
        std::fs::create_dir_all(&cfg.work_dir)?;
        let (tx, rx) = mpsc::unbounded_channel::<Arc<Job>>();
        let worker_id = key.as_ref().map(|k| k.worker_id());
        let w = Arc::new(Worker {
            slots: Arc::new(Semaphore::new(cfg.parallel.max(1))),
            cfg,
            key,
            worker_id,
            jobs: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            quotas: Quotas::default(),
            exec_lock: tokio::sync::Mutex::new(()),
            compat_queue: tx,
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
        Ok((w, rx))
    }

    pub fn esc(&self) -> Escape {
        if self.cfg.compat {
            Escape::Bytewise
        } else {
            Escape::Utf8
        }
    }

    /// Compat has no `cancelled` (cancellation is a default-mode extension anyway).
    pub fn status_word(&self, s: Status) -> &'static str {
        if self.cfg.compat && s == Status::Cancelled {
            "failed"
        } else {
            s.word()
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

    pub fn job(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs.lock().unwrap().get(id).cloned()
    }

    pub fn insert(&self, job: Arc<Job>) {
        self.jobs.lock().unwrap().insert(job.id.clone(), job);
    }

    /// Forgets a job and removes its folder.
    pub fn delete(&self, job: &Job) {
        self.jobs.lock().unwrap().remove(&job.id);
        let _ = std::fs::remove_dir_all(&job.dir);
    }

    /// The next job number (1, 2, …): job ids and queue order.
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// 1-based place among the queued jobs.
    pub fn queue_position(&self, job: &Job) -> u64 {
        let jobs = self.jobs.lock().unwrap();
        let ahead = jobs
            .values()
            .filter(|j| j.seq < job.seq && j.st.lock().unwrap().status == Status::Queued)
            .count();
        ahead as u64 + 1
    }

    /// (queued, running) job counts.
    pub fn load(&self) -> (u64, u64) {
        let jobs = self.jobs.lock().unwrap();
        let (mut queued, mut running) = (0, 0);
        for j in jobs.values() {
            match j.st.lock().unwrap().status {
                Status::Queued => queued += 1,
                Status::Running => running += 1,
                _ => {}
            }
        }
        (queued, running)
    }

    /// The worker's signature over a result, None for an anonymous worker.
    pub fn sign(
        &self,
        job: &Job,
        exit: i64,
        cpu: &str,
        mem: u64,
        outs: &[OutFile],
    ) -> Option<String> {
        let pairs = outs.iter().map(|o| (o.path.as_str(), o.sha256.as_str()));
        let key = self.key.as_ref()?;
        Some(key.sign(&result_message(&job.job_hash, exit, cpu, mem, pairs)))
    }
}
