//! The spec's routes: `GET`/`POST /pins`, `GET`/`POST`/`DELETE /pins/{requestid}`, each behind a
//! bearer token. CORS preflights are answered by the HTTP server before they get here.

use std::sync::Arc;

use sandrun_protocol::hash::sha256_hex;

use super::answers::{failure, results, status};
use super::filter;
use super::lifecycle::Pinner;
use super::store::{Pin, PinRecord, PinState};
use crate::http::{self, Request, Response};
use crate::util::random_hex;

pub struct Service {
    pub pinner: Arc<Pinner>,
    /// sha256 of each accepted token: the owner of the pins made with it.
    pub owners: Vec<String>,
    /// Multiaddrs of the Kubo node, for clients to connect to (the spec's `delegates`).
    pub delegates: Vec<String>,
}

pub fn handler(s: Arc<Service>) -> http::Handler {
    Arc::new(move |req: Request| {
        let s = s.clone();
        Box::pin(async move {
            // SQLite and Kubo calls block.
            tokio::task::spawn_blocking(move || route(&s, req))
                .await
                .unwrap_or_else(|e| failure(500, "INTERNAL_SERVER_ERROR", &e.to_string()))
        })
    })
}

fn route(s: &Service, req: Request) -> Response {
    let path = req.path().to_string();
    let id = match path.strip_prefix("/pins") {
        Some("") | Some("/") => None,
        Some(rest) if rest.starts_with('/') && !rest[1..].contains('/') => Some(&rest[1..]),
        _ => return failure(404, "NOT_FOUND", &format!("no route {path}")),
    };
    let owner = match owner(s, &req) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let answer = match (req.method.as_str(), id) {
        ("GET", None) => list(s, &owner, req.query()),
        ("POST", None) => add(s, &owner, &req.body, None),
        ("GET", Some(id)) => s
            .pinner
            .store
            .get(&owner, id)
            .map(|r| r.map(|r| status(200, &r, &s.delegates))),
        ("POST", Some(id)) => add(s, &owner, &req.body, Some(id)),
        ("DELETE", Some(id)) => remove(s, &owner, id),
        (m, _) => Ok(Some(failure(
            405,
            "METHOD_NOT_ALLOWED",
            &format!("{m} is not allowed on {path}"),
        ))),
    };
    match answer {
        Ok(Some(r)) => r,
        Ok(None) => failure(404, "NOT_FOUND", "no pin request with this requestid"),
        Err(e) => failure(500, "INTERNAL_SERVER_ERROR", &e),
    }
}

/// The owner the request's bearer token stands for.
fn owner(s: &Service, req: &Request) -> Result<String, Response> {
    let unauthorized = |d: &str| Err(failure(401, "UNAUTHORIZED", d));
    let Some(auth) = req.header("Authorization", false) else {
        return unauthorized("access token is missing");
    };
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "));
    match token.map(|t| sha256_hex(t.trim().as_bytes())) {
        Some(o) if s.owners.contains(&o) => Ok(o),
        _ => unauthorized("access token is invalid"),
    }
}

type Answer = Result<Option<Response>, String>;

fn bad(details: String) -> Answer {
    Ok(Some(failure(400, "BAD_REQUEST", &details)))
}

fn list(s: &Service, owner: &str, query: &str) -> Answer {
    let f = match filter::parse(query) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let all: Vec<PinRecord> = s
        .pinner
        .store
        .list(owner)?
        .into_iter()
        .filter(|r| f.matches(r))
        .collect();
    let page = &all[..all.len().min(f.limit)];
    Ok(Some(results(all.len(), page, &s.delegates)))
}

/// The spec's limits on a `Pin` object.
fn read_pin(body: &[u8]) -> Result<Pin, String> {
    let pin: Pin =
        serde_json::from_slice(body).map_err(|e| format!("body is not a Pin object: {e}"))?;
    let cid_ok = !pin.cid.is_empty()
        && pin.cid.len() <= 512
        && pin
            .cid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b));
    if !cid_ok {
        return Err(format!("cid {:?} is not a CID", pin.cid));
    }
    if pin.name.as_ref().is_some_and(|n| n.chars().count() > 255) {
        return Err("name is longer than 255 characters".into());
    }
    if let Some(o) = &pin.origins {
        let unique: std::collections::BTreeSet<&String> = o.iter().collect();
        if o.len() > 20 || unique.len() != o.len() {
            return Err("origins must be at most 20 distinct multiaddrs".into());
        }
    }
    if pin.meta.as_ref().is_some_and(|m| m.len() > 1000) {
        return Err("meta has more than 1000 entries".into());
    }
    Ok(pin)
}

/// `POST /pins` (a new request) or `POST /pins/{id}` (replacing request `id`).
fn add(s: &Service, owner: &str, body: &[u8], replacing: Option<&str>) -> Answer {
    let pin = match read_pin(body) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let store = &s.pinner.store;
    let old = match replacing {
        None => None,
        Some(id) => match store.get(owner, id)? {
            Some(old) => Some(old),
            None => return Ok(None),
        },
    };
    let record = PinRecord {
        requestid: random_hex(32),
        owner: owner.to_string(),
        replaces: old
            .as_ref()
            .filter(|o| o.pin.cid != pin.cid)
            .map(|o| o.pin.cid.clone()),
        pin,
        state: PinState::Queued,
        created: store.next_created(),
        details: None,
    };
    match &old {
        Some(old) => store.replace(old, &record)?,
        None => store.insert(&record)?,
    }
    s.pinner.start(record.clone());
    Ok(Some(status(202, &record, &s.delegates)))
}

fn remove(s: &Service, owner: &str, id: &str) -> Answer {
    let Some(r) = s.pinner.store.delete(owner, id)? else {
        return Ok(None);
    };
    s.pinner.release(r.pin.cid);
    Ok(Some(Response::new(202, "application/json", Vec::new())))
}
