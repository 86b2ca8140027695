//! Entries: what each npm entry exports beyond the layers' own exports. The core build
//! (`@sandrun/sdk`) gives the classes the same shape as the full one, with methods that say
//! which entry has them; the full build (`@sandrun/sdk/full`) exports the extension layers as
//! they are.

#[cfg(not(feature = "ext"))]
mod core_only;

use wasm_bindgen::prelude::*;

/// Installs the platform object (`js/browser.js`, `js/node.js`); each entry file calls it once,
/// before anything else. The layers this build has register what they add to the core here (the
/// config sections they read).
#[wasm_bindgen(js_name = setPlatform)]
pub fn set_platform(
    #[wasm_bindgen(unchecked_param_type = "Platform")] platform: JsValue,
) -> Result<(), JsValue> {
    crate::core::boundary::platform::install(platform)?;
    #[cfg(feature = "chain")]
    crate::market::chain::register();
    #[cfg(feature = "ipfs")]
    crate::market::ipfs::register();
    Ok(())
}
