//! Pools of workers: `sandrun.pool()` → `PoolBuilder` → `join()` → `Pool`. Sources are a static
//! list of worker URLs, a pool coordinator (`GET /pool`; jobs without consensus go through its
//! `/submit`), or a broker (`GET /nodes`). Every worker is checked on `/health` (its key against
//! the expected one) before it gets work. A job attached with `.with(pool)` goes to one worker
//! chosen by the strategy, or to n distinct workers under `.consensus('k-of-n')`.

pub mod builder;
pub mod coordinator;
pub mod discovery;
pub mod dispatch;
pub mod handle;
pub mod state;

pub use builder::PoolBuilder;
pub use handle::Pool;
pub use state::NodeInfo;

use crate::core::boundary::error::FieldProblem;
use crate::core::boundary::js::number;
use crate::core::builder::JobBuilder;
use crate::core::sandrun::Sandrun;
use dispatch::PoolJob;
use state::PoolInner;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// The hidden property that marks a `Pool` for `.with()`.
const POOL_ID: &str = "__sandrunPool";

thread_local! {
    static REGISTRY: RefCell<Vec<(u32, Weak<PoolInner>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

fn register(id: u32, pool: &Rc<PoolInner>) {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.retain(|(_, w)| w.strong_count() > 0);
        r.push((id, Rc::downgrade(pool)));
    });
}

fn unregister(id: u32) {
    REGISTRY.with(|r| r.borrow_mut().retain(|(i, _)| *i != id));
}

/// `target` attached to the job if it is a `Pool` (or `{ __sandrunPool: id }`); `None` for
/// anything else.
pub fn attach(b: &JobBuilder, target: &JsValue) -> Option<JobBuilder> {
    let id = number(target, POOL_ID)?;
    let pool = REGISTRY.with(|r| {
        r.borrow()
            .iter()
            .find(|(i, _)| *i as f64 == id)
            .and_then(|(_, w)| w.upgrade())
    });
    Some(match pool {
        Some(p) => b.with_extension(Rc::new(PoolJob(p))),
        None => b.problem(FieldProblem::new(
            "with(pool)",
            "the pool was closed or freed",
        )),
    })
}

#[wasm_bindgen]
impl Sandrun {
    /// A pool builder: workers from a list, a coordinator or a broker.
    pub fn pool(&self) -> PoolBuilder {
        PoolBuilder::new(self.client().clone())
    }
}
