//! Chain scenarios (the market layer's `chain`), in Node and headless Chromium, against the local
//! services scripts/test-wasm.d/ starts. Each scenario is an `async fn` here, listed in
//! `all_chain_scenarios!`.
#![allow(dead_code)]

macro_rules! chain_scenarios {
    ($install:path; $($name:ident),* $(,)?) => {
        mod chain {
            $(
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $install();
                    crate::common::chain::$name().await
                }
            )*
        }
    };
}
pub(crate) use chain_scenarios;

macro_rules! all_chain_scenarios {
    ($install:path) => {
        crate::common::chain::chain_scenarios!($install;);
    };
}
pub(crate) use all_chain_scenarios;
