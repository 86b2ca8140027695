//! The IPFS Pinning Service API (ipfs.github.io/pinning-services-api-spec): `POST /pins`,
//! `GET /pins` with filters, `GET`/`POST`/`DELETE /pins/{requestid}`, a bearer token. Waiting
//! for `pinned` polls `GET /pins/{requestid}` with backoff (the API has no push).

use super::fetch::{Body, Endpoint};
use super::kubo::q;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{entries, prop, string};
use crate::core::boundary::platform::{now_ms, sleep};
use crate::core::transport::CallOpts;
use js_sys::{Array, JSON};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const PIN_STATE_TS: &'static str = r#"
/** Where a pin request is (the Pinning Service API's `status`). */
export type PinState = 'queued' | 'pinning' | 'pinned' | 'failed';
"#;

/// The first poll waits this long; each next one 1.5 times longer, up to `MAX_POLL_MS`. Services
/// take from under a second (data on the service's own node) to minutes (fetched from the
/// network): the first answers come quickly, and a long wait costs few requests.
const FIRST_POLL_MS: f64 = 200.0;
const MAX_POLL_MS: f64 = 5_000.0;

/// What is pinned (the API's `Pin`).
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct PinObject {
    pub cid: String,
    pub name: Option<String>,
    pub origins: Vec<String>,
    #[js(ts = "Record<string, string>")]
    pub meta: JsValue,
}

/// A pin request as a service (or, for `kind: 'node'`, the RPC node) reports it. The node keeps
/// no request ids or dates: there `requestid` is the CID and `created` is null.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct PinStatus {
    pub requestid: String,
    #[js(ts = "PinState")]
    pub status: String,
    pub created: Option<String>,
    pub pin: PinObject,
    pub delegates: Vec<String>,
    /// The service's own details (`status_details` on a failure, …).
    #[js(ts = "Record<string, unknown>")]
    pub info: JsValue,
}

impl PinStatus {
    fn read(v: &JsValue) -> std::result::Result<PinStatus, String> {
        let pin = prop(v, "pin").ok_or("no \"pin\"")?;
        let strings = |v: &JsValue, key: &str| -> Vec<String> {
            prop(v, key)
                .map(|a| {
                    Array::from(&a)
                        .iter()
                        .filter_map(|s| s.as_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        let status = string(v, "status").ok_or("no \"status\"")?;
        if !["queued", "pinning", "pinned", "failed"].contains(&status.as_str()) {
            return Err(format!("unknown status \"{status}\""));
        }
        Ok(PinStatus {
            requestid: string(v, "requestid").ok_or("no \"requestid\"")?,
            status,
            created: string(v, "created"),
            pin: PinObject {
                cid: string(&pin, "cid").ok_or("no \"pin.cid\"")?,
                name: string(&pin, "name"),
                origins: strings(&pin, "origins"),
                meta: prop(&pin, "meta").unwrap_or_else(|| js_sys::Object::new().into()),
            },
            delegates: strings(v, "delegates"),
            info: prop(v, "info").unwrap_or_else(|| js_sys::Object::new().into()),
        })
    }

    pub fn done(&self) -> bool {
        self.status == "pinned" || self.status == "failed"
    }

    /// Why it failed, when the service said.
    pub fn failure(&self) -> Option<String> {
        (self.status == "failed").then(|| {
            string(&self.info, "status_details")
                .unwrap_or_else(|| "the service failed to pin it".into())
        })
    }
}

/// A pin to ask for.
pub struct PinRequest<'a> {
    pub cid: &'a str,
    pub name: Option<&'a str>,
    pub origins: &'a [String],
    pub meta: Option<&'a JsValue>,
}

impl PinRequest<'_> {
    fn body(&self) -> Body {
        let o = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = js_sys::Reflect::set(&o, &k.into(), v);
        };
        set("cid", &self.cid.into());
        if let Some(n) = self.name {
            set("name", &n.into());
        }
        if !self.origins.is_empty() {
            set(
                "origins",
                &self
                    .origins
                    .iter()
                    .map(|s| JsValue::from(s.as_str()))
                    .collect::<Array>(),
            );
        }
        if let Some(m) = self.meta {
            set("meta", m);
        }
        let text: String = JSON::stringify(&o).map(String::from).unwrap_or_default();
        Body::Bytes {
            content_type: "application/json",
            bytes: text.into_bytes(),
        }
    }
}

/// The `GET /pins` query.
#[derive(Default)]
pub struct Query {
    pub cids: Vec<String>,
    pub name: Option<String>,
    pub match_: Option<String>,
    pub status: Vec<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
    /// JSON text of the meta object to match.
    pub meta: Option<String>,
}

impl Query {
    fn text(&self) -> String {
        let mut out = vec![format!("status={}", q(&self.status.join(",")))];
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                out.push(format!("{k}={}", q(v)));
            }
        };
        add("name", &self.name);
        add("match", &self.match_);
        add("before", &self.before);
        add("after", &self.after);
        add("meta", &self.meta);
        if !self.cids.is_empty() {
            out.push(format!("cid={}", q(&self.cids.join(","))));
        }
        if let Some(l) = self.limit {
            out.push(format!("limit={l}"));
        }
        out.join("&")
    }
}

pub const ALL_STATES: [&str; 4] = ["queued", "pinning", "pinned", "failed"];

/// One pinning service.
#[derive(Clone)]
pub struct Service {
    pub endpoint: Endpoint,
}

impl Service {
    pub fn url(&self) -> &str {
        self.endpoint.url()
    }

    async fn status(
        &self,
        op: &'static str,
        method: &'static str,
        path: &str,
        body: Option<Body>,
        opts: &CallOpts,
    ) -> Result<PinStatus> {
        let v = self.endpoint.json(op, method, path, body, opts).await?;
        PinStatus::read(&v).map_err(|why| self.bad_answer(op, &why))
    }

    fn bad_answer(&self, op: &'static str, why: &str) -> SdkError {
        SdkError::new(
            Code::Protocol,
            format!(
                "{op}: {} answered with something else than a pin status ({why})",
                self.url()
            ),
        )
        .op(op)
        .endpoint(self.url())
    }

    /// `POST /pins`.
    pub async fn add(&self, pin: &PinRequest<'_>, opts: &CallOpts) -> Result<PinStatus> {
        self.status("ipfs.pin", "POST", "/pins", Some(pin.body()), opts)
            .await
    }

    /// `GET /pins/{requestid}`.
    pub async fn get(&self, requestid: &str, opts: &CallOpts) -> Result<PinStatus> {
        let path = format!("/pins/{}", q(requestid));
        self.status("ipfs.pin", "GET", &path, None, opts).await
    }

    /// `POST /pins/{requestid}`: the request now pins another CID (the old one is released once
    /// the new one is pinned).
    pub async fn replace(
        &self,
        requestid: &str,
        pin: &PinRequest<'_>,
        opts: &CallOpts,
    ) -> Result<PinStatus> {
        let path = format!("/pins/{}", q(requestid));
        self.status("ipfs.replacePin", "POST", &path, Some(pin.body()), opts)
            .await
    }

    /// `DELETE /pins/{requestid}`.
    pub async fn remove(&self, requestid: &str, opts: &CallOpts) -> Result<()> {
        let path = format!("/pins/{}", q(requestid));
        self.endpoint
            .read("ipfs.unpin", "DELETE", &path, None, opts, 1 << 16)
            .await
            .map(drop)
    }

    /// `GET /pins?…`: the total count and this page.
    pub async fn list(&self, query: &Query, opts: &CallOpts) -> Result<(u32, Vec<PinStatus>)> {
        let path = format!("/pins?{}", query.text());
        let v = self
            .endpoint
            .json("ipfs.pins", "GET", &path, None, opts)
            .await?;
        let results = prop(&v, "results")
            .filter(Array::is_array)
            .ok_or_else(|| self.bad_answer("ipfs.pins", "no \"results\" list"))?;
        let results = Array::from(&results)
            .iter()
            .map(|p| PinStatus::read(&p))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|why| self.bad_answer("ipfs.pins", &why))?;
        let count = prop(&v, "count")
            .and_then(|c| c.as_f64())
            .unwrap_or(results.len() as f64);
        Ok((count as u32, results))
    }

    /// Every request for `cid`, whatever its status.
    pub async fn requests_for(&self, cid: &str, opts: &CallOpts) -> Result<Vec<PinStatus>> {
        let query = Query {
            cids: vec![cid.to_string()],
            status: ALL_STATES.iter().map(|s| s.to_string()).collect(),
            limit: Some(1000),
            ..Query::default()
        };
        Ok(self.list(&query, opts).await?.1)
    }

    /// Polls the request until it is `pinned` or `failed`, or `deadline` (ms since the epoch)
    /// passes; returns the last status seen.
    pub async fn wait(
        &self,
        mut status: PinStatus,
        deadline: f64,
        opts: &CallOpts,
    ) -> Result<PinStatus> {
        let mut pause = FIRST_POLL_MS;
        while !status.done() && now_ms() + pause < deadline {
            sleep(pause, opts.signal.as_ref()).await?;
            status = self.get(&status.requestid, opts).await?;
            pause = (pause * 1.5).min(MAX_POLL_MS);
        }
        Ok(status)
    }
}

/// `meta` as the API takes it: an object of strings.
pub fn check_meta(field: &str, meta: &JsValue) -> Result<()> {
    if !meta.is_object() || entries(meta).iter().any(|(_, v)| v.as_string().is_none()) {
        return Err(SdkError::field(field, "must be an object of strings"));
    }
    Ok(())
}
