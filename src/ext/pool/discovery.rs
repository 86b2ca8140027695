//! Where a pool's workers come from and which of them are in: the sources (a list, a
//! coordinator's `/pool`, a broker's `/nodes`), the filters, and the health check of each worker
//! (its key against the one expected), run at `join()`, on `healthCheck()` and on an interval.

use super::coordinator;
use super::state::{NodeInfo, NodeState, PoolInner, Source};
use crate::core::actions;
use crate::core::boundary::error::Result;
use crate::core::boundary::js::{boolean, entries, number_of, prop, string_of, ToJs};
use crate::core::config::normalize_endpoint;
use crate::core::transport::CallOpts;
use crate::ext::broker;
use wasm_bindgen::JsValue;

/// A worker a source named, before its health check.
pub struct Candidate {
    endpoint: String,
    id: Option<String>,
    expected: Option<String>,
    caps: JsValue,
    capacity: Option<f64>,
    reputation: Option<f64>,
    source: &'static str,
}

/// How long a worker's `/health` may take before it counts as down.
const HEALTH_TIMEOUT_MS: f64 = 5000.0;

impl PoolInner {
    async fn candidates(&self) -> Result<Vec<Candidate>> {
        let mut out = Vec::new();
        for s in &self.sources {
            match s {
                Source::Workers(list) => {
                    for w in list {
                        let url = w
                            .as_string()
                            .or_else(|| string_of(w, &["url", "endpoint"]))
                            .unwrap_or_default();
                        let endpoint = normalize_endpoint(&url).unwrap_or(url);
                        let caps = if w.is_object() {
                            w.clone()
                        } else {
                            js_sys::Object::new().into()
                        };
                        out.push(Candidate {
                            endpoint,
                            id: None,
                            expected: string_of(&caps, &["workerId"]),
                            capacity: number_of(&caps, &["maxConcurrent", "capacity"]),
                            reputation: number_of(&caps, &["reputation"]),
                            caps,
                            source: "workers",
                        });
                    }
                }
                Source::Coordinator(url) => {
                    for w in coordinator::workers(&self.client.http.to(url)).await? {
                        let Some(endpoint) = string_of(&w, &["endpoint"]) else {
                            continue;
                        };
                        out.push(Candidate {
                            endpoint: normalize_endpoint(&endpoint).unwrap_or(endpoint),
                            id: None,
                            expected: string_of(&w, &["worker_id"]),
                            capacity: number_of(&w, &["max_concurrent_jobs"]),
                            reputation: None,
                            caps: w,
                            source: "coordinator",
                        });
                    }
                }
                Source::Broker(url) => {
                    for n in broker::nodes(&self.client.http.to(url)).await? {
                        if boolean(&n, "active") == Some(false) {
                            continue;
                        }
                        let Some(endpoint) = string_of(&n, &["endpoint"]) else {
                            continue;
                        };
                        let Ok(endpoint) = normalize_endpoint(&endpoint) else {
                            continue;
                        };
                        let caps = prop(&n, "capabilities")
                            .filter(|c| c.is_object())
                            .unwrap_or_else(|| js_sys::Object::new().into());
                        let done = number_of(&n, &["jobs_completed"]).unwrap_or(0.0);
                        let failed = number_of(&n, &["jobs_failed"]).unwrap_or(0.0);
                        out.push(Candidate {
                            endpoint,
                            id: string_of(&n, &["id"]),
                            expected: string_of(&caps, &["workerId", "worker_id"]),
                            capacity: number_of(&caps, &["maxConcurrent", "max_concurrent_jobs"]),
                            reputation: number_of(&caps, &["reputation"]).or(Some(
                                if done + failed > 0.0 {
                                    done / (done + failed)
                                } else {
                                    1.0
                                },
                            )),
                            caps,
                            source: "broker",
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    fn matches(&self, c: &Candidate, info: &NodeInfo) -> bool {
        let f = &self.filter;
        if let Some(ids) = &f.ids {
            let mine = [
                Some(&info.id),
                Some(&info.endpoint),
                info.expected_worker_id.as_ref(),
            ];
            if !ids.iter().any(|i| mine.contains(&Some(i))) {
                return false;
            }
        }
        if let Some(rs) = &f.regions {
            if !info
                .region
                .as_ref()
                .map(|r| rs.contains(r))
                .unwrap_or(false)
            {
                return false;
            }
        }
        if f.min_gpus.map(|g| info.gpus < g).unwrap_or(false)
            || f.min_memory
                .map(|m| info.memory_mb.unwrap_or(0.0) < m)
                .unwrap_or(false)
            || f.max_price
                .map(|p| info.price.map(|x| x > p).unwrap_or(false))
                .unwrap_or(false)
            || f.min_reputation
                .map(|r| info.reputation.unwrap_or(0.0) < r)
                .unwrap_or(false)
        {
            return false;
        }
        if let Some(want) = &f.capabilities {
            for (k, w) in entries(want) {
                let have = prop(&c.caps, &k).unwrap_or(JsValue::UNDEFINED);
                let ok = match (w.as_f64(), have.as_f64()) {
                    (Some(w), Some(h)) => h >= w,
                    (Some(_), None) => false,
                    _ => js_sys::Object::is(&w, &have),
                };
                if !ok {
                    return false;
                }
            }
        }
        true
    }

    /// Asks the sources again, checks every worker's health and key, and updates the node list
    /// (emitting `node-joined` / `node-left`); failed workers are replaced by spare ones.
    pub async fn refresh(&self) -> Result<()> {
        let cands = self.candidates().await?;
        let trusted = &self.client.config.trusted_workers;
        let mut fresh: Vec<NodeState> = Vec::new();
        for c in cands {
            if fresh.iter().any(|n| n.info.endpoint == c.endpoint) {
                continue;
            }
            let pricing = prop(&c.caps, "pricing").unwrap_or(JsValue::UNDEFINED);
            let mut info = NodeInfo {
                id: c
                    .id
                    .clone()
                    .or(c.expected.clone())
                    .unwrap_or(c.endpoint.clone()),
                endpoint: c.endpoint.clone(),
                expected_worker_id: c.expected.clone(),
                capacity: c.capacity.unwrap_or(2.0).max(1.0),
                region: string_of(&c.caps, &["region"]),
                gpus: number_of(&c.caps, &["gpus", "gpu"]).unwrap_or(0.0),
                memory_mb: number_of(&c.caps, &["memoryMb", "memory_mb", "memory"]),
                price: number_of(&c.caps, &["price"])
                    .or_else(|| number_of(&pricing, &["perJob", "per_job"])),
                reputation: c.reputation,
                source: c.source.into(),
                ..Default::default()
            };
            let client = self.client.for_endpoint(&c.endpoint);
            let opts = CallOpts {
                timeout_ms: Some(HEALTH_TIMEOUT_MS),
                ..Default::default()
            };
            match actions::health::health(&client.http, &opts).await {
                Ok(h) => {
                    info.worker_id = h.worker_id;
                    info.problem = if h.status != "healthy" {
                        Some(format!("/health says {:?}", h.status))
                    } else if c.expected.is_some() && info.worker_id != c.expected {
                        Some(format!(
                            "its key {} is not the expected {}",
                            info.worker_id.as_deref().unwrap_or("(none)"),
                            c.expected.as_deref().unwrap_or_default()
                        ))
                    } else if !trusted.is_empty()
                        && !info
                            .worker_id
                            .as_ref()
                            .map(|k| trusted.contains(k))
                            .unwrap_or(false)
                    {
                        Some("its key is not among trustedWorkers".into())
                    } else {
                        None
                    };
                }
                Err(e) => info.problem = Some(e.message),
            }
            info.healthy = info.problem.is_none();
            if c.id.is_none() {
                if let Some(w) = &info.worker_id {
                    info.id = w.clone();
                }
            }
            if !self.matches(&c, &info) {
                continue;
            }
            fresh.push(NodeState { info, client });
        }
        // Keep the load of known workers; healthy ones first, up to maxNodes.
        let (mut joined, mut left) = (Vec::new(), Vec::new());
        {
            let mut nodes = self.nodes.borrow_mut();
            for n in fresh.iter_mut() {
                if let Some(old) = nodes.iter().find(|o| o.info.endpoint == n.info.endpoint) {
                    n.info.active = old.info.active;
                    n.info.completed = old.info.completed;
                }
            }
            let (mut healthy, spare): (Vec<NodeState>, Vec<NodeState>) =
                fresh.into_iter().partition(|n| n.info.healthy);
            healthy.extend(spare);
            fresh = healthy;
            let max = self
                .filter
                .max_nodes
                .map(|m| m as usize)
                .unwrap_or(usize::MAX);
            let mut used = 0;
            for n in fresh.iter_mut() {
                if n.info.healthy {
                    used += 1;
                    if used > max {
                        n.info.healthy = false;
                        n.info.problem = Some("spare (maxNodes reached)".into());
                    }
                }
            }
            for n in &fresh {
                let was = nodes
                    .iter()
                    .find(|o| o.info.endpoint == n.info.endpoint)
                    .map(|o| o.info.healthy);
                if n.info.healthy && was != Some(true) {
                    joined.push(n.info.to_js());
                }
                if !n.info.healthy && was == Some(true) {
                    left.push(n.info.to_js());
                }
            }
            for o in nodes.iter().filter(|o| o.info.healthy) {
                if !fresh.iter().any(|n| n.info.endpoint == o.info.endpoint) {
                    let mut gone = o.info.clone();
                    gone.healthy = false;
                    gone.problem = Some("no longer listed by its source".into());
                    left.push(gone.to_js());
                }
            }
            *nodes = fresh;
        }
        for j in &joined {
            self.emit("node-joined", j);
        }
        for l in &left {
            self.emit("node-left", l);
        }
        Ok(())
    }
}
