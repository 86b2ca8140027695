//! The real worker's routing (`--compat`): prefix matches on the raw target (not decoded, query
//! kept), any unknown GET answered with the info body, unknown non-GET 404, exact header names
//! for the WebSocket handshake, and the global lock: `/submit`, `/status`, `/logs`, `/outputs`,
//! `/download` and `/stats` wait while a job runs.

use std::sync::Arc;

use super::bodies;
use super::download::download;
use super::job::Job;
use super::store::Worker;
use super::stream::stream;
use super::submit::submit;
use crate::http::{Request, Response};

pub async fn route(w: Arc<Worker>, req: Request) -> Response {
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
    let with_job = |id: &str, body: fn(&Worker, &Job) -> Response| {
        w.job(id)
            .map(|j| body(&w, &j))
            .unwrap_or_else(|| bodies::not_found(&w))
    };
    if t.starts_with("/health") {
        bodies::health(&w)
    } else if let Some(id) = t.strip_prefix("/status/") {
        with_job(id, bodies::status)
    } else if let Some(id) = t.strip_prefix("/logs/") {
        with_job(id, bodies::logs)
    } else if let Some(id) = t.strip_prefix("/outputs/") {
        with_job(id, bodies::outputs)
    } else if let Some(rest) = t.strip_prefix("/download/") {
        download(&w, rest).await
    } else if t.starts_with("/stats") {
        bodies::stats(&w, req.peer)
    } else if t.starts_with("/environments") {
        bodies::environments(&w)
    } else if let (Some(id), Some(_), Some(_), Some(key)) = (
        t.strip_prefix("/stream/"),
        req.header("Upgrade", true),
        req.header("Connection", true),
        req.header("Sec-WebSocket-Key", true),
    ) {
        stream(w.clone(), id.to_string(), key.to_string())
    } else {
        bodies::info(&w)
    }
}
