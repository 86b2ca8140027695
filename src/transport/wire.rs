//! Reading the worker's JSON answers (already `JSON.parse`d by the host) into the protocol's
//! types, by hand (see `convert::Reader` for why not serde). A missing required field is an
//! error: it is how an answer of the wrong shape — the real worker's info body for an unknown
//! path — is told apart.

use js_sys::{Object, Reflect};
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::{ExecutionMetadata, OutputFile, StatusBody, WorkerMetadata};
use wasm_bindgen::{JsCast, JsValue};

fn field(v: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(v, &key.into())
        .ok()
        .filter(|f| !f.is_undefined() && !f.is_null())
}

pub fn string(v: &JsValue, key: &str) -> Option<String> {
    field(v, key)?.as_string()
}

fn number(v: &JsValue, key: &str) -> f64 {
    field(v, key).and_then(|n| n.as_f64()).unwrap_or(0.0)
}

pub fn required(v: &JsValue, key: &str) -> Result<String, String> {
    string(v, key).ok_or_else(|| format!("no {key:?} string"))
}

/// `/status/{id}`.
pub fn status(v: &JsValue, _bytewise: bool) -> Result<StatusBody, String> {
    let execution_metadata = field(v, "execution_metadata").map(|m| ExecutionMetadata {
        cpu_seconds: number(&m, "cpu_seconds"),
        memory_peak_bytes: number(&m, "memory_peak_bytes") as u64,
        memory_peak_mb: number(&m, "memory_peak_mb") as u64,
        wall_time_ms: number(&m, "wall_time_ms") as u64,
        exit_code: number(&m, "exit_code") as i64,
        environment: string(&m, "environment").unwrap_or_default(),
        interpreter: string(&m, "interpreter").unwrap_or_default(),
        cpu_signed: string(&m, "cpu_signed"),
    });
    let mut output_files = SortedMap::new();
    if let Some(files) = field(v, "output_files").and_then(|f| f.dyn_into::<Object>().ok()) {
        for pair in Object::entries(&files).iter() {
            let pair = js_sys::Array::from(&pair);
            let (Some(path), f) = (pair.get(0).as_string(), pair.get(1)) else {
                continue;
            };
            let sha256 =
                required(&f, "sha256").map_err(|e| format!("output_files[{path:?}]: {e}"))?;
            let file = OutputFile {
                size_bytes: number(&f, "size_bytes") as u64,
                sha256,
                kind: string(&f, "type").unwrap_or_default(),
            };
            output_files.insert(path, file);
        }
    }
    let worker_metadata = field(v, "worker_metadata").map(|w| WorkerMetadata {
        worker_id: string(&w, "worker_id"),
        signature: string(&w, "signature"),
    });
    Ok(StatusBody {
        job_id: required(v, "job_id")?,
        status: required(v, "status")?,
        queue_position: field(v, "queue_position")
            .and_then(|q| q.as_f64())
            .map(|q| q as u64),
        execution_metadata,
        job_hash: string(v, "job_hash").unwrap_or_default(),
        output_files,
        worker_metadata,
    })
}
