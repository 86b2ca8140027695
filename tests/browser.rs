//! The SDK in headless Chromium, with the browser platform `js/browser.js` (fetch, DOM
//! WebSocket, WebCrypto), from the runner's page — another origin than the dev node, so every
//! request crosses CORS — against the dev node in default and `--compat` mode.
//! Scenarios: tests/common/mod.rs. Run by scripts/test-wasm.sh (`make test-wasm-browser`).
#![cfg(target_arch = "wasm32")] // wasm-bindgen-test suites: nothing to run natively

mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn install() {
    common::install(common::browser_platform);
}

common::all_scenarios!(crate::install);
crate::all_plugin_scenarios!(crate::install);
common::pool::all_pool_scenarios!(crate::install);
common::scale::all_scale_scenarios!(crate::install);
common::chain::all_chain_scenarios!(crate::install);
common::ipfs::all_ipfs_scenarios!(crate::install);
common::market::all_market_scenarios!(crate::install);
#[path = "common/market_node.rs"]
mod market_node;
market_node::all_market_node_scenarios!(crate::install);

/// The browser platform is what the suite runs on.
#[wasm_bindgen_test::wasm_bindgen_test]
fn uses_the_browser_platform() {
    assert!(!common::is_node());
    assert!(!common::get(&common::browser_platform(), "readDirectory").is_function());
}
