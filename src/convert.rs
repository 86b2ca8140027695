//! Rust values → plain JS data, one way for the whole crate: JSON-compatible (maps become plain
//! objects, `None` becomes `null`), which is what the generated TypeScript types describe.

use crate::error::{Code, Result, SdkError};
use serde::Serialize;
use wasm_bindgen::JsValue;

pub fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| {
            SdkError::new(
                Code::Internal,
                format!("could not convert a result for JS: {e}"),
            )
        })
}

/// A number as text, the way JS's `String(n)` writes it. On wasm this asks the host, which keeps
/// Rust's float-formatting code (about 15 KiB) out of the module.
pub fn num(v: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Number::from(v)
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        format!("{v}")
    }
}

/// `to_js` for functions that return `Result<_, JsValue>` directly.
pub fn to_js_value<T: Serialize + ?Sized>(v: &T) -> std::result::Result<JsValue, JsValue> {
    to_js(v).map_err(SdkError::into_js)
}
