//! The contract's events as JS sees them: `{ event, args, blockNumber, blockHash,
//! transactionHash, logIndex, removed }` with `args` named as in Solidity (ids and amounts
//! bigint, small counts and times numbers, addresses checksummed, hashes `0x` hex, worker keys
//! and signatures base64); and the indexed arguments a watch may filter on.

use super::rpc::Log;
use super::values::{bigint, Addr, Hash};
use crate::core::boundary::error::FieldProblem;
use crate::core::boundary::js::{Obj, ToJs};
use alloy_primitives::{Address, B256, U256};
use sandrun_chain::events::{event_name, MarketEvent, EVENTS};
use wasm_bindgen::prelude::*;

/// Each event's indexed arguments, in topic order (topic 1, 2, 3), as the ABI declares them.
const INDEXED: &[(&str, &[&str])] = &[
    ("NodeRegistered", &["node"]),
    ("NodeUpdated", &["node"]),
    ("UnbondingStarted", &["node"]),
    ("BondWithdrawn", &["node"]),
    ("JobPosted", &["jobId", "poster", "jobHash"]),
    ("JobClaimed", &["jobId", "node"]),
    ("JobRunning", &["jobId", "node"]),
    ("ResultSubmitted", &["jobId", "node"]),
    ("JobFinalized", &["jobId"]),
    ("JobRefunded", &["jobId", "poster"]),
    ("JobCancelled", &["jobId", "poster"]),
    ("NodeSlashed", &["jobId", "node"]),
    ("Withdrawn", &["account"]),
];

/// The names `watch()` takes.
pub fn names() -> Vec<&'static str> {
    EVENTS.iter().map(|(n, _)| *n).collect()
}

/// A value an indexed argument is filtered on.
pub enum Indexed {
    Id(U256),
    Address(Address),
    Hash(B256),
}

impl Indexed {
    fn topic(&self) -> B256 {
        match self {
            Indexed::Id(v) => B256::from(*v),
            Indexed::Address(a) => a.into_word(),
            Indexed::Hash(h) => *h,
        }
    }
}

/// Topics for `eth_getLogs`: the event's topic 0, then the filtered indexed arguments by
/// position. A filter on an argument the event does not index is a problem naming it.
pub fn topics(
    event: &str,
    filter: &[(String, Indexed)],
) -> Result<Vec<Option<B256>>, FieldProblem> {
    let topic0 = sandrun_chain::events::topic0(event).ok_or_else(|| {
        FieldProblem::new(
            "event",
            format!("\"{event}\" is not one of: {}", names().join(", ")),
        )
    })?;
    let indexed = INDEXED
        .iter()
        .find(|(n, _)| *n == event)
        .map(|(_, i)| *i)
        .unwrap_or(&[]);
    let mut topics = vec![Some(topic0)];
    topics.resize(1 + indexed.len(), None);
    for (name, value) in filter {
        let at = indexed.iter().position(|i| i == name).ok_or_else(|| {
            FieldProblem::new(
                format!("args.{name}"),
                format!(
                    "{event} can be filtered on {} only",
                    if indexed.is_empty() {
                        "nothing".to_string()
                    } else {
                        indexed.join(", ")
                    }
                ),
            )
        })?;
        topics[1 + at] = Some(value.topic());
    }
    while topics.last() == Some(&None) {
        topics.pop();
    }
    Ok(topics)
}

/// The kind of value an indexed argument holds, for reading a filter.
pub fn indexed_kind(name: &str) -> Option<&'static str> {
    match name {
        "jobId" => Some("id"),
        "jobHash" => Some("hash"),
        "node" | "poster" | "account" => Some("address"),
        _ => None,
    }
}

/// A decoded log with where it is, as a watch handler gets it.
pub struct EventLog<'a> {
    pub event: &'a MarketEvent,
    pub log: &'a Log,
    pub removed: bool,
}

impl ToJs for EventLog<'_> {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("event", &event_name(self.event))
            .set("args", &args(self.event))
            .set("blockNumber", &(self.log.block_number as f64))
            .set("blockHash", &Hash(self.log.block_hash))
            .set("transactionHash", &Hash(self.log.tx_hash))
            .set("logIndex", &(self.log.log_index as f64))
            .set("removed", &self.removed);
        o.into()
    }
}

/// An event's arguments by name.
pub fn args(event: &MarketEvent) -> JsValue {
    let o = Obj::new();
    let id = |k: &str, v: U256| {
        o.set(k, &bigint(v));
    };
    let addr = |k: &str, a: Address| {
        o.set(k, &Addr(a));
    };
    let n = |k: &str, v: u64| {
        o.set(k, &(v as f64));
    };
    let b64 = |k: &str, bytes: &[u8]| {
        o.set(k, &sandrun_protocol::b64::encode(bytes));
    };
    let addrs = |k: &str, list: &[Address]| {
        o.set(k, &list.iter().map(|a| Addr(*a)).collect::<Vec<_>>());
    };
    match event {
        MarketEvent::NodeRegistered(e) => {
            addr("node", e.node);
            n("id", e.id.to::<u64>());
            b64("workerKey", e.workerKey.as_slice());
            o.set("endpoint", &e.endpoint.as_str());
            id("price", U256::from(e.price));
            id("bond", e.bond);
        }
        MarketEvent::NodeUpdated(e) => {
            addr("node", e.node);
            b64("workerKey", e.workerKey.as_slice());
            o.set("endpoint", &e.endpoint.as_str());
            id("price", U256::from(e.price));
            id("bond", e.bond);
        }
        MarketEvent::UnbondingStarted(e) => {
            addr("node", e.node);
            n("readyAt", u64::from(e.readyAt));
        }
        MarketEvent::BondWithdrawn(e) => {
            addr("node", e.node);
            id("amount", e.amount);
        }
        MarketEvent::JobPosted(e) => {
            id("jobId", e.jobId);
            addr("poster", e.poster);
            o.set("jobHash", &Hash(e.jobHash));
            o.set("inputCid", &e.inputCid.as_str());
            n("k", u64::from(e.k));
            n("n", u64::from(e.n));
            id("pricePerNode", U256::from(e.pricePerNode));
            n("deadline", e.deadline.to::<u64>());
        }
        MarketEvent::JobClaimed(e) => {
            id("jobId", e.jobId);
            addr("node", e.node);
        }
        MarketEvent::JobRunning(e) => {
            id("jobId", e.jobId);
            addr("node", e.node);
            o.set("run", &e.run.as_str());
        }
        MarketEvent::ResultSubmitted(e) => {
            id("jobId", e.jobId);
            addr("node", e.node);
            o.set("resultHash", &Hash(e.resultHash));
            o.set("outputCid", &e.outputCid.as_str());
            b64("signature", &e.signature);
        }
        MarketEvent::JobFinalized(e) => {
            id("jobId", e.jobId);
            o.set("resultHash", &Hash(e.resultHash));
            addrs("agreeing", &e.agreeing);
            addrs("dissenting", &e.dissenting);
            id("paid", e.paid);
            id("slashed", e.slashed);
            id("refunded", e.refunded);
        }
        MarketEvent::JobRefunded(e) => {
            id("jobId", e.jobId);
            addr("poster", e.poster);
            id("refunded", e.refunded);
            id("slashed", e.slashed);
        }
        MarketEvent::JobCancelled(e) => {
            id("jobId", e.jobId);
            addr("poster", e.poster);
            id("refunded", e.refunded);
        }
        MarketEvent::NodeSlashed(e) => {
            id("jobId", e.jobId);
            addr("node", e.node);
            id("amount", e.amount);
        }
        MarketEvent::Withdrawn(e) => {
            addr("account", e.account);
            id("amount", e.amount);
        }
    }
    o.into()
}

#[wasm_bindgen(typescript_custom_section)]
const EVENTS_TS: &'static str = r#"
/** Each SandrunMarket event's arguments, named as in Solidity. */
export interface MarketEvents {
  NodeRegistered: { node: string; id: number; workerKey: string; endpoint: string; price: bigint; bond: bigint };
  NodeUpdated: { node: string; workerKey: string; endpoint: string; price: bigint; bond: bigint };
  UnbondingStarted: { node: string; readyAt: number };
  BondWithdrawn: { node: string; amount: bigint };
  JobPosted: { jobId: bigint; poster: string; jobHash: string; inputCid: string; k: number; n: number; pricePerNode: bigint; deadline: number };
  JobClaimed: { jobId: bigint; node: string };
  /** A claimant's worker runs the job under the id `run` (its logs: the node's endpoint). */
  JobRunning: { jobId: bigint; node: string; run: string };
  ResultSubmitted: { jobId: bigint; node: string; resultHash: string; outputCid: string; signature: string };
  JobFinalized: { jobId: bigint; resultHash: string; agreeing: string[]; dissenting: string[]; paid: bigint; slashed: bigint; refunded: bigint };
  JobRefunded: { jobId: bigint; poster: string; refunded: bigint; slashed: bigint };
  JobCancelled: { jobId: bigint; poster: string; refunded: bigint };
  NodeSlashed: { jobId: bigint; node: string; amount: bigint };
  Withdrawn: { account: string; amount: bigint };
}
export type MarketEventName = keyof MarketEvents;
/** One log a watch delivers; `removed: true` when a reorg took back a log delivered before. */
export type MarketLog = { [E in MarketEventName]: {
  event: E;
  args: MarketEvents[E];
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
  removed: boolean;
} }[MarketEventName];
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_go_to_their_topic_positions() {
        let poster = Address::repeat_byte(7);
        let t = topics("JobPosted", &[("poster".into(), Indexed::Address(poster))]).unwrap();
        assert_eq!(t.len(), 3, "topic 0, any job id, the poster");
        assert_eq!(t[0], sandrun_chain::events::topic0("JobPosted"));
        assert_eq!(t[1], None);
        assert_eq!(t[2], Some(poster.into_word()));
        let t = topics(
            "ResultSubmitted",
            &[("jobId".into(), Indexed::Id(U256::from(5)))],
        )
        .unwrap();
        assert_eq!(t, vec![t[0], Some(B256::from(U256::from(5)))]);
        assert_eq!(topics("Withdrawn", &[]).unwrap().len(), 1);
        let e = topics("Withdrawn", &[("jobId".into(), Indexed::Id(U256::from(1)))]).unwrap_err();
        assert_eq!(e.field, "args.jobId");
        assert_eq!(topics("Nope", &[]).unwrap_err().field, "event");
    }

    #[test]
    fn every_event_has_its_indexed_arguments_listed() {
        for name in names() {
            assert!(INDEXED.iter().any(|(n, _)| *n == name), "{name}");
        }
        for (_, indexed) in INDEXED {
            assert!(indexed.iter().all(|i| indexed_kind(i).is_some()));
        }
    }
}
