//! One operation on a server, as the transport layers see it: what to send, where, and under
//! which limits. Layers may change it (add headers, shorten the timeout) before passing it on.

use crate::core::boundary::platform::{Response, Socket};
use js_sys::Function;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// A request body. Shared, so that a layer that tries again (or a JS middleware that keeps the
/// call) does not copy it.
#[derive(Clone)]
pub struct Body {
    pub content_type: String,
    pub bytes: Rc<[u8]>,
}

impl Body {
    pub fn new(content_type: &str, bytes: Vec<u8>) -> Body {
        Body {
            content_type: content_type.to_string(),
            bytes: Rc::from(bytes),
        }
    }
}

/// What a caller may set for one operation.
#[derive(Default, Clone)]
pub struct CallOpts {
    /// This request's own timeout (status polls get the rest of `wait()`'s deadline).
    pub timeout_ms: Option<f64>,
    pub signal: Option<JsValue>,
    /// Upload progress, `{ loaded, total }`.
    pub on_progress: Option<Function>,
    /// The job this is about, for errors and hook contexts.
    pub job_id: Option<String>,
    /// Headers of this request (a service's bearer token, say). Browsers send a CORS preflight
    /// for most: only for servers that answer one (not the Sandrun worker).
    pub headers: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct Call {
    /// `submit`, `status`, `logs`, `download`, `cancel`, `health`, `stream`, … (what plugins,
    /// metrics and errors call it).
    pub op: &'static str,
    pub method: &'static str,
    pub endpoint: String,
    /// The path below the endpoint, as the operation asked for it.
    pub path: String,
    /// What is sent: the endpoint and path, unless a layer changed it.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
    pub timeout_ms: f64,
    /// The caller's own timeout, if it set one (a layer's per-operation timeout still wins).
    pub explicit_timeout_ms: Option<f64>,
    /// When the whole operation (retries included) must be over, in ms since the epoch.
    pub deadline: Option<f64>,
    pub signal: Option<JsValue>,
    pub on_progress: Option<Function>,
    pub job_id: Option<String>,
    /// Opening the log stream rather than an HTTP request: only layers that wrap whole
    /// operations (middleware) see these; the others pass them through.
    pub stream: bool,
}

/// What an operation gives back.
pub enum Reply {
    Http(Response),
    Stream(Rc<Socket>),
}
