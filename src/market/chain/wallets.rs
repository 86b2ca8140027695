//! `Sandrun.wallets()`: the wallets announced in the page through EIP-6963. The SDK listens for
//! `eip6963:announceProvider`, dispatches `eip6963:requestProvider` (wallets answer it, and
//! announce on their own as they load), and collects the announcements for a short while. Each
//! is `{ info: { uuid, name, icon, rdns }, provider }`; `provider` goes into
//! `Sandrun.create({ chain: { provider } })`. Outside a page (Node) there are none.

use crate::core::boundary::error::{Result, SdkError};
use crate::core::boundary::js::{method, number, prop, string};
use crate::core::boundary::platform::sleep;
use crate::core::boundary::promise::promise;
use crate::core::sandrun::Sandrun;
use js_sys::{Array, Promise};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

const ANNOUNCE: &str = "eip6963:announceProvider";
const REQUEST: &str = "eip6963:requestProvider";
/// How long announcements are collected by default: wallets answer the request event at once
/// (synchronously, in the extensions measured); this leaves room for one that answers later.
const DEFAULT_WAIT_MS: f64 = 150.0;

#[wasm_bindgen(typescript_custom_section)]
const WALLETS_TS: &'static str = r#"
/** What a wallet says of itself (EIP-6963). */
export interface WalletInfo {
  uuid: string;
  name: string;
  /** A data URI of its icon. */
  icon: string;
  /** Reverse DNS of the wallet, e.g. `io.metamask`. */
  rdns: string;
}
/** A wallet announced in the page: `provider` goes into `Sandrun.create({ chain: { provider } })`. */
export interface AnnouncedWallet {
  info: WalletInfo;
  provider: Eip1193Provider;
}
"#;

/// A valid announcement's detail, not one of `seen`.
fn accept(detail: &JsValue, seen: &[JsValue]) -> bool {
    let Some(info) = prop(detail, "info") else {
        return false;
    };
    let Some(uuid) = string(&info, "uuid") else {
        return false;
    };
    let has_provider = prop(detail, "provider")
        .map(|p| method(&p, "request").is_some())
        .unwrap_or(false);
    let repeated = seen.iter().any(|d| {
        prop(d, "info").and_then(|i| string(&i, "uuid")).as_deref() == Some(uuid.as_str())
    });
    has_provider && !repeated
}

async fn discover(wait_ms: f64) -> Result<JsValue> {
    let Some(window) = web_sys::window() else {
        return Ok(Array::new().into());
    };
    let found: Rc<RefCell<Vec<JsValue>>> = Rc::default();
    let f = found.clone();
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        if let Some(detail) = prop(&ev, "detail") {
            let mut all = f.borrow_mut();
            if accept(&detail, &all) {
                all.push(detail);
            }
        }
    });
    let cb = listener.as_ref().unchecked_ref();
    let fail = |e: JsValue| {
        SdkError::new(
            crate::core::boundary::error::Code::Unsupported,
            format!("EIP-6963: {}", crate::core::boundary::js::message_of(&e)),
        )
    };
    window
        .add_event_listener_with_callback(ANNOUNCE, cb)
        .map_err(fail)?;
    let asked = web_sys::Event::new(REQUEST).and_then(|e| window.dispatch_event(&e));
    let waited = match asked {
        Ok(_) => sleep(wait_ms, None).await,
        Err(e) => Err(fail(e)),
    };
    let _ = window.remove_event_listener_with_callback(ANNOUNCE, cb);
    waited?;
    let list: Array = found.borrow().iter().collect();
    Ok(list.into())
}

#[wasm_bindgen]
impl Sandrun {
    /// The wallets announced in this page through EIP-6963, each `{ info, provider }`
    /// (collected for `timeoutMs`, default 150). None outside a browser page.
    #[wasm_bindgen(unchecked_return_type = "Promise<AnnouncedWallet[]>")]
    pub fn wallets(
        #[wasm_bindgen(unchecked_optional_param_type = "{ timeoutMs?: number }")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let wait_ms = match number(&options, "timeoutMs") {
            None => Ok(DEFAULT_WAIT_MS),
            Some(ms) if ms.is_finite() && (0.0..=60_000.0).contains(&ms) => Ok(ms),
            Some(_) => Err(SdkError::field(
                "options.timeoutMs",
                "must be a number of ms from 0 to 60000",
            )
            .op("wallets")),
        };
        promise(async move { discover(wait_ms?).await.map_err(|e| e.op("wallets")) })
    }
}
