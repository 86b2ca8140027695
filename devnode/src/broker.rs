//! The broker (node marketplace): jobs submitted as code, claimed by registered nodes, completed
//! with their output. State lives in SQLite, so a restart loses nothing. Nodes without a heartbeat
//! for the timeout become inactive and their assigned jobs go back to `pending`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::http::{self, Request, Response};
use crate::json::Escape;
use crate::util;

pub struct Broker {
    db: Mutex<Connection>,
    heartbeat_timeout: f64,
}

fn jerr(status: u16, msg: &str) -> Response {
    Response::error(status, msg, Escape::Utf8)
}

fn jok(status: u16, v: Value) -> Response {
    // serde_json's map is ordered by key: sorted keys, like the real broker.
    Response::json(status, v.to_string())
}

fn ts(v: Option<f64>) -> Value {
    v.map(|s| Value::String(util::utc_string(s as u64)))
        .unwrap_or(Value::Null)
}

impl Broker {
    pub fn open(path: &Path, heartbeat_timeout: Duration) -> Result<Arc<Broker>, String> {
        let db = crate::sqlite::open(
            path,
            "CREATE TABLE IF NOT EXISTS nodes (
                id TEXT PRIMARY KEY, endpoint TEXT NOT NULL, capabilities TEXT NOT NULL,
                active INTEGER NOT NULL DEFAULT 1, jobs_completed INTEGER NOT NULL DEFAULT 0,
                jobs_failed INTEGER NOT NULL DEFAULT 0, last_heartbeat REAL NOT NULL);
             CREATE TABLE IF NOT EXISTS jobs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, code TEXT NOT NULL,
                interpreter TEXT NOT NULL, args TEXT NOT NULL, status TEXT NOT NULL, node_id TEXT,
                created_at REAL NOT NULL, completed_at REAL, output TEXT, error TEXT, exit_code INTEGER);",
        )?;
        let b = Arc::new(Broker {
            db: Mutex::new(db),
            heartbeat_timeout: heartbeat_timeout.as_secs_f64(),
        });
        let bw = Arc::downgrade(&b);
        let tick = Duration::from_secs_f64((heartbeat_timeout.as_secs_f64() / 4.0).clamp(0.1, 5.0));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(tick).await;
                let Some(b) = bw.upgrade() else { return };
                b.expire();
            }
        });
        Ok(b)
    }

    /// Marks silent nodes inactive and re-queues their assigned jobs.
    pub fn expire(&self) {
        let db = self.db.lock().unwrap();
        let cutoff = util::unix_now_f64() - self.heartbeat_timeout;
        let _ = db.execute(
            "UPDATE nodes SET active = 0 WHERE active = 1 AND last_heartbeat < ?1",
            params![cutoff],
        );
        let _ = db.execute(
            "UPDATE jobs SET status = 'pending', node_id = NULL
             WHERE status = 'assigned' AND (node_id IS NULL OR node_id NOT IN (SELECT id FROM nodes WHERE active = 1))",
            [],
        );
    }
}

pub fn handler(b: Arc<Broker>) -> http::Handler {
    Arc::new(move |req: Request| {
        let b = b.clone();
        Box::pin(async move {
            let b2 = b.clone();
            tokio::task::spawn_blocking(move || route(&b2, req))
                .await
                .unwrap_or_else(|e| jerr(500, &format!("internal error: {e}")))
        })
    })
}

fn body_json(req: &Request) -> Result<Value, Response> {
    if req.body.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(jerr(400, "Request body must be a JSON object")),
    }
}

fn route(b: &Broker, req: Request) -> Response {
    let path = req.path().to_string();
    let r = match (req.method.as_str(), path.as_str()) {
        ("GET", "/health") => health(b),
        ("POST", "/submit") => submit(b, &req),
        ("GET", s) if s.starts_with("/status/") => status(b, &s[8..]),
        ("GET", s) if s.starts_with("/results/") => results(b, &s[9..]),
        ("POST", "/register") => register(b, &req),
        ("POST", "/heartbeat") => heartbeat(b, &req),
        ("GET", "/nodes") => nodes(b),
        ("POST", "/claim") => claim(b, &req),
        ("POST", "/complete") => complete(b, &req),
        _ => Ok(jerr(404, "Not found")),
    };
    r.unwrap_or_else(|e| e)
}

type R = Result<Response, Response>;

fn dberr(e: rusqlite::Error) -> Response {
    jerr(500, &format!("database error: {e}"))
}

fn health(b: &Broker) -> R {
    let db = b.db.lock().unwrap();
    let nodes: i64 = db
        .query_row("SELECT COUNT(*) FROM nodes WHERE active = 1", [], |r| {
            r.get(0)
        })
        .map_err(dberr)?;
    let jobs: i64 = db
        .query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))
        .map_err(dberr)?;
    Ok(jok(
        200,
        json!({"active_nodes": nodes, "jobs": jobs, "status": "healthy"}),
    ))
}

fn submit(b: &Broker, req: &Request) -> R {
    let v = body_json(req)?;
    let Some(code) = v["code"].as_str().filter(|c| !c.is_empty()) else {
        return Ok(jerr(400, "Missing code"));
    };
    let interpreter = v["interpreter"].as_str().unwrap_or("python3");
    let args: Vec<String> = match &v["args"] {
        Value::Null => vec![],
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => return Ok(jerr(400, "args must be a list")),
    };
    let id = util::random_hex(16);
    let db = b.db.lock().unwrap();
    db.execute(
        "INSERT INTO jobs (id, code, interpreter, args, status, created_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
        params![id, code, interpreter, serde_json::to_string(&args).unwrap(), util::unix_now_f64()],
    )
    .map_err(dberr)?;
    Ok(jok(200, json!({"job_id": id, "status": "pending"})))
}

fn status(b: &Broker, id: &str) -> R {
    let db = b.db.lock().unwrap();
    let row = db
        .query_row(
            "SELECT status, node_id, created_at, completed_at FROM jobs WHERE id = ?1",
            params![id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, Option<f64>>(3)?,
                ))
            },
        )
        .optional()
        .map_err(dberr)?;
    let Some((status, node, created, completed)) = row else {
        return Ok(jerr(404, "Job not found"));
    };
    Ok(jok(
        200,
        json!({"job_id": id, "status": status, "node_id": node, "created_at": ts(Some(created)), "completed_at": ts(completed)}),
    ))
}

fn results(b: &Broker, id: &str) -> R {
    let db = b.db.lock().unwrap();
    let row = db
        .query_row(
            "SELECT status, output, error, exit_code FROM jobs WHERE id = ?1",
            params![id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )
        .optional()
        .map_err(dberr)?;
    let Some((status, output, error, exit_code)) = row else {
        return Ok(jerr(404, "Job not found"));
    };
    if status == "pending" || status == "assigned" {
        return Ok(jerr(202, "Job not completed"));
    }
    Ok(jok(
        200,
        json!({"job_id": id, "status": status, "output": output, "error": error, "exit_code": exit_code}),
    ))
}

pub fn node_id_for(endpoint: &str) -> String {
    let mut s = sandrun_protocol::hash::hex(&Sha256::digest(endpoint.as_bytes()));
    s.truncate(16);
    s
}

fn register(b: &Broker, req: &Request) -> R {
    let v = body_json(req)?;
    let Some(endpoint) = v["endpoint"].as_str().filter(|e| !e.is_empty()) else {
        return Ok(jerr(400, "Missing endpoint"));
    };
    let caps = if v["capabilities"].is_null() {
        json!({})
    } else {
        v["capabilities"].clone()
    };
    let id = node_id_for(endpoint);
    let db = b.db.lock().unwrap();
    db.execute(
        "INSERT INTO nodes (id, endpoint, capabilities, active, last_heartbeat) VALUES (?1, ?2, ?3, 1, ?4)
         ON CONFLICT(id) DO UPDATE SET endpoint = ?2, capabilities = ?3, active = 1, last_heartbeat = ?4",
        params![id, endpoint, caps.to_string(), util::unix_now_f64()],
    )
    .map_err(dberr)?;
    Ok(jok(200, json!({"node_id": id})))
}

fn heartbeat(b: &Broker, req: &Request) -> R {
    let v = body_json(req)?;
    if let Some(id) = v["node_id"].as_str() {
        let db = b.db.lock().unwrap();
        db.execute(
            "UPDATE nodes SET last_heartbeat = ?1, active = 1 WHERE id = ?2",
            params![util::unix_now_f64(), id],
        )
        .map_err(dberr)?;
    }
    Ok(jok(200, json!({"status": "ok"})))
}

fn nodes(b: &Broker) -> R {
    let db = b.db.lock().unwrap();
    let mut stmt = db
        .prepare("SELECT id, endpoint, capabilities, active, jobs_completed, jobs_failed, last_heartbeat FROM nodes ORDER BY id")
        .map_err(dberr)?;
    let rows = stmt
        .query_map([], |r| {
            let caps: String = r.get(2)?;
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "endpoint": r.get::<_, String>(1)?,
                "capabilities": serde_json::from_str::<Value>(&caps).unwrap_or(Value::Null),
                "active": r.get::<_, i64>(3)? != 0,
                "jobs_completed": r.get::<_, i64>(4)?,
                "jobs_failed": r.get::<_, i64>(5)?,
                "last_heartbeat": ts(Some(r.get::<_, f64>(6)?)),
            }))
        })
        .map_err(dberr)?;
    let list: Vec<Value> = rows.filter_map(Result::ok).collect();
    Ok(jok(200, json!({"nodes": list})))
}

fn claim(b: &Broker, req: &Request) -> R {
    let v = body_json(req)?;
    let Some(node) = v["node_id"].as_str() else {
        return Ok(jerr(400, "Missing node_id"));
    };
    b.expire();
    let mut db = b.db.lock().unwrap();
    let tx = db.transaction().map_err(dberr)?;
    let row = tx
        .query_row(
            "SELECT id, code, interpreter, args FROM jobs WHERE status = 'pending' ORDER BY seq LIMIT 1",
            [],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)),
        )
        .optional()
        .map_err(dberr)?;
    let Some((id, code, interpreter, args)) = row else {
        return Ok(jok(200, json!({"job": null})));
    };
    tx.execute(
        "UPDATE jobs SET status = 'assigned', node_id = ?1 WHERE id = ?2",
        params![node, id],
    )
    .map_err(dberr)?;
    tx.commit().map_err(dberr)?;
    let args: Value = serde_json::from_str(&args).unwrap_or(json!([]));
    Ok(jok(
        200,
        json!({"job": {"id": id, "code": code, "interpreter": interpreter, "args": args}}),
    ))
}

fn complete(b: &Broker, req: &Request) -> R {
    let v = body_json(req)?;
    let Some(job) = v["job_id"].as_str() else {
        return Ok(jerr(400, "Missing job_id"));
    };
    let node = v["node_id"].as_str();
    let exit_code = v["exit_code"]
        .as_i64()
        .or_else(|| v["exit_code"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0);
    let text = |k: &str| -> Option<String> {
        match &v[k] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    };
    let status = if exit_code == 0 {
        "completed"
    } else {
        "failed"
    };
    let db = b.db.lock().unwrap();
    let n = db
        .execute(
            "UPDATE jobs SET status = ?1, output = ?2, error = ?3, exit_code = ?4, completed_at = ?5,
                node_id = COALESCE(?6, node_id) WHERE id = ?7",
            params![status, text("output"), text("error"), exit_code, util::unix_now_f64(), node, job],
        )
        .map_err(dberr)?;
    if n == 0 {
        return Ok(jerr(404, "Job not found"));
    }
    if let Some(node) = node {
        let col = if exit_code == 0 {
            "jobs_completed"
        } else {
            "jobs_failed"
        };
        let _ = db.execute(
            &format!("UPDATE nodes SET {col} = {col} + 1 WHERE id = ?1"),
            params![node],
        );
    }
    Ok(jok(200, json!({"status": "ok"})))
}
