//! `loggingPlugin()`: structured events (`{ level, event, time, operation, … }`) to a sink (the
//! console by default), from a level up. Every string of every event is scrubbed of secrets:
//! tokens and keys the auth plugin used, secret headers, and the values of secret `env` names.

use super::builtin::{made, Builtin, BuiltinPlugin};
use crate::core::boundary::error::SdkError;
use crate::core::boundary::js::Obj;
use crate::core::boundary::platform;
use crate::core::boundary::reader::{FromJs, Reader};
use js_sys::Function;
use std::any::Any;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Env names whose values are secret unless said otherwise.
pub fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "SECRET",
        "TOKEN",
        "KEY",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "AUTH",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Headers whose values never reach a log.
pub fn secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "cookie"
        || n == "proxy-authorization"
        || n.contains("key")
        || n.contains("token")
        || n.contains("secret")
}

pub const REDACTED: &str = "[REDACTED]";

/// `text` with every secret (of 4 characters or more) replaced.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut t = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        if t.contains(s.as_str()) {
            t = t.replace(s.as_str(), REDACTED);
        }
    }
    t
}

pub struct Logging {
    sink: Option<Function>,
    /// 0 debug … 3 error: events below it are dropped.
    pub level: u8,
    /// Env names whose values are secret, besides the names `secret_name` recognises.
    pub redact_env: Vec<String>,
    secrets: Vec<String>,
}

impl Logging {
    /// Sends one event to the sink; every string is scrubbed of `secrets`.
    pub fn emit(
        &self,
        level: u8,
        event: &str,
        strs: &[(&str, &str)],
        nums: &[(&str, f64)],
        secrets: &[String],
    ) {
        let o = Obj::new();
        o.set(
            "level",
            &["debug", "info", "warn", "error"][level as usize % 4],
        )
        .set("event", &event)
        .set("time", &platform::now_ms());
        for (k, v) in strs {
            o.set(k, &scrub(v, secrets));
        }
        for (k, v) in nums {
            o.set(k, v);
        }
        let o: JsValue = o.into();
        let delivered = match &self.sink {
            Some(f) => f.call1(&JsValue::NULL, &o).is_ok(),
            None => {
                web_sys::console::log_1(&o);
                true
            }
        };
        if !delivered {
            web_sys::console::warn_1(&"loggingPlugin: the sink threw".into());
        }
    }
}

impl Builtin for Logging {
    fn name(&self) -> &'static str {
        "logging"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn secrets(&self) -> Vec<String> {
        self.secrets.clone()
    }
}

/// Options for `loggingPlugin()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "loggingPlugin options.")]
pub struct LoggingOptions {
    #[js(ts = "(event: LogEvent) => void")]
    pub sink: Option<Function>,
    #[js(ts = "'debug' | 'info' | 'warn' | 'error'")]
    pub level: Option<String>,
    /// Env names whose values are secret (besides names with SECRET, TOKEN, KEY, PASSWORD, AUTH…).
    pub redact_env: Option<Vec<String>>,
    /// More literal values to redact.
    pub secrets: Option<Vec<String>>,
}

#[wasm_bindgen(typescript_custom_section)]
const LOG_EVENT_TS: &'static str = r#"
export interface LogEvent {
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  time: number;
  [field: string]: unknown;
}
"#;

/// Structured events (`{ level, event, time, operation, … }`) to `sink` (default: the console),
/// from `level` up; tokens, keys, secret headers and secret `env` values are redacted.
#[wasm_bindgen(js_name = loggingPlugin)]
pub fn logging_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "LoggingOptions")] options: Option<JsValue>,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    let o = LoggingOptions::from_js(&options.unwrap_or(JsValue::UNDEFINED))
        .map_err(SdkError::into_js)?;
    let mut r = Reader::new(&JsValue::UNDEFINED, "loggingPlugin options.");
    let level = match o.level.as_deref() {
        Some("debug") => 0,
        None | Some("info") => 1,
        Some("warn") => 2,
        Some("error") => 3,
        Some(_) => {
            r.bad("level", "must be debug, info, warn or error");
            1
        }
    };
    made(
        r,
        Rc::new(Logging {
            sink: o.sink,
            level,
            redact_env: o.redact_env.unwrap_or_default(),
            secrets: o.secrets.unwrap_or_default(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert!(secret_name("API_KEY") && secret_name("db_password") && !secret_name("MODE"));
        assert!(
            secret_header("Authorization")
                && secret_header("X-API-Key")
                && !secret_header("Content-Type")
        );
        let s = vec!["s3cr3t-token".to_string(), "ab".to_string()];
        assert_eq!(scrub("Bearer s3cr3t-token ab", &s), "Bearer [REDACTED] ab");
    }
}
