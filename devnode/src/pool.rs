//! The trusted-pool coordinator: allow-listed workers (by Ed25519 public key), health-checked via
//! `/health`, jobs dispatched to the healthy worker with the most free capacity, status followed
//! by a monitor per job (so a job never stays `queued` once its worker has finished it), outputs
//! proxied from the worker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sandrun_protocol::ids::is_job_id;
use serde_json::{json, Value};

use crate::http::{self, Request, Response};
use crate::json::Escape;
use crate::multipart;
use crate::util;

#[derive(Clone, Debug)]
pub struct PoolWorker {
    pub endpoint: String,
    pub worker_id: String,
    pub max_concurrent: usize,
    pub healthy: bool,
    pub active: usize,
    pub last_check: Option<f64>,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug)]
struct PoolJob {
    worker: usize,
    worker_job_id: String,
    submitted_at: f64,
    completed_at: Option<f64>,
    pool_status: String,
    worker_status: Option<Value>,
}

pub struct Pool {
    workers: Mutex<Vec<PoolWorker>>,
    jobs: Mutex<HashMap<String, PoolJob>>,
}

/// Reads `[{"endpoint": "http://…", "worker_id": "<base64 key>", "max_concurrent_jobs"?: N}]`
/// (or the same list under `"workers"`).
pub fn load_workers(text: &str) -> Result<Vec<PoolWorker>, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("workers file is not JSON: {e}"))?;
    let list = match &v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o
            .get("workers")
            .and_then(|w| w.as_array())
            .cloned()
            .ok_or("expected a list of workers")?,
        _ => return Err("expected a list of workers".into()),
    };
    let mut out = Vec::new();
    for (i, w) in list.iter().enumerate() {
        let endpoint = w["endpoint"]
            .as_str()
            .ok_or(format!("workers[{i}].endpoint missing"))?;
        http::split_endpoint(endpoint).map_err(|e| format!("workers[{i}]: {e}"))?;
        let worker_id = w["worker_id"]
            .as_str()
            .ok_or(format!("workers[{i}].worker_id missing"))?;
        out.push(PoolWorker {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            worker_id: worker_id.to_string(),
            max_concurrent: w["max_concurrent_jobs"].as_u64().unwrap_or(2) as usize,
            healthy: false,
            active: 0,
            last_check: None,
            last_error: None,
        });
    }
    Ok(out)
}

fn jerr(status: u16, msg: &str) -> Response {
    Response::error(status, msg, Escape::Utf8)
}

fn jok(status: u16, v: Value) -> Response {
    Response::json(status, v.to_string())
}

impl Pool {
    pub fn new(workers: Vec<PoolWorker>, health_interval: Duration) -> Arc<Pool> {
        let p = Arc::new(Pool {
            workers: Mutex::new(workers),
            jobs: Mutex::new(HashMap::new()),
        });
        let pw = Arc::downgrade(&p);
        tokio::spawn(async move {
            loop {
                let Some(p) = pw.upgrade() else { return };
                p.check_health().await;
                drop(p);
                tokio::time::sleep(health_interval).await;
            }
        });
        p
    }

    async fn check_health(&self) {
        let list: Vec<(usize, String, String)> = self
            .workers
            .lock()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, w)| (i, w.endpoint.clone(), w.worker_id.clone()))
            .collect();
        let checks = list.into_iter().map(|(i, ep, id)| async move {
            let r =
                http::client_request(&ep, "GET", "/health", &[], b"", Duration::from_secs(5)).await;
            let verdict = match r {
                Ok(resp) if resp.status == 200 => {
                    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
                    match v["worker_id"].as_str() {
                        Some(got) if got == id => Ok(()),
                        Some(got) => Err(format!("worker_id {got} is not the allow-listed key")),
                        None => Err("anonymous worker (worker_id null)".to_string()),
                    }
                }
                Ok(resp) => Err(format!("/health answered {}", resp.status)),
                Err(e) => Err(e),
            };
            (i, verdict)
        });
        let results = futures_join(checks.collect()).await;
        let now = util::unix_now_f64();
        let mut ws = self.workers.lock().unwrap();
        for (i, verdict) in results {
            let w = &mut ws[i];
            w.last_check = Some(now);
            w.healthy = verdict.is_ok();
            w.last_error = verdict.err();
        }
    }

    fn pick(&self) -> Option<(usize, String)> {
        let mut ws = self.workers.lock().unwrap();
        let best = ws
            .iter()
            .enumerate()
            .filter(|(_, w)| w.healthy)
            .max_by_key(|(i, w)| (w.max_concurrent as i64 - w.active as i64, -(*i as i64)))
            .map(|(i, _)| i)?;
        ws[best].active += 1;
        Some((best, ws[best].endpoint.clone()))
    }

    fn release(&self, i: usize) {
        let mut ws = self.workers.lock().unwrap();
        ws[i].active = ws[i].active.saturating_sub(1);
    }
}

/// Runs futures concurrently (tiny join_all over tokio tasks-free polling).
async fn futures_join<F: std::future::Future + Send + 'static>(futs: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

pub fn handler(p: Arc<Pool>) -> http::Handler {
    Arc::new(move |req: Request| {
        let p = p.clone();
        Box::pin(async move { route(p, req).await })
    })
}

async fn route(p: Arc<Pool>, req: Request) -> Response {
    let path = req.path().to_string();
    match (req.method.as_str(), path.as_str()) {
        ("POST", "/submit") => submit(p, req).await,
        ("GET", "/pool") => pool_info(&p),
        ("GET", s) if s.starts_with("/status/") => status(&p, &s[8..]),
        ("GET", s) if s.starts_with("/outputs/") => outputs(&p, &s[9..]).await,
        _ => jerr(404, "Not found"),
    }
}

fn pool_info(p: &Pool) -> Response {
    let ws = p.workers.lock().unwrap();
    let workers: Vec<Value> = ws
        .iter()
        .map(|w| {
            json!({
                "worker_id": w.worker_id,
                "endpoint": w.endpoint,
                "is_healthy": w.healthy,
                "active_jobs": w.active,
                "max_concurrent_jobs": w.max_concurrent,
                "last_health_check": w.last_check,
                "last_error": w.last_error,
            })
        })
        .collect();
    let healthy = ws.iter().filter(|w| w.healthy).count();
    jok(
        200,
        json!({"workers": workers, "total_workers": ws.len(), "healthy_workers": healthy,
               "queued_jobs": 0, "total_jobs": p.jobs.lock().unwrap().len()}),
    )
}

async fn submit(p: Arc<Pool>, req: Request) -> Response {
    let Some(ct) = req.header("Content-Type", false).map(str::to_string) else {
        return jerr(
            400,
            "Expected multipart/form-data with 'files' and 'manifest'",
        );
    };
    let Some(boundary) = multipart::boundary(&ct) else {
        return jerr(
            400,
            "Expected multipart/form-data with 'files' and 'manifest'",
        );
    };
    let parts = match multipart::parse(&req.body, &boundary, false) {
        Ok(p) => p,
        Err(e) => return jerr(400, &format!("Malformed multipart body: {e}")),
    };
    if !parts.iter().any(|x| x.name == "files") {
        return jerr(400, "No files provided");
    }
    let Some(manifest) = parts.iter().find(|x| x.name == "manifest") else {
        return jerr(400, "No manifest provided");
    };
    if !serde_json::from_slice::<Value>(&manifest.data).is_ok_and(|v| v.is_object()) {
        return jerr(400, "Invalid manifest JSON");
    }
    // Try workers by free capacity; a worker that refuses (429, error) is skipped.
    let tried = p.workers.lock().unwrap().len();
    let mut last_err = "No healthy workers available".to_string();
    for _ in 0..tried.max(1) {
        let Some((wi, endpoint)) = p.pick() else {
            break;
        };
        let r = http::client_request(
            &endpoint,
            "POST",
            "/submit",
            &[("Content-Type", ct.as_str())],
            &req.body,
            Duration::from_secs(600),
        )
        .await;
        let v: Option<Value> = r
            .as_ref()
            .ok()
            .and_then(|r| serde_json::from_slice(&r.body).ok());
        // The worker's id goes into the paths the pool asks it later: only a well-formed one.
        let wjid = v
            .as_ref()
            .and_then(|v| v["job_id"].as_str())
            .filter(|id| is_job_id(id));
        match (&r, wjid) {
            (Ok(resp), Some(wjid)) if resp.status == 200 => {
                let id = format!("pool-{}", util::random_hex(16));
                p.jobs.lock().unwrap().insert(
                    id.clone(),
                    PoolJob {
                        worker: wi,
                        worker_job_id: wjid.to_string(),
                        submitted_at: util::unix_now_f64(),
                        completed_at: None,
                        pool_status: "queued".into(),
                        worker_status: None,
                    },
                );
                tokio::spawn(monitor(
                    p.clone(),
                    id.clone(),
                    endpoint,
                    wjid.to_string(),
                    wi,
                ));
                return jok(200, json!({"job_id": id, "status": "queued"}));
            }
            (Ok(resp), _) if resp.status == 400 => {
                p.release(wi);
                // The job itself is bad: every worker would say the same.
                return Response::json(400, String::from_utf8_lossy(&resp.body).to_string());
            }
            (Ok(resp), _) => {
                p.release(wi);
                last_err = format!(
                    "worker {endpoint} answered {}: {}",
                    resp.status,
                    String::from_utf8_lossy(&resp.body)
                );
            }
            (Err(e), _) => {
                p.release(wi);
                last_err = format!("worker {endpoint}: {e}");
            }
        }
    }
    jerr(503, &last_err)
}

/// Follows one job on its worker until it is terminal, then frees the worker's slot.
async fn monitor(p: Arc<Pool>, id: String, endpoint: String, wjid: String, wi: usize) {
    let mut failures = 0;
    loop {
        let r = http::client_request(
            &endpoint,
            "GET",
            &format!("/status/{wjid}"),
            &[],
            b"",
            Duration::from_secs(900),
        )
        .await;
        let parsed = r
            .ok()
            .filter(|r| r.status == 200)
            .and_then(|r| serde_json::from_slice::<Value>(&r.body).ok());
        match parsed {
            Some(v) => {
                failures = 0;
                let status = v["status"].as_str().unwrap_or("queued").to_string();
                let terminal = sandrun_protocol::status::is_terminal(&status);
                {
                    let mut jobs = p.jobs.lock().unwrap();
                    let Some(j) = jobs.get_mut(&id) else { break };
                    j.pool_status = status;
                    j.worker_status = Some(v);
                    if terminal {
                        j.completed_at = Some(util::unix_now_f64());
                    }
                }
                if terminal {
                    break;
                }
            }
            None => {
                failures += 1;
                if failures >= 60 {
                    if let Some(j) = p.jobs.lock().unwrap().get_mut(&id) {
                        j.pool_status = "failed".into();
                        j.completed_at = Some(util::unix_now_f64());
                    }
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    p.release(wi);
}

fn status(p: &Pool, id: &str) -> Response {
    let jobs = p.jobs.lock().unwrap();
    let Some(j) = jobs.get(id) else {
        return jerr(404, "Job not found");
    };
    let worker_id = p.workers.lock().unwrap()[j.worker].worker_id.clone();
    let mut v = json!({
        "job_id": id,
        "pool_status": j.pool_status,
        "worker_id": worker_id,
        "submitted_at": j.submitted_at,
        "completed_at": j.completed_at,
    });
    if let Some(ws) = &j.worker_status {
        v["worker_status"] = ws.clone();
    }
    jok(200, v)
}

async fn outputs(p: &Pool, rest: &str) -> Response {
    let Some((id, path)) = rest.split_once('/') else {
        return jerr(404, "Specify /outputs/{job_id}/{path}");
    };
    if path.is_empty() {
        return jerr(404, "Specify /outputs/{job_id}/{path}");
    }
    let (endpoint, wjid) = {
        let jobs = p.jobs.lock().unwrap();
        let Some(j) = jobs.get(id) else {
            return jerr(404, "Job not found");
        };
        (
            p.workers.lock().unwrap()[j.worker].endpoint.clone(),
            j.worker_job_id.clone(),
        )
    };
    match http::client_request(
        &endpoint,
        "GET",
        &format!("/download/{wjid}/{path}"),
        &[],
        b"",
        Duration::from_secs(120),
    )
    .await
    {
        Ok(r) if r.status == 200 => {
            let ct = r
                .header("Content-Type")
                .unwrap_or("application/octet-stream")
                .to_string();
            let mut resp = Response::new(200, ct, r.body.clone());
            if let Some(cd) = r.header("Content-Disposition") {
                resp.headers
                    .push(("Content-Disposition".into(), cd.to_string()));
            }
            resp
        }
        Ok(r) if r.status == 403 => jerr(403, "Access denied"),
        Ok(_) => jerr(404, "Output not found"),
        Err(e) => jerr(502, &format!("worker unreachable: {e}")),
    }
}
