//! Broker actions: one function per endpoint of a Sandrun broker (`../shared/protocol/
//! sandrun-wire.md` §3: JSON in and out, CORS with preflight). Pools discover workers through
//! `/nodes`; the node-operator agent registers, heartbeats, claims and completes.

use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{prop, required, Obj};
use crate::core::transport::{CallOpts, Http};
use js_sys::Array;
use wasm_bindgen::JsValue;

fn answer(v: &JsValue, _: bool) -> std::result::Result<JsValue, String> {
    Ok(v.clone())
}

/// `GET /nodes`: `{ nodes: [{ id, endpoint, capabilities, active, jobs_completed, jobs_failed,
/// last_heartbeat }] }`.
pub async fn nodes(http: &Http) -> Result<Vec<JsValue>> {
    http.get_json("nodes", "/nodes", &CallOpts::default(), |v, _| {
        prop(v, "nodes")
            .filter(Array::is_array)
            .map(|n| Array::from(&n).iter().collect())
            .ok_or_else(|| "no \"nodes\" array".to_string())
    })
    .await
}

/// `POST /register {endpoint, capabilities}` → the node id (the broker derives it from the
/// endpoint, so the same endpoint gets the same id again).
pub async fn register(http: &Http, endpoint: &str, capabilities: &JsValue) -> Result<String> {
    let body = Obj::new();
    body.set("endpoint", &endpoint)
        .set("capabilities", capabilities);
    http.post_json(
        "register",
        "/register",
        &body.into(),
        &CallOpts::default(),
        |v, _| required(v, "node_id"),
    )
    .await
}

/// `POST /heartbeat {node_id}`.
pub async fn heartbeat(http: &Http, node_id: &str) -> Result<()> {
    let body = Obj::new();
    body.set("node_id", &node_id);
    http.post_json(
        "heartbeat",
        "/heartbeat",
        &body.into(),
        &CallOpts::default(),
        answer,
    )
    .await
    .map(|_| ())
}

/// `POST /claim {node_id}` → a job `{ id, code, interpreter, args }`, or `None` when there is none.
pub async fn claim(http: &Http, node_id: &str) -> Result<Option<JsValue>> {
    let body = Obj::new();
    body.set("node_id", &node_id);
    let v = http
        .post_json(
            "claim",
            "/claim",
            &body.into(),
            &CallOpts::default(),
            answer,
        )
        .await?;
    Ok(prop(&v, "job").filter(|j| j.is_object()))
}

/// What a node reports of a finished job.
#[derive(Clone)]
pub struct Completion {
    pub job_id: String,
    pub output: String,
    pub error: String,
    pub exit_code: f64,
}

/// `POST /complete {node_id, job_id, output, error, exit_code}`.
pub async fn complete(http: &Http, node_id: &str, c: &Completion) -> Result<()> {
    let body = Obj::new();
    body.set("node_id", &node_id)
        .set("job_id", &c.job_id)
        .set("output", &c.output)
        .set("error", &c.error)
        .set("exit_code", &c.exit_code);
    http.post_json(
        "complete",
        "/complete",
        &body.into(),
        &CallOpts::default(),
        answer,
    )
    .await
    .map(|_| ())
}

/// An answer that is not JSON is a PROTOCOL error naming the broker.
pub fn protocol(op: &'static str, broker: &str, why: &str) -> SdkError {
    SdkError::new(Code::Protocol, format!("{op}: the broker answered {why}"))
        .op(op)
        .endpoint(broker)
}
