//! The core build's stand-ins for what only `@sandrun/sdk/full` has: the classes keep the full
//! shape, so code that calls `.use()` on the core entry learns where to import from instead of
//! meeting `undefined is not a function`.

use crate::core::boundary::error::{Code, FieldProblem, SdkError};
use crate::core::builder::JobBuilder;
use crate::core::sandrun::Sandrun;
use wasm_bindgen::prelude::*;

fn message(what: &str) -> String {
    format!("{what}: not in the core build of @sandrun/sdk; import from '@sandrun/sdk/full'")
}

fn unsupported(op: &'static str, what: &str) -> JsValue {
    SdkError::new(Code::Unsupported, message(what))
        .op(op)
        .retryable(false)
        .into_js()
}

/// Builders never throw: the stand-ins record a problem that `validate()` and `submit()` report.
fn recorded(b: &JobBuilder, field: &str, what: &str) -> JobBuilder {
    b.problem(FieldProblem::new(field, message(what)))
}

#[wasm_bindgen]
impl Sandrun {
    /// Pools need the full SDK (`import … from '@sandrun/sdk/full'`): throws `UnsupportedError`.
    #[wasm_bindgen(unchecked_return_type = "never")]
    pub fn pool(&self) -> Result<JsValue, JsValue> {
        Err(unsupported("pool", "pools"))
    }

    /// Nodes need the full SDK (`import … from '@sandrun/sdk/full'`): throws `UnsupportedError`.
    #[wasm_bindgen(unchecked_return_type = "never")]
    pub fn node(&self) -> Result<JsValue, JsValue> {
        Err(unsupported("node", "nodes"))
    }

    /// Plugins need the full SDK (`import … from '@sandrun/sdk/full'`): throws `UnsupportedError`.
    #[wasm_bindgen(js_name = "use", unchecked_return_type = "never")]
    pub fn use_plugin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object")] _plugin: JsValue,
    ) -> Result<JsValue, JsValue> {
        Err(unsupported("use", "plugins"))
    }
}

#[wasm_bindgen]
impl JobBuilder {
    /// Plugins need the full SDK (`import … from '@sandrun/sdk/full'`): recorded as a problem.
    #[wasm_bindgen(js_name = "use")]
    pub fn use_plugin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object")] _plugin: JsValue,
    ) -> JobBuilder {
        recorded(self, "use", "plugins")
    }

    /// Consensus needs the full SDK (`import … from '@sandrun/sdk/full'`): recorded as a problem.
    pub fn consensus(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | { k: number; n: number }")]
        _strategy: JsValue,
    ) -> JobBuilder {
        recorded(self, "consensus", "k-of-n consensus")
    }

    /// Pools and middleware need the full SDK (`import … from '@sandrun/sdk/full'`): recorded as
    /// a problem.
    #[wasm_bindgen(js_name = "with")]
    pub fn with_(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object")] _target: JsValue,
    ) -> JobBuilder {
        recorded(self, "with", "pools and middleware")
    }
}
