//! `GET /ipfs/{cid}[/path]`: the request passed to the upstream gateway (target and `Accept`
//! as sent, so `format`, `dag-scope` and `entity-bytes` reach it), the answer passed back with
//! the faults applied.

use std::sync::Arc;
use std::time::Duration;

use super::faults::{self, Fault};
use crate::http::{self, Request, Response};

pub struct Gateway {
    pub upstream: String,
    pub faults: Vec<Fault>,
    pub agent: ureq::Agent,
}

/// The most of an upstream answer the gateway holds (it changes whole answers).
const MAX_BODY: u64 = 1 << 30;

/// Upstream headers passed on (besides `Content-Type`).
const PASSED: [&str; 5] = [
    "Content-Disposition",
    "X-Ipfs-Path",
    "X-Ipfs-Roots",
    "Etag",
    "Cache-Control",
];

impl Gateway {
    pub fn new(upstream: &str, faults: Vec<Fault>, timeout: Duration) -> Result<Gateway, String> {
        let upstream = upstream.trim_end_matches('/');
        if !upstream.starts_with("http://") {
            return Err(format!("--upstream {upstream:?} must be an http:// URL"));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Ok(Gateway {
            upstream: upstream.to_string(),
            faults,
            agent,
        })
    }

    fn has(&self, f: Fault) -> bool {
        self.faults.contains(&f)
    }
}

pub fn handler(g: Arc<Gateway>) -> http::Handler {
    Arc::new(move |req: Request| {
        let g = g.clone();
        Box::pin(async move { answer(g, req).await })
    })
}

async fn answer(g: Arc<Gateway>, req: Request) -> Response {
    for f in &g.faults {
        match *f {
            Fault::Drop => return dropped(),
            Fault::Slow(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            Fault::Status(code) => {
                let text = format!("sandrun-devnode gateway: injected fault, status {code}\n");
                return Response::new(code, "text/plain", text.into_bytes());
            }
            _ => {}
        }
    }
    if !req.path().starts_with("/ipfs/") {
        return Response::new(
            404,
            "text/plain",
            b"only /ipfs/{cid} is served here\n".to_vec(),
        );
    }
    if req.method != "GET" {
        return Response::new(405, "text/plain", b"only GET\n".to_vec())
            .with_header("Allow", "GET, OPTIONS");
    }
    let accept = req.header("Accept", false).map(str::to_string);
    let g2 = g.clone();
    let fetched = tokio::task::spawn_blocking(move || fetch(&g2, &req.target, accept.as_deref()))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let (status, content_type, headers, mut body) = match fetched {
        Ok(a) => a,
        Err(e) => {
            let text = format!("sandrun-devnode gateway: upstream {}: {e}\n", g.upstream);
            return Response::new(502, "text/plain", text.into_bytes());
        }
    };
    if status == 200 {
        if content_type.starts_with("application/vnd.ipld.raw") && g.has(Fault::TamperBlock) {
            faults::tamper(&mut body);
        } else if content_type.starts_with("application/vnd.ipld.car") {
            if let Some(changed) = faults::apply_to_car(&g.faults, &body) {
                body = changed;
            }
        }
    }
    let mut resp = Response::new(status, content_type, body).with_header(
        "Access-Control-Expose-Headers",
        "Content-Length, Content-Type, X-Ipfs-Path, X-Ipfs-Roots, Etag",
    );
    resp.headers.extend(headers);
    resp
}

type Fetched = (u16, String, Vec<(String, String)>, Vec<u8>);

fn fetch(g: &Gateway, target: &str, accept: Option<&str>) -> Result<Fetched, String> {
    let mut req = g.agent.get(format!("{}{target}", g.upstream));
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let mut resp = req.call().map_err(|e| e.to_string())?;
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("Content-Type").unwrap_or_else(|| "application/octet-stream".into());
    let headers = PASSED
        .iter()
        .filter_map(|n| header(n).map(|v| (n.to_string(), v)))
        .collect();
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    Ok((status, content_type, headers, body))
}

/// Closes the connection without a word.
fn dropped() -> Response {
    Response::upgrade(Box::new(|stream| Box::pin(async move { drop(stream) })))
}
