//! Running a job: a default-mode slot or the compat mode's single runner under the global lock,
//! the sandboxed process with its output kept and streamed, then the outputs hashed and the
//! result signed.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::job::{Ev, Job, JobResult, OutFile, Status};
use super::store::Worker;
use crate::sandbox::{self, Exit};

/// Queues a submitted job: compat jobs go to the single runner, default-mode jobs wait for a slot.
pub fn enqueue(w: &Arc<Worker>, job: Arc<Job>) {
    if w.cfg.compat {
        let _ = w.compat_queue.send(job);
    } else {
        let w = w.clone();
        tokio::spawn(async move {
            let Ok(_permit) = w.slots.clone().acquire_owned().await else {
                return;
            };
            run_job(w.clone(), job).await;
        });
    }
}

/// The compat runner: one job at a time, holding the real server's global lock while it runs.
pub fn spawn_compat_runner(w: &Arc<Worker>, mut queue: mpsc::UnboundedReceiver<Arc<Job>>) {
    let wr = Arc::downgrade(w);
    tokio::spawn(async move {
        while let Some(job) = queue.recv().await {
            let Some(w) = wr.upgrade() else { return };
            let guard = w.exec_lock.lock().await;
            run_job(w.clone(), job).await;
            drop(guard);
        }
    });
}

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
                st.notify(Ev::Started);
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
                st.notify(Ev::Started);
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
    let signature = w.sign(job, exit.exit_code, &cpu_str, exit.memory_mb, &outputs);
    {
        let mut st = job.st.lock().unwrap();
        let status = if st.cancel {
            Status::Cancelled
        } else if exit.exit_code == 0 {
            Status::Completed
        } else {
            Status::Failed
        };
        let result = JobResult {
            exit_code: exit.exit_code,
            cpu: exit.cpu_seconds,
            cpu_str,
            memory_mb: exit.memory_mb,
            wall_ms: wall.as_millis() as u64,
            outputs,
            signature,
        };
        st.end(status, result);
    }
    w.quotas.release(job.owner, false, Some(exit.cpu_seconds));
}
