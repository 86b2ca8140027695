//! `JobBuilder.with()`: a pool (the job goes to its workers) or a middleware (wrapped around every
//! operation of the job).

use super::plugins::attach::with_middleware;
use super::pool;
use crate::core::builder::JobBuilder;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl JobBuilder {
    /// Attaches a pool (the job goes to its workers) or a middleware
    /// (`{ execute(next, context) }`, wrapped around every operation of the job).
    #[wasm_bindgen(js_name = "with")]
    pub fn with_(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Pool | Middleware")] target: JsValue,
    ) -> JobBuilder {
        pool::attach(self, &target).unwrap_or_else(|| with_middleware(self, target))
    }
}
