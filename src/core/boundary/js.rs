//! Rust values → plain JS data, and reading properties of JS objects: one way for the whole crate,
//! by hand. serde's (de)serialisers would cost about a quarter of the wasm; the conversions are
//! derived (`#[derive(ToJs)]`, crate `sandrun-derive`) from the same declaration that gives the
//! TypeScript type. Results are JSON-compatible objects: maps become plain objects, `None`
//! becomes `null`.

use js_sys::{Array, Object, Reflect};
use sandrun_protocol::map::SortedMap;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

#[wasm_bindgen]
extern "C" {
    /// The global `String(value)`: never throws, whatever was thrown.
    #[wasm_bindgen(js_name = String)]
    fn js_string(v: &JsValue) -> String;
}

/// A Rust value that has a plain-JS form.
pub trait ToJs {
    fn to_js(&self) -> JsValue;
}

impl ToJs for String {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJs for &str {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJs for f64 {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(*self)
    }
}

impl ToJs for u32 {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl ToJs for bool {
    fn to_js(&self) -> JsValue {
        JsValue::from_bool(*self)
    }
}

impl ToJs for JsValue {
    fn to_js(&self) -> JsValue {
        self.clone()
    }
}

impl<T: ToJs> ToJs for Option<T> {
    fn to_js(&self) -> JsValue {
        self.as_ref().map(ToJs::to_js).unwrap_or(JsValue::NULL)
    }
}

impl<T: ToJs> ToJs for Vec<T> {
    fn to_js(&self) -> JsValue {
        self.iter().map(ToJs::to_js).collect::<Array>().into()
    }
}

impl<V: ToJs> ToJs for SortedMap<V> {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        for (k, v) in self {
            o.set(k, v);
        }
        o.into()
    }
}

/// Keys an extension adds to a core result (`consensus`, `route`, `settlement`, …): the core
/// type carries them without knowing their types. Each extension declares its keys in
/// TypeScript by merging into the core interface.
#[derive(Debug, Clone, Default)]
pub struct Extra(pub Vec<(&'static str, JsValue)>);

impl Extra {
    pub fn set(&mut self, key: &'static str, value: JsValue) {
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value));
    }

    pub fn write(&self, o: &Obj) {
        for (k, v) in &self.0 {
            o.set(k, v);
        }
    }
}

/// A plain object under construction.
pub struct Obj(Object);

impl Obj {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Obj {
        Obj(Object::new())
    }

    pub fn set(&self, key: &str, value: &dyn ToJs) -> &Obj {
        let _ = Reflect::set(&self.0, &key.into(), &value.to_js());
        self
    }
}

impl From<Obj> for JsValue {
    fn from(o: Obj) -> JsValue {
        o.0.into()
    }
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

// ---------------------------------------------------------------------------------------------
// Reading properties: the one helper every reader of JS objects and server answers uses.

/// `v[key]`, or `None` when it is missing, `undefined` or `null`.
pub fn prop(v: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(v, &key.into())
        .ok()
        .filter(|f| !f.is_undefined() && !f.is_null())
}

pub fn string(v: &JsValue, key: &str) -> Option<String> {
    prop(v, key)?.as_string()
}

pub fn number(v: &JsValue, key: &str) -> Option<f64> {
    prop(v, key)?.as_f64()
}

pub fn boolean(v: &JsValue, key: &str) -> Option<bool> {
    prop(v, key)?.as_bool()
}

/// The first of `keys` that holds a string (answers that name one thing several ways).
pub fn string_of(v: &JsValue, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| string(v, k))
}

/// The first of `keys` that holds a number.
pub fn number_of(v: &JsValue, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| number(v, k))
}

/// A required string field of a server answer; its absence is how an answer of the wrong shape is
/// told apart.
pub fn required(v: &JsValue, key: &str) -> Result<String, String> {
    string(v, key).ok_or_else(|| format!("no \"{key}\" string"))
}

/// `v[key]` as a function.
pub fn method(v: &JsValue, key: &str) -> Option<js_sys::Function> {
    prop(v, key)?.dyn_into().ok()
}

/// The `[key, value]` pairs of a plain object.
pub fn entries(v: &JsValue) -> Vec<(String, JsValue)> {
    if !v.is_object() {
        return Vec::new();
    }
    Object::entries(v.unchecked_ref())
        .iter()
        .filter_map(|pair| {
            let pair = Array::from(&pair);
            Some((pair.get(0).as_string()?, pair.get(1)))
        })
        .collect()
}

/// `[[name, value], …]` → pairs (headers as the platform and middleware give them).
pub fn pairs(v: &JsValue) -> Vec<(String, String)> {
    Array::from(v)
        .iter()
        .filter_map(|p| {
            let p = Array::from(&p);
            Some((p.get(0).as_string()?, p.get(1).as_string()?))
        })
        .collect()
}

/// Pairs → `[[name, value], …]`.
pub fn pairs_js(h: &[(String, String)]) -> JsValue {
    h.iter()
        .map(|(k, v)| -> JsValue { Array::of2(&k.into(), &v.into()).into() })
        .collect::<Array>()
        .into()
}

/// The text of a JS exception value (an `Error`'s message, or the value itself).
pub fn message_of(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    // String(v), not `{v:?}`: the Debug formatting pulls wasm-bindgen's debugString glue (about
    // 0.6 KB of minified JS) into every build.
    string(v, "message").unwrap_or_else(|| js_string(v))
}

/// A JS exception's `code` (Node-style `ECONNRESET`) or else its `name` (DOM `AbortError`).
pub fn code_of(v: &JsValue) -> Option<String> {
    string_of(v, &["code", "name"])
}
