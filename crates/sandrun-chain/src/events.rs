//! SandrunMarket's events: typed decoding of a log (topics + data), the topics to filter
//! `eth_getLogs` by, and what a settlement receipt says (`agreeing`, `dissenting`, `paid`,
//! `slashed`, `refunded`).

use crate::market::{DecodeError, SandrunMarket as M};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolEvent, SolEventInterface};

/// Every event of the contract, decoded (one variant per event, named as in Solidity).
pub use crate::market::SandrunMarket::SandrunMarketEvents as MarketEvent;

/// The contract's events with their topic 0 (the hash of the signature).
pub const EVENTS: &[(&str, B256)] = &[
    ("NodeRegistered", M::NodeRegistered::SIGNATURE_HASH),
    ("NodeUpdated", M::NodeUpdated::SIGNATURE_HASH),
    ("UnbondingStarted", M::UnbondingStarted::SIGNATURE_HASH),
    ("BondWithdrawn", M::BondWithdrawn::SIGNATURE_HASH),
    ("JobPosted", M::JobPosted::SIGNATURE_HASH),
    ("JobClaimed", M::JobClaimed::SIGNATURE_HASH),
    ("JobRunning", M::JobRunning::SIGNATURE_HASH),
    ("ResultSubmitted", M::ResultSubmitted::SIGNATURE_HASH),
    ("JobFinalized", M::JobFinalized::SIGNATURE_HASH),
    ("JobRefunded", M::JobRefunded::SIGNATURE_HASH),
    ("JobCancelled", M::JobCancelled::SIGNATURE_HASH),
    ("NodeSlashed", M::NodeSlashed::SIGNATURE_HASH),
    ("Withdrawn", M::Withdrawn::SIGNATURE_HASH),
];

/// Topic 0 of the event named `name`, for an `eth_getLogs` filter.
pub fn topic0(name: &str) -> Option<B256> {
    EVENTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, topic)| topic)
}

/// A log's topics and data → the event. Errors on a log of another contract or event, or one
/// whose data does not match its event.
pub fn decode_log(topics: &[B256], data: &[u8]) -> Result<MarketEvent, DecodeError> {
    Ok(MarketEvent::decode_raw_log(topics, data)?)
}

/// The event's name as in Solidity (`"JobPosted"`...).
pub fn event_name(event: &MarketEvent) -> &'static str {
    match event {
        MarketEvent::NodeRegistered(_) => "NodeRegistered",
        MarketEvent::NodeUpdated(_) => "NodeUpdated",
        MarketEvent::UnbondingStarted(_) => "UnbondingStarted",
        MarketEvent::BondWithdrawn(_) => "BondWithdrawn",
        MarketEvent::JobPosted(_) => "JobPosted",
        MarketEvent::JobClaimed(_) => "JobClaimed",
        MarketEvent::JobRunning(_) => "JobRunning",
        MarketEvent::ResultSubmitted(_) => "ResultSubmitted",
        MarketEvent::JobFinalized(_) => "JobFinalized",
        MarketEvent::JobRefunded(_) => "JobRefunded",
        MarketEvent::JobCancelled(_) => "JobCancelled",
        MarketEvent::NodeSlashed(_) => "NodeSlashed",
        MarketEvent::Withdrawn(_) => "Withdrawn",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementKind {
    Finalized,
    Refunded,
    Cancelled,
}

/// How a job was settled, from the logs of the settling transaction alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub job_id: U256,
    pub kind: SettlementKind,
    /// The result hash k nodes agreed on (finalized jobs).
    pub result_hash: Option<B256>,
    /// Paid pricePerNode each.
    pub agreeing: Vec<Address>,
    /// Submitted another result: slashed.
    pub dissenting: Vec<Address>,
    /// Every node slashed (the dissenters of a finalized job; the claimants of a refunded job
    /// that never submitted).
    pub slashed_nodes: Vec<Address>,
    pub paid: U256,
    pub slashed: U256,
    pub refunded: U256,
}

/// The settlement of `job_id` among a receipt's decoded events, if the receipt settled it.
pub fn settlement(job_id: U256, events: &[MarketEvent]) -> Option<Settlement> {
    let slashed_nodes: Vec<Address> = events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::NodeSlashed(s) if s.jobId == job_id => Some(s.node),
            _ => None,
        })
        .collect();
    let blank = |kind| Settlement {
        job_id,
        kind,
        result_hash: None,
        agreeing: Vec::new(),
        dissenting: Vec::new(),
        slashed_nodes: slashed_nodes.clone(),
        paid: U256::ZERO,
        slashed: U256::ZERO,
        refunded: U256::ZERO,
    };
    events.iter().find_map(|e| match e {
        MarketEvent::JobFinalized(f) if f.jobId == job_id => Some(Settlement {
            result_hash: Some(f.resultHash),
            agreeing: f.agreeing.clone(),
            dissenting: f.dissenting.clone(),
            paid: f.paid,
            slashed: f.slashed,
            refunded: f.refunded,
            ..blank(SettlementKind::Finalized)
        }),
        MarketEvent::JobRefunded(r) if r.jobId == job_id => Some(Settlement {
            slashed: r.slashed,
            refunded: r.refunded,
            ..blank(SettlementKind::Refunded)
        }),
        MarketEvent::JobCancelled(c) if c.jobId == job_id => Some(Settlement {
            refunded: c.refunded,
            ..blank(SettlementKind::Cancelled)
        }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolEvent;

    #[test]
    fn every_abi_event_is_listed_once() {
        let mut abi: Vec<&str> = crate::revert::EVENT_NAMES.to_vec();
        abi.sort();
        let mut listed: Vec<&str> = EVENTS.iter().map(|(n, _)| *n).collect();
        listed.sort();
        assert_eq!(listed, abi);
        assert_eq!(
            topic0("Withdrawn"),
            Some(alloy_primitives::keccak256("Withdrawn(address,uint256)"))
        );
        assert_eq!(topic0("Nope"), None);
    }

    #[test]
    fn settlement_of_a_refund_lists_the_slashed() {
        let job = U256::from(4);
        let node = Address::repeat_byte(7);
        let events = vec![
            MarketEvent::NodeSlashed(M::NodeSlashed {
                jobId: job,
                node,
                amount: U256::from(5),
            }),
            MarketEvent::JobRefunded(M::JobRefunded {
                jobId: job,
                poster: Address::repeat_byte(1),
                refunded: U256::from(30),
                slashed: U256::from(5),
            }),
        ];
        let s = settlement(job, &events).unwrap();
        assert_eq!(s.kind, SettlementKind::Refunded);
        assert_eq!(s.slashed_nodes, vec![node]);
        assert_eq!(
            (s.paid, s.slashed, s.refunded),
            (U256::ZERO, U256::from(5), U256::from(30))
        );
        assert_eq!(settlement(U256::from(5), &events), None);
        // a log round-trips through encode → decode_log
        let log = M::Withdrawn {
            account: node,
            amount: U256::from(9),
        }
        .encode_log_data();
        let decoded = decode_log(log.topics(), &log.data).unwrap();
        assert_eq!(event_name(&decoded), "Withdrawn");
    }
}
