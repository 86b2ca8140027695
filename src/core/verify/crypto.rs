//! The SDK's Ed25519 port: WebCrypto (`crypto.subtle`, in Node 20+ and current browsers), so no
//! curve code goes into the wasm. Candidates are checked in parallel batches (`Promise.all`).

use super::Ed25519;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::message_of;
use crate::core::boundary::webcrypto::subtle;
use crate::core::transport::Fut;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub struct WebCrypto;

fn unsupported(e: JsValue) -> SdkError {
    SdkError::new(
        Code::Unsupported,
        format!(
            "this platform's WebCrypto cannot verify Ed25519 signatures: {}",
            message_of(&e)
        ),
    )
}

impl Ed25519 for WebCrypto {
    fn first_valid<'a>(
        &'a self,
        key: &'a [u8],
        signature: &'a [u8],
        messages: &'a [String],
    ) -> Fut<'a, Result<Option<usize>>> {
        Box::pin(async move {
            if messages.is_empty() {
                return Ok(None);
            }
            let subtle = subtle()?;
            let alg = Object::new();
            let _ = Reflect::set(&alg, &"name".into(), &"Ed25519".into());
            let usages = Array::of1(&"verify".into());
            let imported = subtle
                .import_key_with_object("raw", &Uint8Array::from(key).into(), &alg, false, &usages)
                .map_err(unsupported)?;
            let crypto_key: web_sys::CryptoKey = JsFuture::from(imported)
                .await
                .map_err(unsupported)?
                .unchecked_into();
            let sig = Uint8Array::from(signature);
            let checks: Array = messages
                .iter()
                .map(|m| -> JsValue {
                    subtle
                        .verify_with_object_and_u8_array_and_u8_slice(
                            &alg,
                            &crypto_key,
                            &sig,
                            m.as_bytes(),
                        )
                        .map(JsValue::from)
                        .unwrap_or(JsValue::FALSE)
                })
                .collect();
            let results = JsFuture::from(Promise::all(&checks))
                .await
                .map_err(unsupported)?;
            Ok(Array::from(&results)
                .iter()
                .position(|r| r.as_bool() == Some(true)))
        })
    }
}
