//! The node agent's market mode: `sandrun.node().endpoint(workerUrl).market({ market, bond,
//! price })` gives a `MarketNode`; its `start()` registers the account on chain (worker key and
//! endpoint from the worker's `/health`) and serves posted jobs on that worker: claim, fetch the
//! job directory by CID, run, check the signed result, add it to IPFS, `submitResult`.
//!
//! The method is defined here, in a second `#[wasm_bindgen] impl NodeBuilder`, so that the
//! extension layer (where the broker agent and its builder live) knows nothing of the market:
//! the builder only lends its worker client (`NodeBuilder::worker`). The account, the chain and
//! IPFS come from the client's config (`chain: { rpcUrl, privateKey }`, `ipfs: { api }`).
//!
//! - `job`: one job on the worker and its result directory (format v1, `market::format`);
//! - `store`: published results kept until they are on chain (optional, `localStorage`-like);
//! - `capabilities`: what the node runs, checked against a job's manifest before a claim;
//! - `agent`: `MarketNode`, registration, following `JobPosted`, restart safety, `withdraw()`.

pub mod agent;
pub mod capabilities;
pub mod job;
pub mod store;

pub use agent::MarketNode;

use crate::core::boundary::error::FieldProblem;
use crate::core::boundary::reader::FromJs;
use crate::ext::operator::NodeBuilder;
use crate::market::chain::values::{address, amount};
use agent::{Agent, Settings};
use alloy_primitives::{Address, U256};
use capabilities::MarketCapabilities;
use std::rc::Rc;
use store::Store;
use wasm_bindgen::prelude::*;

/// Options of `market()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "market options.")]
pub struct MarketNodeOptions {
    /// The SandrunMarket contract's address.
    pub market: Option<String>,
    /// Sent with `registerNode` (at least the market's `minBond`; each claim locks `claimBond`).
    #[js(ts = "bigint | string")]
    pub bond: Option<JsValue>,
    /// The node's price on chain, and the least `pricePerNode` it takes a job for.
    #[js(ts = "bigint | string")]
    pub price: Option<JsValue>,
    /// The block `JobPosted` is back-filled from (default: the market's deployment block,
    /// found once: every job the market has, so a restarted node finds the jobs it claimed).
    pub from_block: Option<f64>,
    /// How often the chain is polled for new jobs, in ms (default 1000).
    pub poll_interval_ms: Option<f64>,
    /// Seconds a job must have left before its deadline to be claimed (default 30).
    pub min_time_left: Option<f64>,
    /// What the node runs (each key missing: no limit); a posted job whose `manifest.json` asks
    /// for more is skipped (event `job-skipped` with the reason), never claimed.
    #[js(ts = "MarketCapabilities")]
    pub capabilities: Option<JsValue>,
    /// For tests and demos: alters every output before adding it, and submits the result hash
    /// of the altered bytes (the submitter's verification must catch it).
    pub faulty: Option<bool>,
    /// Announces each run on chain once the worker accepted it (`started(jobId, workerJobId)`,
    /// about 30,300 gas a job), so that the submitter can follow the run's logs (default true).
    pub announce: Option<bool>,
    /// Keeps each published result until it is on chain, so a restart in between submits it
    /// instead of running the job again: an object with `getItem`/`setItem`, as `localStorage`.
    #[js(
        ts = "{ getItem(key: string): string | null | Promise<string | null>; setItem(key: string, value: string): unknown }"
    )]
    pub store: Option<JsValue>,
}

fn whole(field: &str, v: Option<f64>, default: f64, problems: &mut Vec<FieldProblem>) -> f64 {
    match v {
        None => default,
        Some(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 => x,
        Some(_) => {
            problems.push(FieldProblem::new(field, "must be a whole number >= 0"));
            default
        }
    }
}

fn settings(options: &JsValue, problems: &mut Vec<FieldProblem>) -> Settings {
    let o = match MarketNodeOptions::from_js(options) {
        Ok(o) => o,
        Err(e) => {
            problems.push(FieldProblem::new("options", e.message));
            MarketNodeOptions::default()
        }
    };
    let mut wei = |field: &str, v: Option<JsValue>| match v.map(|v| amount(field, &v)) {
        Some(Ok(x)) => x,
        Some(Err(p)) => {
            problems.push(p);
            U256::ZERO
        }
        None => {
            problems.push(FieldProblem::new(field, "is required"));
            U256::ZERO
        }
    };
    let bond = wei("bond", o.bond);
    let price = wei("price", o.price);
    let market = match o.market.as_deref().map(|m| address("market", m)) {
        Some(Ok(a)) => a,
        Some(Err(p)) => {
            problems.push(p);
            Address::ZERO
        }
        None => {
            problems.push(FieldProblem::new(
                "market",
                "is required: the SandrunMarket address",
            ));
            Address::ZERO
        }
    };
    Settings {
        market,
        bond,
        price,
        from_block: o
            .from_block
            .map(|b| whole("fromBlock", Some(b), 0.0, problems) as u64),
        poll_ms: whole("pollIntervalMs", o.poll_interval_ms, 1000.0, problems).max(50.0),
        min_time_left: whole("minTimeLeft", o.min_time_left, 30.0, problems) as u64,
        faulty: o.faulty.unwrap_or(false),
        capabilities: MarketCapabilities::checked(&o.capabilities.unwrap_or(JsValue::UNDEFINED))
            .unwrap_or_else(|p| {
                problems.extend(p);
                MarketCapabilities::default()
            }),
        announce: o.announce.unwrap_or(true),
        store: Store::from_js(o.store).unwrap_or_else(|p| {
            problems.push(FieldProblem::new("store", p));
            None
        }),
    }
}

#[wasm_bindgen]
impl NodeBuilder {
    /// The market mode of this node: a `MarketNode` on the builder's worker (`endpoint()`),
    /// not started. Problems in the options are reported by `start()`, before anything is sent.
    pub fn market(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MarketNodeOptions")] options: JsValue,
    ) -> MarketNode {
        let (worker, mut problems) = self.worker();
        let settings = settings(&options, &mut problems);
        MarketNode::new(Rc::new(Agent::new(worker, settings, problems)))
    }
}
