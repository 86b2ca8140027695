//! WebCrypto (`crypto.subtle`, in browsers, workers and Node 20+): sha256 and, for verification,
//! Ed25519. The platform's crypto costs no wasm; a Rust sha256 measured about 2 KB of the core's
//! gzip'd wasm.

use super::error::{Code, Result, SdkError};
use super::js::message_of;
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The global `crypto`: `undefined` where it is missing.
    #[wasm_bindgen(thread_local_v2, js_name = crypto)]
    static CRYPTO: JsValue;
}

/// `crypto.subtle`, or an UNSUPPORTED error saying why it is missing.
pub fn subtle() -> Result<web_sys::SubtleCrypto> {
    let crypto = CRYPTO.with(JsValue::clone);
    if crypto.is_undefined() || crypto.is_null() {
        return Err(SdkError::new(
            Code::Unsupported,
            "WebCrypto is not available (browsers expose it only on https:// or localhost pages)",
        ));
    }
    Ok(crypto.unchecked_into::<web_sys::Crypto>().subtle())
}

/// sha256 of `bytes`, as lowercase hex.
pub async fn sha256_hex(bytes: &[u8]) -> Result<String> {
    let digest = subtle()?
        .digest_with_str_and_u8_array("SHA-256", bytes)
        .map_err(fail)?;
    let out = JsFuture::from(digest).await.map_err(fail)?;
    Ok(sandrun_protocol::hash::hex(&Uint8Array::new(&out).to_vec()))
}

fn fail(e: JsValue) -> SdkError {
    SdkError::new(
        Code::Unsupported,
        format!("this platform's WebCrypto cannot hash: {}", message_of(&e)),
    )
}
