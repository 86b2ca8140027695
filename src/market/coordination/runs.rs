//! Where a market job's logs are: on the worker of the first node that runs it. A node
//! announces its run on chain once its worker accepted the job (`JobRunning`: the worker's job
//! id; the endpoint is the one the node registered); a node that did not announce still names
//! the run in the `status.json` of the result it submits. Either is a `WorkerExecution` the core
//! follows the logs of (its WebSocket stream, else `/logs`).

use super::results::Checked;
use crate::core::boundary::error::Result;
use crate::core::client::Client;
use crate::core::execution::WorkerExecution;
use crate::market::chain::contract::MarketContract;
use alloy_primitives::Address;
use std::rc::Rc;

/// A run a node announced.
#[derive(Debug, Clone)]
pub struct Run {
    pub node: Address,
    /// The id the node's worker gave the job.
    pub worker_job: String,
    /// The node's endpoint as registered on chain.
    pub endpoint: String,
}

/// The runs among `announced` (a job's `JobRunning` logs, read with the rest of its history)
/// by nodes not in `known`, first announcement per node, with each node's registered endpoint.
pub async fn announced(
    c: &MarketContract,
    announced: &[(Address, String)],
    known: &[Address],
) -> Result<Vec<Run>> {
    let mut found: Vec<Run> = Vec::new();
    for (node, worker_job) in announced {
        if known.contains(node) || found.iter().any(|r| r.node == *node) {
            continue;
        }
        let endpoint = c.node(*node).await?.endpoint;
        found.push(Run {
            node: *node,
            worker_job: worker_job.clone(),
            endpoint,
        });
    }
    Ok(found)
}

/// The first announced run; else the run of the first submitted result (a verified one
/// first), whose job is over: its logs come from `/logs` at once.
pub fn source(
    client: &Client,
    runs: &[Run],
    checked: &[(Address, Checked)],
    job_hash: Option<String>,
) -> Option<Rc<WorkerExecution>> {
    if let Some(r) = runs.first() {
        let worker = client.for_endpoint(&r.endpoint);
        return Some(WorkerExecution::new(
            worker,
            r.worker_job.clone(),
            job_hash,
            None,
            None,
        ));
    }
    let mut results: Vec<&Checked> = checked.iter().map(|(_, c)| c).collect();
    results.sort_by_key(|c| !c.evidence.verified);
    let (c, status) = results
        .into_iter()
        .find_map(|c| c.status.as_ref().map(|s| (c, s)))?;
    Some(WorkerExecution::new(
        client.for_endpoint(&c.evidence.endpoint),
        status.job_id.clone(),
        job_hash,
        None,
        Some(status.clone()),
    ))
}
