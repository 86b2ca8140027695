//! What the `Market` methods resolve to, declared once for the JS conversion and the
//! TypeScript (`#[derive(ToJs)]`): receipts, a posted job, a settlement, a job's and a node's
//! state, the market's settings.

use super::send::Mined;
use super::values::{Addr, Wei};
use sandrun_chain::events::Settlement;
use sandrun_chain::market::{Job, Node};

/// A mined transaction, once it has its confirmations.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct TxReceipt {
    /// The hash of the transaction mined (`0x` hex).
    pub hash: String,
    pub block_number: f64,
    #[js(ts = "'success' | 'reverted'")]
    pub status: String,
    #[js(ts = "bigint")]
    pub gas_used: Wei,
    /// wei per gas paid.
    #[js(ts = "bigint")]
    pub effective_gas_price: Wei,
    /// The hash first sent, when a sped-up copy (`market.speedUp`) is what was mined.
    #[js(optional)]
    pub original_hash: Option<String>,
}

impl TxReceipt {
    pub fn of(m: &Mined) -> TxReceipt {
        let r = &m.receipt;
        TxReceipt {
            hash: r.hash.to_string(),
            block_number: r.block_number as f64,
            status: if r.success { "success" } else { "reverted" }.into(),
            gas_used: Wei(r.gas_used),
            effective_gas_price: Wei(r.effective_gas_price),
            original_hash: m.original.map(|h| h.to_string()),
        }
    }
}

/// `postJob()`'s answer.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct PostedJob {
    #[js(ts = "bigint")]
    pub job_id: Wei,
    pub tx_hash: String,
    pub receipt: TxReceipt,
}

/// How a job was settled (`finalize()`, `refund()`, `cancel()`), from the transaction's logs.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct JobSettlement {
    #[js(ts = "bigint")]
    pub job_id: Wei,
    #[js(ts = "'finalized' | 'refunded' | 'cancelled'")]
    pub outcome: String,
    /// The result hash k nodes agreed on (finalized jobs).
    pub result_hash: Option<String>,
    /// Nodes paid `pricePerNode` each.
    #[js(ts = "string[]")]
    pub agreeing: Vec<Addr>,
    /// Nodes that submitted another result.
    #[js(ts = "string[]")]
    pub dissenting: Vec<Addr>,
    /// Every node whose claim bond was slashed (dissenters; in a refund, the claimants that
    /// never submitted).
    #[js(ts = "string[]")]
    pub slashed_nodes: Vec<Addr>,
    #[js(ts = "bigint")]
    pub paid: Wei,
    #[js(ts = "bigint")]
    pub slashed: Wei,
    /// Escrow credited back to the poster.
    #[js(ts = "bigint")]
    pub refunded: Wei,
    pub receipt: TxReceipt,
}

impl JobSettlement {
    pub fn of(s: &Settlement, m: &Mined) -> JobSettlement {
        use sandrun_chain::events::SettlementKind as K;
        let addrs = |l: &[alloy_primitives::Address]| l.iter().map(|a| Addr(*a)).collect();
        JobSettlement {
            job_id: Wei(s.job_id),
            outcome: match s.kind {
                K::Finalized => "finalized",
                K::Refunded => "refunded",
                K::Cancelled => "cancelled",
            }
            .into(),
            result_hash: s.result_hash.map(|h| h.to_string()),
            agreeing: addrs(&s.agreeing),
            dissenting: addrs(&s.dissenting),
            slashed_nodes: addrs(&s.slashed_nodes),
            paid: Wei(s.paid),
            slashed: Wei(s.slashed),
            refunded: Wei(s.refunded),
            receipt: TxReceipt::of(m),
        }
    }
}

/// One node's result on a job.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct SubmittedResult {
    #[js(ts = "string")]
    pub node: Addr,
    pub result_hash: String,
}

/// `market.job(id)`: a job's whole state.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct JobInfo {
    #[js(ts = "'open' | 'claimed' | 'finalized' | 'refunded' | 'cancelled'")]
    pub state: String,
    #[js(ts = "string")]
    pub poster: Addr,
    pub k: u32,
    pub n: u32,
    /// Unix seconds.
    pub deadline: f64,
    #[js(ts = "bigint")]
    pub price_per_node: Wei,
    /// The result hash k nodes agree on, once they do.
    pub agreed_result: Option<String>,
    /// The nodes that claimed it, in claim order.
    #[js(ts = "string[]")]
    pub claims: Vec<Addr>,
    /// The results submitted so far.
    pub results: Vec<SubmittedResult>,
}

impl JobInfo {
    pub fn of(j: &Job) -> JobInfo {
        JobInfo {
            state: j.state.as_str().into(),
            poster: Addr(j.poster),
            k: u32::from(j.k),
            n: u32::from(j.n),
            deadline: j.deadline as f64,
            price_per_node: Wei(j.price_per_node),
            agreed_result: j.agreed_result.map(|h| h.to_string()),
            claims: j.claims.iter().map(|c| Addr(c.node)).collect(),
            results: j
                .claims
                .iter()
                .filter_map(|c| {
                    c.result_hash.map(|h| SubmittedResult {
                        node: Addr(c.node),
                        result_hash: h.to_string(),
                    })
                })
                .collect(),
        }
    }
}

/// `market.node(address)`: a node's record (`registered: false` for an account that only has
/// a balance, or none).
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct MarketNode {
    pub registered: bool,
    pub id: u32,
    /// The Ed25519 key its worker signs with (base64, as the worker's `worker_id`).
    pub worker_key: String,
    pub endpoint: String,
    #[js(ts = "bigint")]
    pub price: Wei,
    #[js(ts = "bigint")]
    pub bond: Wei,
    /// Bond locked by open claims.
    #[js(ts = "bigint")]
    pub locked: Wei,
    pub active_claims: u32,
    /// When the bond may be withdrawn (unix seconds), once unregistered.
    pub unbonding_at: Option<f64>,
    /// Credited and not yet withdrawn.
    #[js(ts = "bigint")]
    pub balance: Wei,
}

impl MarketNode {
    pub fn of(n: &Node) -> MarketNode {
        MarketNode {
            registered: n.registered,
            id: n.id,
            worker_key: sandrun_protocol::b64::encode(n.worker_key.as_slice()),
            endpoint: n.endpoint.clone(),
            price: Wei(n.price),
            bond: Wei(n.bond),
            locked: Wei(n.locked),
            active_claims: u32::from(n.active_claims),
            unbonding_at: n.unbonding_at.map(|t| t as f64),
            balance: Wei(n.balance),
        }
    }
}

/// `market.settings()`: fixed at deployment.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct MarketSettings {
    /// The least bond a node registers with.
    #[js(ts = "bigint")]
    pub min_bond: Wei,
    /// What each claim locks of a node's bond.
    #[js(ts = "bigint")]
    pub claim_bond: Wei,
    /// Seconds between `unregisterNode` and `withdrawBond`.
    pub unbonding_delay: f64,
}

impl MarketSettings {
    pub fn of(s: &super::contract::MarketSettings) -> MarketSettings {
        MarketSettings {
            min_bond: Wei(s.min_bond),
            claim_bond: Wei(s.claim_bond),
            unbonding_delay: s.unbonding_delay as f64,
        }
    }
}
