//! `authPlugin()`: credentials on every request — a bearer token (a string, or a function called
//! per request), an API-key header, or a custom signer — and `refresh()` asked for a new token
//! after a 401. In a browser it warns once that such headers need a CORS preflight, which the
//! real Sandrun worker does not answer.

use super::builtin::{made, Builtin, BuiltinPlugin, Stage};
use super::{ctx_obj, Pipeline};
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{entries, message_of};
use crate::core::boundary::platform;
use crate::core::boundary::reader::{FromJs, Reader};
use crate::core::transport::{Call, Fut, Layer, Next, Reply};
use js_sys::{Function, Promise};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub enum AuthKind {
    Bearer(JsValue),
    ApiKey(String, String),
    Custom(Function),
}

pub struct Auth {
    kind: AuthKind,
    refresh: Option<Function>,
    /// The token from `refresh()`, which replaces the configured one.
    refreshed: RefCell<Option<String>>,
    secrets: RefCell<Vec<String>>,
    warned: Cell<bool>,
}

fn plugin_error(e: JsValue) -> SdkError {
    let mut err = SdkError::new(Code::Plugin, format!("authPlugin: {}", message_of(&e)));
    err.context.plugin = Some("auth".into());
    err.js = Some(e);
    err
}

impl Auth {
    /// The headers this request gets.
    async fn headers(&self, req: &JsValue) -> Result<Vec<(String, String)>> {
        let out = match &self.kind {
            AuthKind::Bearer(t) => {
                let cached = self.refreshed.borrow().clone();
                let token = match cached {
                    Some(t) => t,
                    None => {
                        let v = match t.dyn_ref::<Function>() {
                            Some(f) => f.call0(&JsValue::NULL).map_err(plugin_error)?,
                            None => t.clone(),
                        };
                        JsFuture::from(Promise::resolve(&v))
                            .await
                            .map_err(plugin_error)?
                            .as_string()
                            .unwrap_or_default()
                    }
                };
                self.note(&token);
                vec![("Authorization".into(), format!("Bearer {token}"))]
            }
            AuthKind::ApiKey(h, k) => vec![(h.clone(), k.clone())],
            AuthKind::Custom(sign) => {
                let v = platform::call_async(sign, &JsValue::NULL, &[req])
                    .await
                    .map_err(plugin_error)?;
                let mut h = Vec::new();
                for (k, val) in entries(&v) {
                    if let Some(val) = val.as_string() {
                        self.note(&val);
                        h.push((k, val));
                    }
                }
                h
            }
        };
        Ok(out)
    }

    fn note(&self, secret: &str) {
        let mut s = self.secrets.borrow_mut();
        if !s.iter().any(|x| x == secret) {
            s.push(secret.to_string());
        }
    }

    /// After a 401: asks `refresh()` for a new token. True if there is one to try.
    async fn refresh(&self) -> Result<bool> {
        let Some(f) = &self.refresh else {
            return Ok(false);
        };
        let token = platform::call_async(f, &JsValue::NULL, &[])
            .await
            .map_err(|e| {
                SdkError::new(
                    Code::Plugin,
                    format!("authPlugin refresh: {}", message_of(&e)),
                )
            })?
            .as_string();
        if let Some(t) = &token {
            self.note(t);
        }
        let ok = token.is_some();
        *self.refreshed.borrow_mut() = token;
        Ok(ok)
    }
}

impl Builtin for Auth {
    fn name(&self) -> &'static str {
        "auth"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn layers(self: Rc<Self>, pipeline: &Rc<Pipeline>) -> Vec<(Stage, Rc<dyn Layer>)> {
        vec![(Stage::Auth, Rc::new(Credentials(self, pipeline.clone())))]
    }
    fn secrets(&self) -> Vec<String> {
        self.secrets.borrow().clone()
    }
}

struct Credentials(Rc<Auth>, Rc<Pipeline>);

impl Layer for Credentials {
    fn call<'a>(&'a self, call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            if call.stream {
                return next.run(call).await;
            }
            let (a, p) = (&self.0, &self.1);
            let mut refreshed = false;
            loop {
                let mut c = call.clone();
                let req = ctx_obj(&[("method", c.method), ("url", &c.url)]);
                let extra = a.headers(&req).await?;
                if !extra.is_empty() && !a.warned.get() && !platform::has("readDirectory") {
                    a.warned.set(true);
                    p.report(&SdkError::new(
                        Code::Plugin,
                        "authPlugin: custom headers make browser requests need a CORS preflight, which the real Sandrun worker does not answer (OPTIONS → 404); use them with servers that allow it",
                    ));
                }
                c.headers.extend(extra);
                let result = next.clone().run(c).await;
                let unauthorized = matches!(&result, Err(e) if e.context.status == Some(401));
                if unauthorized && !refreshed && a.refresh().await? {
                    refreshed = true;
                    continue;
                }
                return result;
            }
        })
    }
}

/// Options for `authPlugin()` (read as one object; their TypeScript is the union `AuthOptions`).
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "authPlugin options.", no_ts)]
pub struct AuthFields {
    #[js(name = "type")]
    pub kind: Option<String>,
    pub token: Option<JsValue>,
    pub key: Option<String>,
    pub header: Option<String>,
    pub sign: Option<Function>,
    pub refresh: Option<Function>,
}

#[wasm_bindgen(typescript_custom_section)]
const AUTH_TS: &'static str = r#"
export type AuthOptions =
  | { type: 'bearer'; token: string | (() => string | Promise<string>); refresh?: () => Promise<string> }
  | { type: 'apiKey'; key: string; header?: string }
  | { type: 'custom'; sign: (request: { method: string; url: string }) => Record<string, string> | Promise<Record<string, string>> };
"#;

/// Credentials on every request: a bearer token (a string, or a function returning one, called
/// per request), an API key header, or a custom signer; `refresh()` is asked for a new token
/// after a 401. In a browser it warns that such headers need a CORS preflight, which the real
/// Sandrun worker does not answer.
#[wasm_bindgen(js_name = authPlugin)]
pub fn auth_plugin(
    #[wasm_bindgen(unchecked_param_type = "AuthOptions")] options: JsValue,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    let o = AuthFields::from_js(&options).map_err(SdkError::into_js)?;
    let kind = match o.kind.as_deref() {
        Some("bearer") => o.token.map(AuthKind::Bearer),
        Some("apiKey") => o
            .key
            .map(|k| AuthKind::ApiKey(o.header.unwrap_or_else(|| "X-API-Key".into()), k)),
        Some("custom") => o.sign.map(AuthKind::Custom),
        _ => None,
    };
    let Some(kind) = kind else {
        return Err(SdkError::field(
            "authPlugin options",
            "needs { type: 'bearer', token } or { type: 'apiKey', key } or { type: 'custom', sign }",
        )
        .into_js());
    };
    let mut secrets = Vec::new();
    match &kind {
        AuthKind::Bearer(t) => secrets.extend(t.as_string()),
        AuthKind::ApiKey(_, k) => secrets.push(k.clone()),
        AuthKind::Custom(_) => {}
    }
    made(
        Reader::new(&JsValue::UNDEFINED, ""),
        Rc::new(Auth {
            kind,
            refresh: o.refresh,
            refreshed: RefCell::new(None),
            secrets: RefCell::new(secrets),
            warned: Cell::new(false),
        }),
    )
}
