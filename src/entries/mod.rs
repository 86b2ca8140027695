//! Entries: what each npm entry exports beyond the layers' own exports. The core build
//! (`@sandrun/sdk`) gives the classes the same shape as the full one, with methods that say
//! which entry has them; the full build (`@sandrun/sdk/full`) exports the extension layers as
//! they are.

#[cfg(not(feature = "ext"))]
mod core_only;

use wasm_bindgen::prelude::*;

/// Job executions the Rust side still holds (the scale benchmark checks they are all released).
#[wasm_bindgen(js_name = "__liveExecutions", skip_typescript)]
pub fn live_executions() -> u32 {
    crate::core::execution::worker::live()
}

/// Installs the platform object (`js/browser.js`, `js/node.js`); each entry file calls it once,
/// before anything else. The layers this build has register what they add to the core here (the
/// config sections they read).
#[wasm_bindgen(js_name = setPlatform)]
pub fn set_platform(
    #[wasm_bindgen(unchecked_param_type = "Platform")] platform: JsValue,
) -> Result<(), JsValue> {
    crate::core::boundary::platform::install(platform)?;
    #[cfg(feature = "ext")]
    crate::ext::register();
    #[cfg(feature = "chain")]
    crate::market::chain::register();
    #[cfg(feature = "ipfs")]
    crate::market::ipfs::register();
    #[cfg(feature = "market")]
    crate::market::coordination::register();
    Ok(())
}
