//! IPFS scenarios (the market layer's `ipfs`), in Node and headless Chromium, against the local
//! services scripts/test-wasm.d/ starts. Each scenario is an `async fn` here, listed in
//! `all_ipfs_scenarios!`.
#![allow(dead_code)]

macro_rules! ipfs_scenarios {
    ($install:path; $($name:ident),* $(,)?) => {
        mod ipfs {
            $(
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $install();
                    crate::common::ipfs::$name().await
                }
            )*
        }
    };
}
pub(crate) use ipfs_scenarios;

macro_rules! all_ipfs_scenarios {
    ($install:path) => {
        crate::common::ipfs::ipfs_scenarios!($install;);
    };
}
pub(crate) use all_ipfs_scenarios;
