//! Pools of workers (issue 5): placeholder until the pool module lands.

use crate::spec::JobDraft;
use wasm_bindgen::JsValue;

/// Attaches `target` to the job if it is a `Pool`; false for anything else.
pub fn attach(_draft: &mut JobDraft, _target: &JsValue) -> bool {
    false
}
