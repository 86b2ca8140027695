//! The EIP-1193 port: one `request({ method, params })`, from a wallet's provider or from an
//! HTTP JSON-RPC endpoint wrapped as one. The HTTP side goes through the core transport
//! (`Http::post_json`), so the client's plugins (retry, rate limit, metrics…) apply to it.

use super::config::Source;
use crate::core::boundary::error::{Code, SdkError};
use crate::core::boundary::js::{message_of, number, prop, Obj};
use crate::core::client::Client;
use crate::core::transport::{CallOpts, Http};
use js_sys::{Array, Function, Promise, Reflect};
use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// An EIP-1193 provider.
    #[wasm_bindgen(typescript_type = "Eip1193Provider")]
    #[derive(Clone)]
    pub type Eip1193Provider;
    #[wasm_bindgen(method, structural, catch)]
    fn request(this: &Eip1193Provider, args: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, structural, catch)]
    fn on(this: &Eip1193Provider, event: &str, listener: &Function) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, structural, catch, js_name = removeListener)]
    fn remove_listener(
        this: &Eip1193Provider,
        event: &str,
        listener: &Function,
    ) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen(typescript_custom_section)]
const PROVIDER_TS: &'static str = r#"
/** An EIP-1193 provider: `window.ethereum`, a wallet announced through EIP-6963, or any object with `request`. */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] | Record<string, unknown> }): Promise<unknown>;
  on?(event: string, listener: (...args: any[]) => void): unknown;
  removeListener?(event: string, listener: (...args: any[]) => void): unknown;
}
"#;

/// How a request failed.
#[derive(Debug, Clone)]
pub enum RpcError {
    /// The node or the wallet answered with an error (a JSON-RPC error object, an EIP-1193
    /// `ProviderRpcError`): its code, message and data.
    Answer {
        code: Option<i64>,
        message: String,
        data: Option<JsValue>,
    },
    /// No answer: the HTTP transport's typed error (network, timeout, HTTP status).
    Transport(SdkError),
}

enum Transport {
    Wallet(Eip1193Provider),
    Http(Http),
}

/// One provider: every JSON-RPC request of a chain goes through `request`.
pub struct Provider {
    transport: Transport,
    next_id: Cell<u32>,
}

impl Provider {
    /// The provider a config source names; HTTP shares the client's transport layers.
    pub fn new(source: &Source, client: &Client) -> Provider {
        let transport = match source {
            Source::Provider(p) => Transport::Wallet(p.clone().unchecked_into()),
            Source::Url(url) => Transport::Http(client.http.to(url)),
        };
        Provider {
            transport,
            next_id: Cell::new(1),
        }
    }

    /// A provider object (a wallet) rather than an HTTP endpoint: it may prompt the user, emits
    /// events, and may be asked to switch chains.
    pub fn wallet(&self) -> Option<&Eip1193Provider> {
        match &self.transport {
            Transport::Wallet(p) => Some(p),
            Transport::Http(_) => None,
        }
    }

    /// What the provider is, for keying per-provider state (nonces): the URL, or the object.
    pub fn identity(&self) -> JsValue {
        match &self.transport {
            Transport::Wallet(p) => p.clone().into(),
            Transport::Http(h) => JsValue::from_str(&h.endpoint),
        }
    }

    /// `method` with `params` (a JS array); the `result`, which may be `null`.
    pub async fn request(&self, method: &str, params: Array) -> Result<JsValue, RpcError> {
        match &self.transport {
            Transport::Wallet(p) => {
                let args = Obj::new();
                args.set("method", &method)
                    .set("params", &JsValue::from(params));
                let called = p.request(&args.into()).map_err(answer)?;
                // Whatever `request` returned (a promise, or a value): awaited.
                JsFuture::from(Promise::resolve(&called))
                    .await
                    .map_err(answer)
            }
            Transport::Http(http) => {
                let id = self.next_id.get();
                self.next_id.set(id.wrapping_add(1));
                let body = Obj::new();
                body.set("jsonrpc", &"2.0")
                    .set("id", &id)
                    .set("method", &method)
                    .set("params", &JsValue::from(params));
                let reply = http
                    .post_json("rpc", "", &body.into(), &CallOpts::default(), |v, _| {
                        Ok(v.clone())
                    })
                    .await
                    .map_err(RpcError::Transport)?;
                if let Some(error) = prop(&reply, "error") {
                    return Err(answer(error));
                }
                if Reflect::has(&reply, &"result".into()).unwrap_or(false) {
                    return Ok(Reflect::get(&reply, &"result".into()).unwrap_or(JsValue::NULL));
                }
                Err(RpcError::Transport(SdkError::new(
                    Code::Protocol,
                    format!(
                        "{method}: {} answered neither a result nor an error",
                        http.endpoint
                    ),
                )))
            }
        }
    }

    /// Adds a listener for a wallet event (`chainChanged`, `accountsChanged`, `disconnect`);
    /// false when the provider has no events.
    pub fn listen(&self, event: &str, listener: &Function) -> bool {
        match self.wallet() {
            Some(p) => p.on(event, listener).is_ok(),
            None => false,
        }
    }

    pub fn unlisten(&self, event: &str, listener: &Function) {
        if let Some(p) = self.wallet() {
            let _ = p.remove_listener(event, listener);
        }
    }
}

/// A thrown or returned error object → its code, message and data.
fn answer(e: JsValue) -> RpcError {
    RpcError::Answer {
        code: number(&e, "code").map(|c| c as i64),
        message: message_of(&e),
        data: prop(&e, "data"),
    }
}
