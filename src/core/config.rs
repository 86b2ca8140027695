//! Client configuration: every field, its default, and its checks in one place.

use super::boundary::error::{FieldProblem, Result, SdkError};
use super::boundary::js::{num, Extra};
use super::boundary::registry;
use std::cell::RefCell;
use wasm_bindgen::JsValue;

/// A section of the config that a layer above the core reads (`chain`, `ipfs`, …): the layer
/// registers it when the module is set up (`src/entries/`), so that the core can refuse unknown
/// keys and run the section's checks at `Sandrun.create` without knowing the layer.
#[derive(Clone, Copy)]
pub struct Section {
    pub key: &'static str,
    /// Problems with the section's value; fields are named below `config.<key>.`.
    pub check: fn(&JsValue) -> Vec<FieldProblem>,
}

thread_local! {
    static SECTIONS: RefCell<Vec<Section>> = const { RefCell::new(Vec::new()) };
}

/// Registers a layer's config section (once per key).
pub fn add_section(section: Section) {
    registry::add_once(&SECTIONS, section, |s| s.key);
}

/// The client's core options, by their JS names.
const CORE_KEYS: [&str; 9] = [
    "endpoint",
    "trustedWorkers",
    "requireVerified",
    "pollIntervalMs",
    "timeoutMs",
    "requestTimeoutMs",
    "streamLogs",
    "statusConcurrency",
    "statusPerSecond",
];

/// Options for `Sandrun.create(config)`. Every field is optional.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "config.")]
pub struct SandrunConfig {
    /// Base URL of the Sandrun worker, e.g. `http://127.0.0.1:8443` (the default).
    pub endpoint: Option<String>,
    /// Base64 Ed25519 public keys (worker ids) whose signatures are trusted. When set, a result
    /// signed by any other key fails verification.
    pub trusted_workers: Option<Vec<String>>,
    /// When true, `wait()` verifies the result and rejects with a `VerificationError` if it fails.
    pub require_verified: Option<bool>,
    /// Pause between status polls, in ms (default 500).
    pub poll_interval_ms: Option<f64>,
    /// Default deadline for `wait()`, in ms (default 600000 = 10 min).
    pub timeout_ms: Option<f64>,
    /// Deadline for one ordinary request (submit, download, …), in ms (default 60000). Status
    /// polls get the rest of `wait()`'s deadline instead, because the real worker holds them
    /// until the running job ends.
    pub request_timeout_ms: Option<f64>,
    /// Follow logs over the worker's WebSocket (default true); false reads `/logs` after the job.
    pub stream_logs: Option<bool>,
    /// Status requests in flight at once per worker, however many jobs are watched (default 4).
    /// The real worker holds each until its running job ends: this is also the most connections
    /// the SDK keeps open to it.
    pub status_concurrency: Option<f64>,
    /// Status requests started per second per worker at most (default 100).
    pub status_per_second: Option<f64>,
    /// The keys for layers above the core (`chain`, `ipfs`, …), checked by `resolve`.
    #[js(rest)]
    pub sections: Vec<(String, JsValue)>,
}

/// A validated configuration with defaults applied.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct ResolvedConfig {
    pub endpoint: String,
    pub trusted_workers: Vec<String>,
    pub require_verified: bool,
    pub poll_interval_ms: f64,
    pub timeout_ms: f64,
    pub request_timeout_ms: f64,
    pub stream_logs: bool,
    pub status_concurrency: f64,
    pub status_per_second: f64,
    /// The sections layers above the core read, as given (each declares its TypeScript).
    #[js(extra)]
    pub sections: Extra,
}

impl ResolvedConfig {
    /// A layer's section of the config, if the user gave one.
    pub fn section(&self, key: &str) -> Option<&JsValue> {
        self.sections
            .0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8443";

impl SandrunConfig {
    pub fn resolve(self) -> Result<ResolvedConfig> {
        let mut problems = Vec::new();
        let mut bad = |field: &str, message: String| {
            problems.push(FieldProblem::new(format!("config.{field}"), message))
        };
        let endpoint = self
            .endpoint
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let endpoint = match normalize_endpoint(&endpoint) {
            Ok(e) => e,
            Err(m) => {
                bad("endpoint", m);
                String::new()
            }
        };
        let trusted_workers = self.trusted_workers.unwrap_or_default();
        for (i, k) in trusted_workers.iter().enumerate() {
            if sandrun_protocol::b64::decode(k).map(|b| b.len()) != Some(32) {
                bad(
                    &format!("trustedWorkers[{i}]"),
                    format!("\"{k}\" is not a base64 Ed25519 public key (32 bytes)"),
                );
            }
        }
        let mut ms = |field: &str, v: Option<f64>, default: f64| match v {
            None => default,
            Some(v) if v.is_finite() && v > 0.0 => v,
            Some(v) => {
                bad(
                    field,
                    format!("must be a positive number of milliseconds, got {}", num(v)),
                );
                default
            }
        };
        let poll_interval_ms = ms("pollIntervalMs", self.poll_interval_ms, 500.0);
        let timeout_ms = ms("timeoutMs", self.timeout_ms, 600_000.0);
        let request_timeout_ms = ms("requestTimeoutMs", self.request_timeout_ms, 60_000.0);
        let mut count = |field: &str, v: Option<f64>, default: f64| match v {
            None => default,
            Some(v) if v.is_finite() && v >= 1.0 => v.floor(),
            Some(v) => {
                bad(
                    field,
                    format!("must be a number of at least 1, got {}", num(v)),
                );
                default
            }
        };
        let status_concurrency = count("statusConcurrency", self.status_concurrency, 4.0);
        let status_per_second = count("statusPerSecond", self.status_per_second, 100.0);
        let registered = registry::entries(&SECTIONS);
        let mut sections = Extra::default();
        for (key, value) in self.sections {
            match registered.iter().find(|s| s.key == key) {
                Some(s) => {
                    problems.extend((s.check)(&value));
                    sections.set(s.key, value);
                }
                None => {
                    let known: Vec<&str> = CORE_KEYS
                        .iter()
                        .copied()
                        .chain(registered.iter().map(|s| s.key))
                        .collect();
                    problems.push(FieldProblem::new(
                        format!("config.{key}"),
                        format!("is not an option (expected one of: {})", known.join(", ")),
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(SdkError::validation(problems).op("create"));
        }
        Ok(ResolvedConfig {
            endpoint,
            trusted_workers,
            require_verified: self.require_verified.unwrap_or(false),
            poll_interval_ms,
            timeout_ms,
            request_timeout_ms,
            stream_logs: self.stream_logs.unwrap_or(true),
            status_concurrency,
            status_per_second,
            sections,
        })
    }
}

/// `http(s)://host[:port][/prefix]`, without a trailing slash, query or fragment.
pub fn normalize_endpoint(url: &str) -> std::result::Result<String, String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("\"{url}\" must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err(format!("\"{url}\" has no host"));
    }
    if url.contains(['?', '#', ' ', '"', '\\']) {
        return Err(format!(
            "\"{url}\" must not contain a query, a fragment, spaces, quotes or backslashes"
        ));
    }
    if let Some((_, port)) = host.rsplit_once(':') {
        if !host.ends_with(']') && port.parse::<u16>().map(|p| p == 0).unwrap_or(true) {
            return Err(format!("\"{url}\" has an invalid port \"{port}\""));
        }
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The WebSocket URL for an HTTP base URL.
pub fn ws_base(endpoint: &str) -> String {
    if let Some(rest) = endpoint.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        format!(
            "ws://{}",
            endpoint.strip_prefix("http://").unwrap_or(endpoint)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = SandrunConfig::default().resolve().unwrap();
        assert_eq!(c.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(
            (c.poll_interval_ms, c.require_verified, c.stream_logs),
            (500.0, false, true)
        );
    }

    #[test]
    fn errors_name_the_field() {
        let c = SandrunConfig {
            endpoint: Some("ftp://x".into()),
            poll_interval_ms: Some(-1.0),
            trusted_workers: Some(vec!["nope".into()]),
            ..Default::default()
        };
        let e = c.resolve().unwrap_err();
        let fields: Vec<&str> = e.context.errors.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "config.endpoint",
                "config.trustedWorkers[0]",
                "config.pollIntervalMs"
            ]
        );
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            normalize_endpoint("http://h:8443/").unwrap(),
            "http://h:8443"
        );
        assert_eq!(
            normalize_endpoint("https://h/api").unwrap(),
            "https://h/api"
        );
        assert!(normalize_endpoint("http://").is_err());
        assert!(normalize_endpoint("http://h:0").is_err());
        assert!(normalize_endpoint("http://h:x").is_err());
        assert!(normalize_endpoint("http://h/?a").is_err());
        assert_eq!(ws_base("https://h:1"), "wss://h:1");
        assert_eq!(ws_base("http://h:1"), "ws://h:1");
    }
}
