//! What a market node can run (`market({ capabilities })`), checked against a posted job before
//! it is claimed. The contract records no requirements, so they are read from the job's own
//! `manifest.json` (in its input directory on IPFS, format v1): its interpreter (the worker's
//! default `python3` when none is named, or the one its entrypoint implies), its environment,
//! and the `memory_mb`, `timeout` (seconds) and `gpu` that manifests may carry (the Sandrun
//! worker documents them; the SDK's own manifests leave them out, so they limit nothing then).
//! A job that does not match, or whose manifest cannot be read, is skipped, never claimed.

use crate::core::boundary::error::FieldProblem;
use crate::core::boundary::js::{entries, prop, string};
use crate::core::boundary::reader::FromJs;
use sandrun_protocol::manifest::{implied_interpreter, DEFAULT_INTERPRETER};
use wasm_bindgen::JsValue;

/// `market({ capabilities })`: what this node runs; a missing key is no limit.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "market options.capabilities.")]
pub struct MarketCapabilities {
    /// Interpreters the worker runs (e.g. `['python3', 'node']`).
    pub interpreters: Option<Vec<String>>,
    /// Environment templates the worker has. Without it, the worker's own `GET /environments`
    /// answer is used (a job that names no environment always matches).
    pub environments: Option<Vec<String>>,
    /// The most memory a job may ask for (`memory_mb` in its manifest).
    pub max_memory_mb: Option<f64>,
    /// The longest run a job may ask for (`timeout`, in seconds, in its manifest), in ms.
    pub max_timeout_ms: Option<f64>,
    /// Whether the worker has a GPU: without one, a job asking for a GPU is skipped.
    pub gpu: Option<bool>,
}

impl MarketCapabilities {
    /// The capabilities in `market()`'s options, or the problems in them.
    pub fn checked(v: &JsValue) -> std::result::Result<MarketCapabilities, Vec<FieldProblem>> {
        if v.is_undefined() {
            return Ok(MarketCapabilities::default());
        }
        let c = MarketCapabilities::from_js(v).map_err(|e| e.context.errors)?;
        let mut problems = Vec::new();
        for (field, limit) in [
            ("capabilities.maxMemoryMb", c.max_memory_mb),
            ("capabilities.maxTimeoutMs", c.max_timeout_ms),
        ] {
            if limit.is_some_and(|x| !x.is_finite() || x < 0.0) {
                problems.push(FieldProblem::new(field, "must be a number >= 0"));
            }
        }
        if problems.is_empty() {
            Ok(c)
        } else {
            Err(problems)
        }
    }

    /// Whether the worker's templates are needed (the config names no environments).
    pub fn asks_worker_environments(&self) -> bool {
        self.environments.is_none()
    }
}

/// What a job's manifest asks of the node.
#[derive(Debug, Clone, PartialEq)]
pub struct Needs {
    pub interpreter: String,
    pub environment: Option<String>,
    pub memory_mb: Option<f64>,
    pub timeout_ms: Option<f64>,
    pub gpu: bool,
}

impl Needs {
    /// From the manifest JSON (parsed); None when it is not an object.
    pub fn of_manifest(m: &JsValue) -> Option<Needs> {
        if !m.is_object() {
            return None;
        }
        let entrypoint = string(m, "entrypoint").unwrap_or_default();
        let interpreter = string(m, "interpreter")
            .or_else(|| implied_interpreter(&entrypoint).map(String::from))
            .unwrap_or_else(|| DEFAULT_INTERPRETER.to_string());
        // The worker reads numbers sent as strings too (its reader is a substring search).
        let number = |key: &str| {
            prop(m, key).and_then(|v| {
                v.as_f64()
                    .or_else(|| v.as_string().and_then(|s| s.trim().parse().ok()))
            })
        };
        let gpu = prop(m, "gpu").is_some_and(|g| match g.as_bool() {
            Some(b) => b,
            // `{ count, type }` or any object asks for one; so does a positive count.
            None => g
                .as_f64()
                .map_or(g.is_object() && !entries(&g).is_empty(), |n| n > 0.0),
        });
        Some(Needs {
            interpreter,
            environment: string(m, "environment").filter(|e| !e.is_empty()),
            memory_mb: number("memory_mb"),
            timeout_ms: number("timeout").map(|s| s * 1000.0),
            gpu,
        })
    }
}

/// Why a job needing `needs` does not match (None: it does). `worker_environments` is the
/// worker's templates (`GET /environments`), used when the capabilities name none; None when
/// they could not be read.
pub fn mismatch(
    caps: &MarketCapabilities,
    worker_environments: Option<&[String]>,
    needs: &Needs,
) -> Option<String> {
    if let Some(list) = &caps.interpreters {
        if !list.contains(&needs.interpreter) {
            return Some(format!(
                "interpreter {} is not one of this node's ({})",
                needs.interpreter,
                list.join(", ")
            ));
        }
    }
    if let Some(env) = &needs.environment {
        let known = caps.environments.as_deref().or(worker_environments);
        match known {
            Some(list) if list.iter().any(|e| e == env) => {}
            Some(list) => {
                return Some(format!(
                    "environment {env} is not one of this node's ({})",
                    if list.is_empty() {
                        "none".to_string()
                    } else {
                        list.join(", ")
                    }
                ))
            }
            None => {
                return Some(format!(
                    "environment {env}: the worker's environments could not be read (GET /environments)"
                ))
            }
        }
    }
    if let (Some(max), Some(asked)) = (caps.max_memory_mb, needs.memory_mb) {
        if asked > max {
            return Some(format!("memory_mb {asked} is above this node's {max}"));
        }
    }
    if let (Some(max), Some(asked)) = (caps.max_timeout_ms, needs.timeout_ms) {
        if asked > max {
            return Some(format!("timeout {asked} ms is above this node's {max} ms"));
        }
    }
    if needs.gpu && caps.gpu == Some(false) {
        return Some("the job asks for a GPU and this node has none".into());
    }
    None
}

/// The template names in a worker's `GET /environments` answer (`{ templates: [...] }`, each a
/// name or an object with `name`).
pub fn template_names(body: &JsValue) -> Option<Vec<String>> {
    let list = prop(body, "templates")?;
    if !js_sys::Array::is_array(&list) {
        return None;
    }
    Some(
        js_sys::Array::from(&list)
            .iter()
            .filter_map(|t| t.as_string().or_else(|| string(&t, "name")))
            .collect(),
    )
}
