//! `metricsPlugin()`: counters (jobs submitted, completed by status, errors by code, requests and
//! retries by operation) and latency histograms per operation, as JSON (`snapshot()`) and in the
//! Prometheus text format (`prometheus()`). The other layers count into it through the pipeline.

use super::builtin::{register, Builtin, BuiltinPlugin};
use crate::core::boundary::js::{num, Obj};
use sandrun_protocol::map::SortedMap;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Histogram bucket bounds, in milliseconds.
pub const BOUNDS: [f64; 9] = [
    10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0, 30000.0,
];

#[derive(Clone, Debug, Default)]
pub struct Hist {
    /// Per bound, observations ≤ it (cumulative, as Prometheus wants).
    pub le: [f64; 9],
    pub count: f64,
    pub sum: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub submitted: f64,
    /// Jobs that ended, by final status.
    pub completed: SortedMap<f64>,
    /// Failed operations, by error code.
    pub errors: SortedMap<f64>,
    /// HTTP attempts, by operation.
    pub requests: SortedMap<f64>,
    pub retries: f64,
    /// Whole-operation latency (retries included), by operation.
    pub latency: SortedMap<Hist>,
}

fn bump(m: &mut SortedMap<f64>, key: &str) {
    let n = m.get(key).copied().unwrap_or(0.0);
    m.insert(key.to_string(), n + 1.0);
}

impl Counters {
    pub fn request(&mut self, op: &str) {
        bump(&mut self.requests, op);
    }
    pub fn error(&mut self, code: &str) {
        bump(&mut self.errors, code);
    }
    pub fn completed(&mut self, status: &str) {
        bump(&mut self.completed, status);
    }
    pub fn observe(&mut self, op: &str, ms: f64) {
        let mut h = self.latency.get(op).cloned().unwrap_or_default();
        for (i, b) in BOUNDS.iter().enumerate() {
            if ms <= *b {
                h.le[i] += 1.0;
            }
        }
        h.count += 1.0;
        h.sum += ms;
        self.latency.insert(op.to_string(), h);
    }

    /// The Prometheus text exposition format (0.0.4).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, lines: Vec<(String, f64)>| {
            out.push_str(&format!("# TYPE sandrun_{name} {kind}\n"));
            for (labels, v) in lines {
                out.push_str(&format!("sandrun_{name}{labels} {}\n", num(v)));
            }
        };
        let labelled = |m: &SortedMap<f64>, label: &str| -> Vec<(String, f64)> {
            m.iter()
                .map(|(k, v)| (format!("{{{label}=\"{k}\"}}"), *v))
                .collect()
        };
        family(
            "jobs_submitted_total",
            "counter",
            vec![(String::new(), self.submitted)],
        );
        family(
            "jobs_completed_total",
            "counter",
            labelled(&self.completed, "status"),
        );
        family("errors_total", "counter", labelled(&self.errors, "code"));
        family(
            "requests_total",
            "counter",
            labelled(&self.requests, "operation"),
        );
        family(
            "retries_total",
            "counter",
            vec![(String::new(), self.retries)],
        );
        let mut lines = Vec::new();
        for (op, h) in &self.latency {
            for (i, b) in BOUNDS.iter().enumerate() {
                lines.push((
                    format!("_bucket{{operation=\"{op}\",le=\"{}\"}}", num(*b)),
                    h.le[i],
                ));
            }
            lines.push((
                format!("_bucket{{operation=\"{op}\",le=\"+Inf\"}}"),
                h.count,
            ));
            lines.push((format!("_sum{{operation=\"{op}\"}}"), h.sum));
            lines.push((format!("_count{{operation=\"{op}\"}}"), h.count));
        }
        out.push_str("# TYPE sandrun_operation_duration_ms histogram\n");
        for (suffix, v) in lines {
            out.push_str(&format!(
                "sandrun_operation_duration_ms{suffix} {}\n",
                num(v)
            ));
        }
        out
    }
}

pub struct Metrics(pub RefCell<Counters>);

impl Builtin for Metrics {
    fn name(&self) -> &'static str {
        "metrics"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn snapshot(&self) -> JsValue {
        let m = self.0.borrow();
        let o = Obj::new();
        o.set("submitted", &m.submitted)
            .set("completed", &m.completed)
            .set("errors", &m.errors)
            .set("requests", &m.requests)
            .set("retries", &m.retries);
        let lat = Obj::new();
        for (op, h) in &m.latency {
            let buckets = Obj::new();
            for (i, b) in BOUNDS.iter().enumerate() {
                buckets.set(&num(*b), &h.le[i]);
            }
            buckets.set("+Inf", &h.count);
            let one = Obj::new();
            one.set("count", &h.count)
                .set("sumMs", &h.sum)
                .set("buckets", &JsValue::from(buckets));
            lat.set(op, &JsValue::from(one));
        }
        o.set("latencyMs", &JsValue::from(lat));
        o.into()
    }
    fn prometheus(&self) -> String {
        self.0.borrow().prometheus()
    }
}

/// Counters (jobs submitted, completed by status, errors by code, requests and retries by
/// operation) and latency histograms per operation: `snapshot()` (JSON) and `prometheus()`.
#[wasm_bindgen(js_name = metricsPlugin)]
pub fn metrics_plugin() -> BuiltinPlugin {
    register(Rc::new(Metrics(RefCell::new(Counters::default()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text() {
        let mut m = Counters {
            submitted: 1.0,
            ..Default::default()
        };
        m.completed("completed");
        m.error("HTTP");
        m.error("HTTP");
        m.request("health");
        m.observe("health", 30.0);
        let t = m.prometheus();
        assert!(t.contains("sandrun_jobs_submitted_total 1\n"), "{t}");
        assert!(t.contains("sandrun_jobs_completed_total{status=\"completed\"} 1\n"));
        assert!(t.contains("sandrun_errors_total{code=\"HTTP\"} 2\n"));
        assert!(
            t.contains("sandrun_operation_duration_ms_bucket{operation=\"health\",le=\"25\"} 0\n")
        );
        assert!(
            t.contains("sandrun_operation_duration_ms_bucket{operation=\"health\",le=\"50\"} 1\n")
        );
        assert!(t.contains("sandrun_operation_duration_ms_count{operation=\"health\"} 1\n"));
        assert!(t.contains("# TYPE sandrun_operation_duration_ms histogram\n"));
    }
}
