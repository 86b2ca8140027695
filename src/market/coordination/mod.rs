//! The paid, coordinated market job (issue 11, the submitter's side; feature `market`): one
//! `submit()` that packages the job, puts it on IPFS, pays into the SandrunMarket's escrow, lets
//! the registered nodes claim and run it, verifies every signed result against IPFS and the
//! chain, decides k-of-n, and settles (finalize, or refund after the deadline).
//!
//! Modules, each using only those listed before it:
//! - `config`: the `market` and `limits` sections of `Sandrun.create()`;
//! - `terms`: `.payment()`, `.maxPrice()`, `.deadline()` and the terms they make with the quorum;
//! - `spend`: the spend caps, enforced before anything is sent;
//! - `progress`: the stage events (`on('progress')`, the async iterator `progress()`);
//! - `ipfs_call`: the IPFS layer as the job uses it (add and pin the inputs, read results);
//! - `results`: one node's result checked by the market format's VALID rule;
//! - `history`: a job as its logs tell it (posted, claims, results, settlement; duplicates);
//! - `runs`: where the job's logs are (the run a node announced, or its result names);
//! - `execution`: `MarketExecution`, watched until settled;
//! - `post`: `submit()` up to the escrow;
//! - `estimate`: `.estimate()`;
//! - `health`: `sandrun.marketHealth()`, and the `market` part of `sandrun.health()`;
//! - `handle`: what JS holds: `exec.on('progress')`, `exec.progress()`, `sandrun.execution('market:<id>')`.

pub mod config;
pub mod terms;

pub mod progress;
pub mod spend;

pub mod ipfs_call;
pub mod results;

pub mod history;
pub mod runs;

pub mod execution;

pub mod estimate;
pub mod post;

pub mod handle;
pub mod health;

use crate::core::config::{add_section, Section};
use crate::core::extension::{add_submit_option, SubmitOption};
use crate::core::sandrun::{add_attacher, add_health_part, Attacher, HealthPart};

/// What this layer adds to the core when the module is set up: its config sections, its job ids
/// (`market:<jobId>`), the parts of `health()`, and `submit({ onStage })`.
pub fn register() {
    add_section(Section {
        key: "market",
        check: config::check_market,
    });
    add_section(Section {
        key: "limits",
        check: config::check_limits,
    });
    add_attacher(Attacher {
        prefix: execution::PREFIX,
        attach: handle::attach,
    });
    add_health_part(HealthPart {
        key: "market",
        report: health::health_part,
    });
    add_submit_option(SubmitOption {
        key: progress::ON_STAGE,
        check: progress::check_on_stage,
    });
}
