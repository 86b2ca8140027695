//! `pin()`, `replacePin()`, `pins()`, `unpin()`: the same operation on the RPC node and on every
//! pinning service at once (for redundancy), with one result per place. A place that fails is a
//! result with its error, not a rejection: the caller sees which copies exist.

use super::client::{opts, run, Inner, Ipfs};
use super::failure::{self, exhausted, IpfsAttempt};
use super::join::{all, Task};
use super::kubo::Kubo;
use super::options::{CallOptions, PinFilter, PinOptions};
use super::pinning::{check_meta, PinObject, PinRequest, PinStatus, Query, Service, ALL_STATES};
use super::walk::parse;
use crate::core::boundary::error::{Result, SdkError};
use crate::core::boundary::platform::now_ms;
use crate::core::transport::CallOpts;
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

/// How long `pin()` waits for `pinned` by default: services that fetch from the network take
/// minutes for large DAGs; past this the result says what status the pin was left in.
const DEFAULT_WAIT_MS: f64 = 120_000.0;

/// `pin()`'s and `replacePin()`'s answer for one place.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct PinResult {
    /// The node's or service's URL.
    pub service: String,
    #[js(ts = "'node' | 'service'")]
    pub kind: String,
    /// Pinned (or, with `wait: false`, accepted).
    pub ok: bool,
    #[js(ts = "PinState | null")]
    pub status: Option<String>,
    pub requestid: Option<String>,
    pub error: Option<String>,
    #[js(ts = "IpfsProblem | null")]
    pub problem: Option<String>,
}

/// `pins()`' answer for one place.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct PinList {
    pub service: String,
    #[js(ts = "'node' | 'service'")]
    pub kind: String,
    pub ok: bool,
    /// Every match at that place (the page may hold fewer).
    pub count: f64,
    pub results: Vec<PinStatus>,
    pub error: Option<String>,
}

/// `unpin()`'s answer for one place.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct UnpinResult {
    pub service: String,
    #[js(ts = "'node' | 'service'")]
    pub kind: String,
    pub ok: bool,
    /// Pin requests removed (the node: 1 if it had the pin).
    pub removed: f64,
    pub error: Option<String>,
}

const NODE: &str = "node";
const SERVICE: &str = "service";

#[wasm_bindgen]
impl Ipfs {
    /// Pins `cid` on the RPC node and on every pinning service at once and, by default, waits
    /// until each says `pinned` or `failed` (polling with backoff). One result per place; rejects
    /// only when no place took the pin.
    #[wasm_bindgen(unchecked_return_type = "Promise<PinResult[]>")]
    pub fn pin(
        &self,
        cid: String,
        #[wasm_bindgen(unchecked_optional_param_type = "PinOptions")] options: Option<JsValue>,
    ) -> Promise {
        pin_everywhere(self.inner.clone(), "pin", None, cid, options)
    }

    /// Pins `to` instead of `from`: the node's `pin update`, and at each service every request
    /// for `from` re-pointed to `to` (a service that had none gets a new request).
    #[wasm_bindgen(js_name = replacePin, unchecked_return_type = "Promise<PinResult[]>")]
    pub fn replace_pin(
        &self,
        from: String,
        to: String,
        #[wasm_bindgen(unchecked_optional_param_type = "PinOptions")] options: Option<JsValue>,
    ) -> Promise {
        pin_everywhere(self.inner.clone(), "replacePin", Some(from), to, options)
    }

    /// Pin requests at every service, and the node's pins (only without `before`, `after` or
    /// `meta`, which the node does not keep). `status` defaults to every status (the API's own
    /// default is `pinned` only).
    #[wasm_bindgen(unchecked_return_type = "Promise<PinList[]>")]
    pub fn pins(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "PinFilter")] filter: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let made = (|| {
            let f: PinFilter = opts(filter)?;
            let call = inner.call("pins", f.timeout_ms, f.signal.clone())?;
            let query = read_filter(&f)?;
            let node_can = query.before.is_none() && query.after.is_none() && query.meta.is_none();
            Ok(async move {
                let (query, call) = (&query, &call);
                let mut tasks: Vec<Task<PinList>> = Vec::new();
                for node in inner.node.iter().filter(|_| node_can) {
                    tasks.push(Box::pin(async move {
                        let listed = node_pins(node, query, call).await;
                        let count = listed.as_ref().map_or(0, Vec::len) as f64;
                        pin_list(node.url(), NODE, count, listed)
                    }));
                }
                for service in &inner.services {
                    tasks.push(Box::pin(async move {
                        match service.list(query, call).await {
                            Ok((count, results)) => {
                                pin_list(service.url(), SERVICE, count as f64, Ok(results))
                            }
                            Err(e) => pin_list(service.url(), SERVICE, 0.0, Err(e)),
                        }
                    }));
                }
                Ok(all(tasks).await)
            })
        })();
        run("pins", made)
    }

    /// Removes every pin of `cid`: the node's, and every request for it at each service.
    #[wasm_bindgen(unchecked_return_type = "Promise<UnpinResult[]>")]
    pub fn unpin(
        &self,
        cid: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let made = (|| {
            let o: CallOptions = opts(options)?;
            let call = inner.call("unpin", o.timeout_ms, o.signal)?;
            parse(&cid)?;
            Ok(async move {
                let (cid, call) = (&cid, &call);
                let mut tasks: Vec<Task<UnpinResult>> = Vec::new();
                for node in inner.node.iter() {
                    tasks.push(Box::pin(async move {
                        let removed = node
                            .pin_rm(cid, call)
                            .await
                            .map(|was| f64::from(u8::from(was)));
                        unpin_result(node.url(), NODE, removed)
                    }));
                }
                for service in &inner.services {
                    tasks.push(Box::pin(async move {
                        let removed = async {
                            let mut n = 0.0;
                            for r in service.requests_for(cid, call).await? {
                                service.remove(&r.requestid, call).await?;
                                n += 1.0;
                            }
                            Ok(n)
                        };
                        unpin_result(service.url(), SERVICE, removed.await)
                    }));
                }
                Ok(all(tasks).await)
            })
        })();
        run("unpin", made)
    }
}

fn pin_everywhere(
    inner: std::rc::Rc<Inner>,
    op: &'static str,
    from: Option<String>,
    cid: String,
    options: Option<JsValue>,
) -> Promise {
    let made = (|| {
        let o: PinOptions = opts(options)?;
        parse(&cid)?;
        if let Some(from) = &from {
            parse(from)?;
        }
        if let Some(m) = &o.meta {
            check_meta(&format!("{op} options.meta"), m)?;
        }
        // Each request has the configured timeout; `timeoutMs` is how long to wait for `pinned`.
        let call = inner.call(op, None, o.signal.clone())?;
        let wait_ms = match o.timeout_ms {
            Some(ms) if !(ms.is_finite() && ms > 0.0) => {
                return Err(SdkError::field(
                    format!("{op} options.timeoutMs"),
                    "must be a positive number of milliseconds",
                ))
            }
            ms => ms.unwrap_or(DEFAULT_WAIT_MS),
        };
        let on_node = o.node.unwrap_or(true) && inner.node.is_some();
        if !on_node && inner.services.is_empty() {
            return Err(SdkError::field(
                "config.ipfs",
                format!("{op} needs config.ipfs.api or config.ipfs.pinning"),
            ));
        }
        Ok(async move {
            let deadline = now_ms() + wait_ms;
            let (cid, from, o, call) = (&cid, from.as_deref(), &o, &call);
            let mut tasks: Vec<Task<PinResult>> = Vec::new();
            for node in inner.node.iter().filter(|_| on_node) {
                tasks.push(Box::pin(async move {
                    let done = match from {
                        Some(from) => node.pin_update(from, cid, call).await,
                        None => node.pin_add(cid, o.name.as_deref(), call).await,
                    };
                    match done {
                        Ok(()) => pin_result(node.url(), NODE, "pinned", None),
                        Err(e) => failed(node.url(), NODE, op, e),
                    }
                }));
            }
            for service in &inner.services {
                tasks.push(Box::pin(async move {
                    pin_at(service, cid, from, o, deadline, call)
                        .await
                        .unwrap_or_else(|e| failed(service.url(), SERVICE, op, e))
                }));
            }
            let results = all(tasks).await;
            if results.iter().all(|r| r.status.is_none()) {
                let attempts: Vec<IpfsAttempt> = results
                    .iter()
                    .map(|r| IpfsAttempt {
                        source: r.service.clone(),
                        ok: false,
                        problem: r.problem.clone(),
                        message: r.error.clone().unwrap_or_default(),
                        status: None,
                    })
                    .collect();
                return Err(exhausted(op, cid, Some(cid), &attempts));
            }
            Ok(results)
        })
    })();
    run(op, made)
}

/// Pins (or re-points the requests of `from`) at one service, and waits if asked.
async fn pin_at(
    service: &Service,
    cid: &str,
    from: Option<&str>,
    o: &PinOptions,
    deadline: f64,
    call: &CallOpts,
) -> Result<PinResult> {
    let request = PinRequest {
        cid,
        name: o.name.as_deref(),
        origins: o.origins.as_deref().unwrap_or(&[]),
        meta: o.meta.as_ref(),
    };
    let old = match from {
        Some(from) => service.requests_for(from, call).await?,
        None => Vec::new(),
    };
    let mut status = match old.split_first() {
        None => service.add(&request, call).await?,
        Some((first, others)) => {
            for other in others {
                service.replace(&other.requestid, &request, call).await?;
            }
            service.replace(&first.requestid, &request, call).await?
        }
    };
    let wait = o.wait.unwrap_or(true);
    if wait {
        status = service.wait(status, deadline, call).await?;
    }
    let mut r = pin_result(
        service.url(),
        SERVICE,
        &status.status,
        Some(status.requestid.clone()),
    );
    r.error = status.failure().or_else(|| {
        (wait && status.status != "pinned")
            .then(|| format!("still {} when the wait ended", status.status))
    });
    r.ok = r.error.is_none();
    Ok(r)
}

/// The node's recursive pins, filtered as a service would filter them.
async fn node_pins(node: &Kubo, q: &Query, call: &CallOpts) -> Result<Vec<PinStatus>> {
    if !q.status.iter().any(|s| s == "pinned") {
        return Ok(Vec::new());
    }
    let want = q.name.as_deref().unwrap_or("");
    let matches = |n: &str| match (q.name.is_some(), q.match_.as_deref()) {
        (false, _) => true,
        (true, Some("iexact")) => n.eq_ignore_ascii_case(want),
        (true, Some("partial")) => n.contains(want),
        (true, Some("ipartial")) => n.to_ascii_lowercase().contains(&want.to_ascii_lowercase()),
        (true, _) => n == want,
    };
    let mut out: Vec<PinStatus> = node
        .pin_ls(&q.cids, call)
        .await?
        .into_iter()
        .filter(|(_, n)| matches(n))
        .map(|(cid, name)| PinStatus {
            requestid: cid.clone(),
            status: "pinned".into(),
            created: None,
            pin: PinObject {
                cid,
                name: (!name.is_empty()).then_some(name),
                origins: Vec::new(),
                meta: js_sys::Object::new().into(),
            },
            delegates: Vec::new(),
            info: js_sys::Object::new().into(),
        })
        .collect();
    out.sort_by(|a, b| a.pin.cid.cmp(&b.pin.cid));
    out.truncate(q.limit.unwrap_or(10) as usize);
    Ok(out)
}

/// The API's query from `pins()`' filter, every value checked.
fn read_filter(f: &PinFilter) -> Result<Query> {
    let bad = |field: &str, m: &str| SdkError::field(format!("pins filter.{field}"), m);
    let cids: Vec<String> = match &f.cid {
        None => Vec::new(),
        Some(v) => match v.as_string() {
            Some(one) => vec![one],
            None if Array::is_array(v) => Array::from(v)
                .iter()
                .filter_map(|c| c.as_string())
                .collect(),
            None => return Err(bad("cid", "must be a CID or a list of CIDs")),
        },
    };
    if cids.len() > 10 {
        return Err(bad("cid", "at most 10 CIDs (the API's limit)"));
    }
    for c in &cids {
        parse(c)?;
    }
    if let Some(m) = &f.match_ {
        if !["exact", "iexact", "partial", "ipartial"].contains(&m.as_str()) {
            return Err(bad("match", "must be exact, iexact, partial or ipartial"));
        }
    }
    let status = f
        .status
        .clone()
        .unwrap_or_else(|| ALL_STATES.iter().map(|s| s.to_string()).collect());
    if status.is_empty() || status.iter().any(|s| !ALL_STATES.contains(&s.as_str())) {
        return Err(bad(
            "status",
            "must list some of queued, pinning, pinned, failed",
        ));
    }
    let limit = match f.limit {
        None => None,
        Some(l) if l.fract() == 0.0 && (1.0..=1000.0).contains(&l) => Some(l as u32),
        Some(_) => return Err(bad("limit", "must be a whole number from 1 to 1000")),
    };
    let date = |field: &str, v: &Option<JsValue>| -> Result<Option<String>> {
        let Some(v) = v else { return Ok(None) };
        if let Some(text) = v.as_string() {
            return Ok(Some(text));
        }
        v.dyn_ref::<js_sys::Date>()
            .filter(|d| !d.get_time().is_nan())
            .map(|d| Some(String::from(d.to_iso_string())))
            .ok_or_else(|| bad(field, "must be a Date or RFC 3339 text"))
    };
    let meta = match &f.meta {
        None => None,
        Some(m) => {
            check_meta("pins filter.meta", m)?;
            js_sys::JSON::stringify(m).ok().map(String::from)
        }
    };
    Ok(Query {
        cids,
        name: f.name.clone(),
        match_: f.match_.clone(),
        status,
        before: date("before", &f.before)?,
        after: date("after", &f.after)?,
        limit,
        meta,
    })
}

fn pin_result(service: &str, kind: &str, status: &str, requestid: Option<String>) -> PinResult {
    PinResult {
        service: service.into(),
        kind: kind.into(),
        ok: true,
        status: Some(status.into()),
        requestid,
        error: None,
        problem: None,
    }
}

fn failed(service: &str, kind: &str, op: &'static str, e: SdkError) -> PinResult {
    let problem = IpfsAttempt::from_error(service, &e).problem;
    PinResult {
        service: service.into(),
        kind: kind.into(),
        ok: false,
        status: None,
        requestid: None,
        error: Some(failure::one(op, service, e).message),
        problem,
    }
}

fn pin_list(service: &str, kind: &str, count: f64, listed: Result<Vec<PinStatus>>) -> PinList {
    let (results, error) = match listed {
        Ok(r) => (r, None),
        Err(e) => (Vec::new(), Some(failure::one("pins", service, e).message)),
    };
    PinList {
        service: service.into(),
        kind: kind.into(),
        ok: error.is_none(),
        count,
        results,
        error,
    }
}

fn unpin_result(service: &str, kind: &str, removed: Result<f64>) -> UnpinResult {
    let (removed, error) = match removed {
        Ok(n) => (n, None),
        Err(e) => (0.0, Some(failure::one("unpin", service, e).message)),
    };
    UnpinResult {
        service: service.into(),
        kind: kind.into(),
        ok: error.is_none(),
        removed,
        error,
    }
}
