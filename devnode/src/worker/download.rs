//! `GET /download/{id}/{path}` (one output file) and `GET /download/{id}` (the whole job folder
//! as tar.gz, which deletes the job in compat mode, as on the real server).

use std::path::Path;
use std::sync::Arc;

use super::bodies;
use super::store::Worker;
use crate::archive;
use crate::http::Response;
use crate::util;

pub async fn download(w: &Arc<Worker>, rest: &str) -> Response {
    let compat = w.cfg.compat;
    let esc = w.esc();
    let (id, file) = match rest.split_once('/') {
        Some((id, f)) => (id, f),
        None => (rest, ""),
    };
    let Some(job) = w.job(id) else {
        return bodies::not_found(w);
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
                    w.delete(&job);
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
