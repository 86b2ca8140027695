//! k-of-n consensus: a job runs on n distinct workers (of a pool), each signed result is verified,
//! and the job is accepted when k agree (`decide.rs`, pure). `GroupExecution` is the execution of
//! such a job; `.consensus('2-of-3')` attaches the quorum to a job.

pub mod decide;
pub mod group;
pub mod quorum;

pub use decide::{ConsensusReport, WorkerEvidence};
pub use group::{GroupExecution, Member, Observer, Route, Settled};
pub use quorum::Quorum;

use crate::core::boundary::error::FieldProblem;
use crate::core::builder::JobBuilder;
use crate::core::extension::JobExtension;
use crate::core::spec::JobDraft;
use std::any::Any;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// `.consensus()` on a job: the quorum its pool runs it under.
pub struct Consensus(pub Quorum);

impl JobExtension for Consensus {
    fn kind(&self) -> &'static str {
        "consensus"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn problems(&self, _draft: &JobDraft, all: &[Rc<dyn JobExtension>]) -> Vec<FieldProblem> {
        // Consensus runs the job on several workers: something must place it on them (a pool,
        // or the market's nodes for a paid job).
        if all.iter().any(|e| e.places_on_workers()) {
            Vec::new()
        } else {
            vec![FieldProblem::new(
                "consensus",
                "runs the job on several workers: attach a pool with .with(pool)",
            )]
        }
    }
}

#[wasm_bindgen(typescript_custom_section)]
const STRATEGY_TS: &'static str = r#"
export type ConsensusStrategy = `${number}-of-${number}` | { k: number; n: number };
"#;

#[wasm_bindgen]
impl JobBuilder {
    /// Runs the job on n distinct workers of its pool and accepts the result k of them agree on:
    /// `'2-of-3'`, `'3-of-5'`, `{ k, n }` (k more than half of n). Needs `.with(pool)`.
    pub fn consensus(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ConsensusStrategy")] strategy: JsValue,
    ) -> JobBuilder {
        match Quorum::parse(&strategy) {
            Ok(q) => self.with_extension(Rc::new(Consensus(q))),
            Err(message) => self.problem(FieldProblem::new("consensus", message)),
        }
    }
}
