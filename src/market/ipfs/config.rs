//! The `ipfs` section of `Sandrun.create(config)`: the Kubo RPC node, the gateways in the order
//! they are tried, the pinning services, and the per-request timeout. Checked at `create` (the
//! core calls `check` through the registered section), read again by `sandrun.ipfs()`.

use crate::core::boundary::error::{FieldProblem, Result, SdkError};
use crate::core::boundary::js::{entries, num, string};
use crate::core::boundary::reader::FromJs;
use crate::core::config::normalize_endpoint;
use js_sys::Array;
use wasm_bindgen::prelude::*;

/// Options of `config.ipfs`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "config.ipfs.")]
pub struct IpfsConfig {
    /// Kubo's RPC API, e.g. `http://127.0.0.1:5001`: `add` goes there, pins are made there, and
    /// it is the first place blocks are read from (verified like any gateway's).
    pub api: Option<String>,
    /// Headers sent with every RPC request, e.g. `{ Authorization: 'Bearer …' }` for a remote
    /// node behind an authenticating proxy (browsers then send a CORS preflight, which Kubo answers).
    #[js(ts = "Record<string, string>")]
    pub api_headers: Option<JsValue>,
    /// Trustless gateways (`https://trustless-gateway.link`, a local Kubo's `http://127.0.0.1:8080`),
    /// tried in this order after the RPC node. Nothing they send is used before it is verified.
    pub gateways: Option<Vec<String>>,
    /// Pinning services (the IPFS Pinning Service API): `pin()` pins on every one.
    #[js(ts = "PinningServiceConfig[]")]
    pub pinning: Option<JsValue>,
    /// The longest wait on one node, gateway or service: for its answer, and for each piece of a
    /// streamed one (default 30000 ms). A node can hang forever on a block it cannot find.
    pub timeout_ms: Option<f64>,
    /// Ask every source at once and read from the first that answers, instead of one after the
    /// other (default false). Either way a source that fails is skipped and reported.
    pub race: Option<bool>,
}

#[wasm_bindgen(typescript_custom_section)]
const CONFIG_TS: &'static str = r#"
/** One pinning service of `config.ipfs.pinning`. */
export interface PinningServiceConfig {
  /** The API's base URL, e.g. `https://api.pinata.cloud/psa` (`/pins` is appended). */
  endpoint: string;
  /** Its access token, sent as `Authorization: Bearer …`. */
  token: string;
}
export interface SandrunConfig {
  /** IPFS (`sandrun.ipfs()`, in `@sandrun/sdk/full`). A client may have only this section. */
  ipfs?: IpfsConfig;
}
export interface ResolvedConfig {
  /** The `ipfs` section as given. */
  ipfs?: IpfsConfig;
}
"#;

/// A pinning service, checked.
#[derive(Debug, Clone)]
pub struct PinningService {
    pub endpoint: String,
    pub token: String,
}

/// `config.ipfs`, checked, with defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub api: Option<String>,
    pub api_headers: Vec<(String, String)>,
    pub gateways: Vec<String>,
    pub pinning: Vec<PinningService>,
    pub timeout_ms: f64,
    pub race: bool,
}

pub const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;

impl Settings {
    /// Reads `config.ipfs` (`undefined`: no node, no gateways, no services: local CIDs only).
    pub fn read(v: &JsValue) -> Result<Settings> {
        let c = IpfsConfig::from_js(v)?;
        let mut problems = Vec::new();
        let mut bad = |field: String, message: String| {
            problems.push(FieldProblem::new(format!("config.ipfs.{field}"), message))
        };
        let url = |bad: &mut dyn FnMut(String, String), field: String, u: &str| {
            normalize_endpoint(u).map_err(|m| bad(field, m)).ok()
        };
        let api = c
            .api
            .as_deref()
            .and_then(|u| url(&mut bad, "api".into(), u));
        let gateways = c
            .gateways
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(|(i, g)| url(&mut bad, format!("gateways[{i}]"), g))
            .collect();
        let mut api_headers = Vec::new();
        if let Some(h) = &c.api_headers {
            if !h.is_object() {
                bad("apiHeaders".into(), "must be an object of strings".into());
            }
            for (k, v) in entries(h) {
                match v.as_string() {
                    Some(v) => api_headers.push((k, v)),
                    None => bad(format!("apiHeaders.{k}"), "must be a string".into()),
                }
            }
        }
        let mut pinning = Vec::new();
        if let Some(list) = &c.pinning {
            if !Array::is_array(list) {
                bad(
                    "pinning".into(),
                    "must be an array of { endpoint, token }".into(),
                );
            }
            for (i, s) in Array::from(list).iter().enumerate() {
                let only_known = entries(&s)
                    .iter()
                    .all(|(k, _)| k == "endpoint" || k == "token");
                if !only_known || !s.is_object() {
                    bad(
                        format!("pinning[{i}]"),
                        "must be { endpoint, token } and nothing else".into(),
                    );
                }
                let endpoint = match string(&s, "endpoint") {
                    Some(e) => url(&mut bad, format!("pinning[{i}].endpoint"), &e),
                    None => {
                        bad(format!("pinning[{i}].endpoint"), "must be a URL".into());
                        None
                    }
                };
                let token = string(&s, "token").filter(|t| !t.is_empty());
                if token.is_none() {
                    bad(
                        format!("pinning[{i}].token"),
                        "must be the service's access token".into(),
                    );
                }
                if let (Some(endpoint), Some(token)) = (endpoint, token) {
                    pinning.push(PinningService { endpoint, token });
                }
            }
        }
        let timeout_ms = match c.timeout_ms {
            None => DEFAULT_TIMEOUT_MS,
            Some(ms) if ms.is_finite() && ms > 0.0 => ms,
            Some(ms) => {
                bad(
                    "timeoutMs".into(),
                    format!("must be a positive number of milliseconds, got {}", num(ms)),
                );
                DEFAULT_TIMEOUT_MS
            }
        };
        if !problems.is_empty() {
            return Err(SdkError::validation(problems));
        }
        Ok(Settings {
            api,
            api_headers,
            gateways,
            pinning,
            timeout_ms,
            race: c.race.unwrap_or(false),
        })
    }
}

/// The core's check of the section at `Sandrun.create`.
pub fn check(v: &JsValue) -> Vec<FieldProblem> {
    match Settings::read(v) {
        Ok(_) => Vec::new(),
        Err(e) => e.context.errors,
    }
}
