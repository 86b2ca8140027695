//! One error type for the whole SDK. Every failure carries a stable `code`, whether retrying can
//! help, and the context it happened in; at the boundary it becomes an instance of the matching
//! JS class from `js/errors.js` (so `instanceof ValidationError` works).

use crate::convert::{Obj, ToJs};
use wasm_bindgen::JsValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Bad input, found before anything was sent.
    Validation,
    /// The request never got an answer (refused, reset, DNS…).
    Network,
    Timeout,
    /// The server answered with an error status.
    Http,
    RateLimited,
    NotFound,
    /// A result failed verification (hash, signature, output bytes, untrusted worker).
    Verification,
    /// k-of-n consensus was not reached (`report` holds the evidence).
    Consensus,
    Cancelled,
    /// The server answered, but not with what was asked for.
    Protocol,
    /// The platform or server cannot do this.
    Unsupported,
    /// A broken invariant inside the SDK; please report it.
    Internal,
    /// The circuit breaker refuses calls to this endpoint for now (`retryAfterMs` says how long).
    CircuitOpen,
    /// A plugin or middleware threw (`plugin` names it; `cause` is what it threw).
    Plugin,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Validation => "VALIDATION",
            Code::Network => "NETWORK",
            Code::Timeout => "TIMEOUT",
            Code::Http => "HTTP",
            Code::RateLimited => "RATE_LIMITED",
            Code::NotFound => "NOT_FOUND",
            Code::Verification => "VERIFICATION",
            Code::Consensus => "CONSENSUS",
            Code::Cancelled => "CANCELLED",
            Code::Protocol => "PROTOCOL",
            Code::Unsupported => "UNSUPPORTED",
            Code::Internal => "INTERNAL",
            Code::CircuitOpen => "CIRCUIT_OPEN",
            Code::Plugin => "PLUGIN",
        }
    }

    fn default_retryable(self) -> bool {
        matches!(
            self,
            Code::Network | Code::Timeout | Code::RateLimited | Code::CircuitOpen
        )
    }
}

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, tsify::Tsify)]
pub struct FieldProblem {
    /// Where: `entrypoint`, `args[2]`, `files["data/x.csv"]`, `config.endpoint`, …
    pub field: String,
    /// What is wrong and what to change.
    pub message: String,
}

impl ToJs for FieldProblem {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("field", &self.field).set("message", &self.message);
        o.into()
    }
}

/// Context attached to an error; only the fields that apply are set.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub operation: Option<&'static str>,
    pub endpoint: Option<String>,
    pub job_id: Option<String>,
    pub status: Option<u16>,
    pub retry_after_ms: Option<f64>,
    pub errors: Vec<FieldProblem>,
    /// The underlying error's message (a platform error, a server's error text).
    pub cause: Option<String>,
    /// Which attempt failed (1 = the first), when a retry plugin is in use.
    pub attempt: Option<u32>,
    /// The plugin or middleware that threw (PLUGIN errors).
    pub plugin: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SdkError {
    pub code: Code,
    pub message: String,
    pub retryable: bool,
    pub context: Context,
    /// A value the JS error carries as `.report` (a verification report, say).
    pub report: Option<JsValue>,
    /// A JS value thrown by user code: a PLUGIN error carries it as `.cause`; for other codes it
    /// is what JS receives unchanged (a `SandrunError` a middleware rethrew).
    pub js: Option<JsValue>,
}

pub type Result<T> = std::result::Result<T, SdkError>;

impl SdkError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        SdkError {
            code,
            message: message.into(),
            retryable: code.default_retryable(),
            context: Context::default(),
            report: None,
            js: None,
        }
    }

    pub fn validation(problems: Vec<FieldProblem>) -> Self {
        let message = match problems.as_slice() {
            [one] => format!("invalid {}: {}", one.field, one.message),
            many => {
                let list: Vec<String> = many
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect();
                format!("{} problems: {}", many.len(), list.join("; "))
            }
        };
        let mut e = SdkError::new(Code::Validation, message);
        e.context.errors = problems;
        e
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        SdkError::validation(vec![FieldProblem {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn retryable(mut self, r: bool) -> Self {
        self.retryable = r;
        self
    }

    pub fn op(mut self, operation: &'static str) -> Self {
        self.context.operation.get_or_insert(operation);
        self
    }

    pub fn endpoint(mut self, endpoint: &str) -> Self {
        self.context
            .endpoint
            .get_or_insert_with(|| endpoint.to_string());
        self
    }

    pub fn job(mut self, id: &str) -> Self {
        self.context.job_id.get_or_insert_with(|| id.to_string());
        self
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.context.cause = Some(cause.into());
        self
    }

    pub fn with_report(mut self, report: JsValue) -> Self {
        self.report = Some(report);
        self
    }

    /// The JS error object: an instance of the class for `code`, made by the platform's
    /// `makeError` so that the classes live in one JS module users can import.
    pub fn into_js(self) -> JsValue {
        if let (Some(js), false) = (&self.js, self.code == Code::Plugin) {
            return js.clone();
        }
        let c = &self.context;
        let d = Obj::new();
        d.set("retryable", &self.retryable);
        let strings = [
            ("operation", c.operation.map(String::from)),
            ("endpoint", c.endpoint.clone()),
            ("jobId", c.job_id.clone()),
            ("cause", c.cause.clone()),
            ("plugin", c.plugin.clone()),
        ];
        for (key, value) in strings {
            if let Some(v) = value {
                d.set(key, &v);
            }
        }
        if let Some(s) = c.status {
            d.set("status", &(s as f64));
        }
        if let Some(ms) = c.retry_after_ms {
            d.set("retryAfterMs", &ms);
        }
        if let Some(n) = c.attempt {
            d.set("attempt", &(n as f64));
        }
        if let (Some(js), true) = (&self.js, self.code == Code::Plugin) {
            d.set_js("cause", js);
        }
        if !c.errors.is_empty() {
            d.set("errors", &c.errors);
        }
        if let Some(report) = &self.report {
            d.set_js("report", report);
        }
        crate::platform::make_error(self.code.as_str(), &self.message, &d.into())
    }
}

impl From<SdkError> for JsValue {
    fn from(e: SdkError) -> JsValue {
        e.into_js()
    }
}

impl std::fmt::Display for SdkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code.as_str())
    }
}

/// The text of a JS exception value (an `Error`'s message, or the value itself).
pub fn js_message(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    js_sys::Reflect::get(v, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{v:?}"))
}

/// A JS exception's `code` property (Node-style `ECONNRESET`, DOM `AbortError` names).
pub fn js_code(v: &JsValue) -> Option<String> {
    ["code", "name"].iter().find_map(|k| {
        js_sys::Reflect::get(v, &(*k).into())
            .ok()
            .and_then(|c| c.as_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_lists_every_problem() {
        let one = SdkError::field("args[0]", "contains '\"'");
        assert_eq!(one.message, "invalid args[0]: contains '\"'");
        assert_eq!(one.code, Code::Validation);
        assert!(!one.retryable);
        let two = SdkError::validation(vec![
            FieldProblem {
                field: "a".into(),
                message: "x".into(),
            },
            FieldProblem {
                field: "b".into(),
                message: "y".into(),
            },
        ]);
        assert_eq!(two.message, "2 problems: a: x; b: y");
        assert_eq!(two.context.errors.len(), 2);
    }

    #[test]
    fn retryable_defaults_follow_the_code() {
        assert!(SdkError::new(Code::Network, "x").retryable);
        assert!(SdkError::new(Code::RateLimited, "x").retryable);
        assert!(!SdkError::new(Code::Verification, "x").retryable);
        assert!(!SdkError::new(Code::Http, "x").retryable(false).retryable);
    }
}

/// What the core build says of a feature only `@sandrun/sdk/full` has.
#[cfg(not(feature = "full"))]
pub fn full_only_message(what: &str) -> String {
    format!("{what}: not in the core build of @sandrun/sdk; import from '@sandrun/sdk/full'")
}

/// The `UNSUPPORTED` error of a method only `@sandrun/sdk/full` implements.
#[cfg(not(feature = "full"))]
pub fn full_only(op: &'static str, what: &str) -> SdkError {
    SdkError::new(Code::Unsupported, full_only_message(what))
        .op(op)
        .retryable(false)
}
