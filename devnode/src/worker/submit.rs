//! `POST /submit`: a quota slot, the multipart upload unpacked into a new job folder, the
//! manifest read (strictly, or as the real worker's substring reader in compat mode), the
//! entrypoint found, the job hash computed, and the job queued.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sandrun_protocol::manifest::{implied_interpreter, DEFAULT_ENTRYPOINTS, DEFAULT_INTERPRETER};

use super::bodies;
use super::job::{Job, JobState};
use super::runner;
use super::store::Worker;
use crate::archive;
use crate::http::{Request, Response};
use crate::manifest::{self, Manifest};
use crate::multipart;
use crate::sandbox::{self, Limits};
use crate::util;

pub async fn submit(w: &Arc<Worker>, req: Request) -> Response {
    let ip = req.peer;
    if let Err(r) = w.quotas.reserve(ip, &w.cfg) {
        return bodies::refused(w, r);
    }
    let w2 = w.clone();
    let created = tokio::task::spawn_blocking(move || create_job(&w2, req))
        .await
        .unwrap_or_else(|e| Err((500, format!("Internal error: {e}"))));
    match created {
        Ok(job) => {
            w.insert(job.clone());
            runner::enqueue(w, job.clone());
            bodies::job_state(w, &job, "queued")
        }
        Err((code, msg)) => {
            w.quotas.release(ip, true, None);
            Response::error(code, &msg, w.esc())
        }
    }
}

type Fail = (u16, String);

fn bad(m: &str) -> Fail {
    (400, m.to_string())
}

fn is_plain_file(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .map(|x| x.is_file())
        .unwrap_or(false)
}

fn create_job(w: &Arc<Worker>, req: Request) -> Result<Arc<Job>, Fail> {
    let compat = w.cfg.compat;
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
        Some(t) => read_manifest(t, compat)?,
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

    let seq = w.next_seq();
    let id = format!("job_{}_{}", util::unix_now(), seq);
    let dir = w.cfg.work_dir.join(&id);
    std::fs::create_dir_all(&dir).map_err(|e| (500, format!("Cannot create job folder: {e}")))?;
    let cleanup = |e: Fail| {
        let _ = std::fs::remove_dir_all(&dir);
        e
    };
    let limit = (w.cfg.max_request as u64).saturating_mul(10).max(1 << 30);
    for part in &files {
        store_part(part, &dir, limit, compat).map_err(cleanup)?;
    }

    // Entrypoint: manifest, then job.json, then the worker's default files.
    if m.entrypoint.is_none() {
        let jj = dir.join("job.json");
        if is_plain_file(&jj) {
            let text = std::fs::read_to_string(&jj).unwrap_or_default();
            let from_file = read_manifest(&text, compat)
                .map_err(|(c, e)| cleanup((c, format!("job.json: {e}"))))?;
            if from_file.entrypoint.is_some() {
                m = from_file;
            }
        }
    }
    if m.entrypoint.is_none() {
        if let Some(file) = DEFAULT_ENTRYPOINTS
            .into_iter()
            .find(|f| is_plain_file(&dir.join(f)))
        {
            m.entrypoint = Some(file.to_string());
            if m.interpreter.is_none() {
                m.interpreter = implied_interpreter(file).map(str::to_string);
            }
        }
    }
    let Some(entrypoint) = m.entrypoint.clone() else {
        return Err(cleanup(bad("No entrypoint specified")));
    };
    let entry_bytes = archive::safe_rel(Path::new(&entrypoint))
        .map(|rel| dir.join(rel))
        .filter(|p| is_plain_file(p))
        .and_then(|p| std::fs::read(p).ok());
    if entry_bytes.is_none() && !compat {
        return Err(cleanup(bad(&format!(
            "Entrypoint {entrypoint:?} is not a file of the upload"
        ))));
    }
    let interpreter = m
        .interpreter
        .clone()
        .unwrap_or_else(|| DEFAULT_INTERPRETER.into());
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
        st: Mutex::new(JobState::new()),
    }))
}

/// The real worker's substring reading (compat) or the strict JSON reading.
fn read_manifest(text: &str, compat: bool) -> Result<Manifest, Fail> {
    if compat {
        Ok(manifest::parse_compat(text))
    } else {
        manifest::parse_strict(text).map_err(|e| bad(&e))
    }
}

/// One `files` part into the job folder: a tar.gz is unpacked, anything else stored as a file.
fn store_part(part: &multipart::Part, dir: &Path, limit: u64, compat: bool) -> Result<(), Fail> {
    let name = part.filename.clone().unwrap_or_default();
    if name.contains(".tar.gz") || name.contains(".tgz") {
        match archive::unpack_tar_gz(&part.data, dir, limit) {
            Ok(u) => match (compat, u.refused.first()) {
                (false, Some((p, why))) => Err(bad(&format!(
                    "Archive {name:?}: entry {p:?} refused: {why}"
                ))),
                _ => Ok(()),
            },
            Err(_) if compat => Ok(()),
            Err(e) => Err(bad(&format!("Cannot unpack {name:?}: {e}"))),
        }
    } else if name.contains(".zip") {
        if compat {
            Ok(())
        } else {
            Err(bad(
                "zip uploads are not supported by the dev node; send one .tar.gz",
            ))
        }
    } else {
        match archive::safe_rel(Path::new(&name)) {
            None if compat => Ok(()),
            None => Err(bad(&format!(
                "File name {name:?} is empty or leaves the job folder"
            ))),
            Some(rel) if compat => {
                // No sub-folders are created: `pkg/mod.py` is dropped unless pkg/ exists.
                let parent_ok = rel
                    .parent()
                    .map(|p| p.as_os_str().is_empty() || dir.join(p).is_dir())
                    .unwrap_or(true);
                if parent_ok {
                    let _ = archive::write_file(dir, &rel, &mut &part.data[..], limit);
                }
                Ok(())
            }
            Some(rel) => archive::write_file(dir, &rel, &mut &part.data[..], limit)
                .map(drop)
                .map_err(|e| bad(&format!("Cannot store {name:?}: {e}"))),
        }
    }
}
