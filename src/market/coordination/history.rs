//! A market job as its logs tell it: every log whose first indexed argument is the job id
//! (`JobPosted`, `JobClaimed`, `ResultSubmitted`, `NodeSlashed`, `JobFinalized`, `JobRefunded`,
//! `JobCancelled`), read in one `eth_getLogs`. This is what a re-attached execution knows the job
//! by (its job hash, input CID, quorum and deadline), what the submitter checks each result by
//! (output CID and signature, which `getJob` does not return), and how a settlement made by
//! someone else is read back. Also the registered nodes (`estimate()` and `marketHealth()`), and
//! the duplicate check's earlier postings.
//!
//! Every read starts at the market's first block (`first_block`: `config.market.fromBlock`, else
//! the deployment block found once per client), or later when the job's posting block is known;
//! never at block 0, which on a long chain is millions of blocks of nothing.

use super::config::{market_location_of, MarketLocation};
use super::results::Submitted;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::client::Client;
use crate::market::chain::contract::MarketContract;
use crate::market::chain::deployment::deployment_block;
use crate::market::chain::rpc::LogFilter;
use alloy_primitives::{Address, B256, U256};
use sandrun_chain::events::{decode_log, settlement, topic0, MarketEvent, Settlement};
use std::cell::Cell;

/// What `JobPosted` said.
#[derive(Debug, Clone)]
pub struct Posted {
    pub poster: Address,
    pub job_hash: B256,
    pub input_cid: String,
    pub k: u32,
    pub n: u32,
    pub price_per_node: U256,
    pub deadline: u64,
    pub block: u64,
}

#[derive(Debug, Clone, Default)]
pub struct History {
    pub posted: Option<Posted>,
    pub claimed: Vec<Address>,
    pub submitted: Vec<Submitted>,
    /// The runs the nodes announced (`JobRunning`: node, its worker's job id), in order.
    pub runs: Vec<(Address, String)>,
    /// The settlement and the hash of the transaction that made it.
    pub settled: Option<(Settlement, B256)>,
}

fn word(v: U256) -> B256 {
    B256::from(v)
}

/// The block this client's reads of the market's logs start at: `config.market.fromBlock` when
/// given (for this market), else the contract's deployment block.
pub async fn first_block(client: &Client, c: &MarketContract) -> Result<u64> {
    match market_location_of(client) {
        Ok(MarketLocation {
            address,
            from_block: Some(b),
        }) if address == c.address => Ok(b),
        _ => deployment_block(client, &c.chain, c.address).await,
    }
}

/// The job's logs from `start` to the head. `start` is the job's posting block, or 0 when it is
/// not known (a re-attached job): the read then starts at `first_block`, and `start` becomes the
/// posting block once `JobPosted` is read, so that later reads cover only the job's blocks.
pub async fn read(
    client: &Client,
    c: &MarketContract,
    job_id: U256,
    start: &Cell<u64>,
) -> Result<History> {
    let from_block = match start.get() {
        0 => first_block(client, c).await?,
        known => known,
    };
    let head = c.chain.rpc.block_number().await?;
    let logs = c
        .chain
        .rpc
        .logs(&LogFilter {
            address: c.address,
            topics: vec![None, Some(word(job_id))],
            from_block,
            to_block: head,
        })
        .await?;
    let mut h = History::default();
    let mut events = Vec::new();
    let mut settled_tx = None;
    for log in &logs {
        let Ok(event) = decode_log(&log.topics, &log.data) else {
            continue;
        };
        match &event {
            MarketEvent::JobPosted(p) if p.jobId == job_id => {
                h.posted = Some(Posted {
                    poster: p.poster,
                    job_hash: p.jobHash,
                    input_cid: p.inputCid.clone(),
                    k: p.k as u32,
                    n: p.n as u32,
                    price_per_node: U256::from(p.pricePerNode),
                    deadline: u64::try_from(U256::from(p.deadline)).unwrap_or(u64::MAX),
                    block: log.block_number,
                })
            }
            MarketEvent::JobClaimed(e) if e.jobId == job_id => h.claimed.push(e.node),
            MarketEvent::JobRunning(e) if e.jobId == job_id => h.runs.push((e.node, e.run.clone())),
            MarketEvent::ResultSubmitted(e) if e.jobId == job_id => h.submitted.push(Submitted {
                node: e.node,
                result_hash: e.resultHash,
                output_cid: e.outputCid.clone(),
                signature: e.signature.to_vec(),
            }),
            MarketEvent::JobFinalized(e) if e.jobId == job_id => settled_tx = Some(log.tx_hash),
            MarketEvent::JobRefunded(e) if e.jobId == job_id => settled_tx = Some(log.tx_hash),
            MarketEvent::JobCancelled(e) if e.jobId == job_id => settled_tx = Some(log.tx_hash),
            _ => {}
        }
        events.push(event);
    }
    if let Some(tx) = settled_tx {
        h.settled = settlement(job_id, &events).map(|s| (s, tx));
    }
    if let Some(p) = &h.posted {
        start.set(p.block);
    }
    Ok(h)
}

/// A job this poster already posted with the same job hash and input CID that is not settled
/// (open or claimed): its id.
pub async fn unsettled_duplicate(
    client: &Client,
    c: &MarketContract,
    poster: Address,
    job_hash: B256,
    input_cid: &str,
) -> Result<Option<U256>> {
    let from_block = first_block(client, c).await?;
    let head = c.chain.rpc.block_number().await?;
    let topic = topic0("JobPosted")
        .ok_or_else(|| SdkError::new(Code::Internal, "JobPosted has no topic"))?;
    let logs = c
        .chain
        .rpc
        .logs(&LogFilter {
            address: c.address,
            topics: vec![Some(topic), None, Some(poster.into_word()), Some(job_hash)],
            from_block,
            to_block: head,
        })
        .await?;
    for log in logs.iter().rev() {
        if let Ok(MarketEvent::JobPosted(p)) = decode_log(&log.topics, &log.data) {
            if p.inputCid == input_cid {
                use sandrun_chain::market::JobState;
                let state = c.job(p.jobId).await?.state;
                if matches!(state, JobState::Open | JobState::Claimed) {
                    return Ok(Some(p.jobId));
                }
            }
        }
    }
    Ok(None)
}

/// Every node that registered, with the endpoint it registered or last updated
/// (`NodeRegistered`, `NodeUpdated`), in the order they first registered.
pub async fn registered_nodes(
    client: &Client,
    c: &MarketContract,
) -> Result<Vec<(Address, String)>> {
    let from_block = first_block(client, c).await?;
    let head = c.chain.rpc.block_number().await?;
    let mut logs = Vec::new();
    for name in ["NodeRegistered", "NodeUpdated"] {
        let topic = topic0(name)
            .ok_or_else(|| SdkError::new(Code::Internal, format!("{name} has no topic")))?;
        let filter = LogFilter {
            address: c.address,
            topics: vec![Some(topic)],
            from_block,
            to_block: head,
        };
        logs.extend(c.chain.rpc.logs(&filter).await?);
    }
    logs.sort_by_key(|l| (l.block_number, l.log_index));
    let mut nodes: Vec<(Address, String)> = Vec::new();
    for log in &logs {
        let (node, endpoint) = match decode_log(&log.topics, &log.data) {
            Ok(MarketEvent::NodeRegistered(r)) => (r.node, r.endpoint),
            Ok(MarketEvent::NodeUpdated(u)) => (u.node, u.endpoint),
            _ => continue,
        };
        match nodes.iter_mut().find(|(n, _)| *n == node) {
            Some(known) => known.1 = endpoint,
            None => nodes.push((node, endpoint)),
        }
    }
    Ok(nodes)
}
