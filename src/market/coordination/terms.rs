//! What a paid job offers: `.payment(amount)`, `.maxPrice(perNode)`, `.deadline(seconds | Date)`
//! on the builder, kept as the job's `market` extension, and the terms they make with the job's
//! quorum (`.consensus('k-of-n')`, default 1-of-1): the price per node and the deadline. Every
//! check here needs no network, so a bad job is refused before anything is sent.

use crate::core::boundary::error::FieldProblem;
use crate::core::builder::JobBuilder;
use crate::core::extension::{find, JobExtension};
use crate::ext::consensus::{Consensus, Quorum};
use crate::market::chain::values::amount;
use alloy_primitives::U256;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A deadline when none is given: an hour after submission.
pub const DEFAULT_DEADLINE_SECONDS: u64 = 3600;
/// `uint96 pricePerNode` and `uint40 deadline` in the contract.
const PRICE_BITS: usize = 96;
const DEADLINE_MAX: u64 = (1 << 40) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// Seconds after submission.
    After(u64),
    /// A moment (unix seconds).
    At(u64),
}

/// The job's `market` extension: what the builder methods recorded.
#[derive(Debug, Clone, Default)]
pub struct Paid {
    pub payment: Option<U256>,
    pub max_price: Option<U256>,
    pub deadline: Option<Deadline>,
    /// Post the job even if the same one is posted and not settled.
    pub allow_duplicate: bool,
}

/// The terms of one paid job, checked.
#[derive(Debug, Clone, Copy)]
pub struct Terms {
    pub quorum: Quorum,
    pub payment: U256,
    pub price_per_node: U256,
    /// The most a node may ask to qualify (maxPrice, else the price per node).
    pub node_price_cap: U256,
    /// Unix seconds.
    pub deadline: u64,
    pub allow_duplicate: bool,
}

impl Paid {
    /// The terms with the job's quorum, at `now` (unix seconds), or every problem.
    pub fn terms(
        &self,
        all: &[Rc<dyn JobExtension>],
        now: f64,
    ) -> std::result::Result<Terms, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let quorum = find::<Consensus>(all)
            .map(|c| c.0)
            .unwrap_or(Quorum { k: 1, n: 1 });
        let payment = self.payment.unwrap_or(U256::ZERO);
        if self.payment.is_none() {
            problems.push(FieldProblem::new(
                "payment",
                "a market job needs .payment(amount), e.g. .payment('0.01 ether')",
            ));
        } else if payment.is_zero() {
            problems.push(FieldProblem::new("payment", "must be more than 0"));
        }
        let n = U256::from(quorum.n);
        let price_per_node = payment / n;
        if !payment.is_zero() && payment % n != U256::ZERO {
            problems.push(FieldProblem::new(
                "payment",
                format!(
                    "{payment} wei does not divide among {} nodes: give a multiple of {}",
                    quorum.n, quorum.n
                ),
            ));
        }
        if price_per_node.bit_len() > PRICE_BITS {
            problems.push(FieldProblem::new(
                "payment",
                "is too large: the price per node must fit the contract's uint96",
            ));
        }
        if let Some(max) = self.max_price {
            if price_per_node > max {
                problems.push(FieldProblem::new(
                    "maxPrice",
                    format!(
                        "the price per node (payment / n = {price_per_node} wei) is above maxPrice ({max} wei)"
                    ),
                ));
            }
        }
        let now_s = now.floor() as u64;
        let deadline = match self
            .deadline
            .unwrap_or(Deadline::After(DEFAULT_DEADLINE_SECONDS))
        {
            Deadline::After(s) => now_s.saturating_add(s),
            Deadline::At(t) => t,
        };
        if deadline <= now_s {
            problems.push(FieldProblem::new(
                "deadline",
                format!("must be in the future (it is {deadline}, now is {now_s})"),
            ));
        } else if deadline > DEADLINE_MAX {
            problems.push(FieldProblem::new("deadline", "is too far in the future"));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Terms {
            quorum,
            payment,
            price_per_node,
            node_price_cap: self.max_price.unwrap_or(price_per_node).min(price_per_node),
            deadline,
            allow_duplicate: self.allow_duplicate,
        })
    }
}

/// Options for `payment()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "payment options.")]
pub struct PaymentOptions {
    /// Post the job even when the same job (same job hash and inputs) is already posted by this
    /// account and not settled. Without it, such a submit fails with `DuplicateJobError`.
    pub allow_duplicate: Option<bool>,
}

fn edit(b: &JobBuilder, f: impl FnOnce(&mut Paid)) -> JobBuilder {
    let mut paid = find::<Paid>(b.extensions()).cloned().unwrap_or_default();
    f(&mut paid);
    b.with_extension(Rc::new(paid))
}

#[wasm_bindgen(typescript_custom_section)]
const TERMS_TS: &'static str = r#"
/** Options for `payment()`. */
export interface PaymentOptions {
  /** Post the job even when the same job is already posted by this account and not settled. */
  allowDuplicate?: boolean;
}
"#;

#[wasm_bindgen]
impl JobBuilder {
    /// Makes this a paid market job (`Sandrun.create({ chain, ipfs, market })`): `amount` (a
    /// bigint of wei, or `'0.01 ether'`) goes into escrow and is shared by the n nodes of
    /// `.consensus('k-of-n')` (default 1-of-1); it must divide by n.
    pub fn payment(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Amount")] amount: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PaymentOptions")] options: Option<JsValue>,
    ) -> JobBuilder {
        let o = <PaymentOptions as crate::core::boundary::reader::FromJs>::from_js(
            &options.unwrap_or(JsValue::UNDEFINED),
        );
        let o = match o {
            Ok(o) => o,
            Err(e) => {
                return self.problem(
                    e.context
                        .errors
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| FieldProblem::new("payment options", "invalid")),
                )
            }
        };
        match self::amount("payment", &amount) {
            Ok(a) => edit(self, |p| {
                p.payment = Some(a);
                p.allow_duplicate = o.allow_duplicate.unwrap_or(false);
            }),
            Err(problem) => self.problem(problem),
        }
    }

    /// The most a node may ask per run (its registered price) to take the job; the price per
    /// node (payment / n) may not be above it.
    #[wasm_bindgen(js_name = maxPrice)]
    pub fn max_price(
        &self,
        #[wasm_bindgen(js_name = perNode, unchecked_param_type = "Amount")] per_node: JsValue,
    ) -> JobBuilder {
        match self::amount("maxPrice", &per_node) {
            Ok(a) => edit(self, |p| p.max_price = Some(a)),
            Err(problem) => self.problem(problem),
        }
    }

    /// When the job must be done by: seconds after submission (a number), or a `Date`. After it,
    /// without k agreeing verified results, the escrow is refunded. Default: an hour.
    pub fn deadline(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | Date")] when: JsValue,
    ) -> JobBuilder {
        let d = if let Some(date) = when.dyn_ref::<js_sys::Date>() {
            let ms = date.get_time();
            (ms.is_finite() && ms >= 0.0).then(|| Deadline::At((ms / 1000.0).floor() as u64))
        } else {
            when.as_f64()
                .filter(|s| {
                    s.is_finite() && *s > 0.0 && s.fract() == 0.0 && *s <= DEADLINE_MAX as f64
                })
                .map(|s| Deadline::After(s as u64))
        };
        match d {
            Some(d) => edit(self, |p| p.deadline = Some(d)),
            None => self.problem(FieldProblem::new(
                "deadline",
                "must be a whole number of seconds from now (more than 0) or a valid Date",
            )),
        }
    }
}
