//! The node-operator agent (a node of the Sandrun network, not Node.js): `sandrun.node()`
//! registers a worker server at a broker and serves the broker's jobs on it.

pub mod agent;
pub mod builder;

pub use agent::Node;
pub use builder::NodeBuilder;

use crate::core::sandrun::Sandrun;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl Sandrun {
    /// A node builder: registers a worker at a broker and serves its jobs.
    pub fn node(&self) -> NodeBuilder {
        NodeBuilder::new(self.client().clone(), self.defaults().clone())
    }
}
