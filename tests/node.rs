//! The SDK in Node.js (ES modules), with the Node platform `js/node.js` (node:http with canonical
//! header names, its own WebSocket client), against the dev node in default and `--compat` mode.
//! Scenarios: tests/common/mod.rs. Run by scripts/test-wasm.sh (`make test-wasm-node`).
#![cfg(target_arch = "wasm32")] // wasm-bindgen-test suites: nothing to run natively

use wasm_bindgen::prelude::*;

mod common;

// js/node.js is an ES module (node:http, node:crypto…): the runner must load the test as ESM.
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_node_experimental);

#[wasm_bindgen(module = "/js/node.js")]
extern "C" {
    #[wasm_bindgen(js_name = nodePlatform)]
    fn node_platform() -> JsValue;
}

fn install() {
    common::install(node_platform);
}

common::all_scenarios!(crate::install);

/// The Node platform is what the suite runs on (not the browser one).
#[wasm_bindgen_test::wasm_bindgen_test]
fn uses_the_node_platform() {
    assert!(common::is_node());
    let p = node_platform();
    assert!(
        common::get(&p, "readDirectory").is_function(),
        "js/node.js has the file-system members"
    );
    assert!(!common::get(&common::browser_platform(), "readDirectory").is_function());
}
