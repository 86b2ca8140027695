//! Rust values → plain JS data and back, one way for the whole crate, by hand: serde's
//! (de)serialisers would cost about a quarter of the wasm. Results are JSON-compatible objects
//! (maps become plain objects, `None` becomes `null`), as the generated TypeScript types say.

use crate::error::{Result, SdkError};
use js_sys::{Array, Object, Reflect};
use sandrun_protocol::map::SortedMap;
use wasm_bindgen::JsValue;

/// A Rust value that has a plain-JS form.
pub trait ToJs {
    fn to_js(&self) -> JsValue;
}

impl ToJs for String {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJs for f64 {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(*self)
    }
}

impl ToJs for bool {
    fn to_js(&self) -> JsValue {
        JsValue::from_bool(*self)
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

    pub fn set_js(&self, key: &str, value: &JsValue) -> &Obj {
        let _ = Reflect::set(&self.0, &key.into(), value);
        self
    }
}

impl From<Obj> for JsValue {
    fn from(o: Obj) -> JsValue {
        o.0.into()
    }
}

pub fn to_js<T: ToJs + ?Sized>(v: &T) -> Result<JsValue> {
    Ok(v.to_js())
}

/// `to_js` for functions that return `Result<_, JsValue>` directly.
pub fn to_js_value<T: ToJs + ?Sized>(v: &T) -> std::result::Result<JsValue, JsValue> {
    Ok(v.to_js())
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

/// Reads the fields of a plain JS object by hand. The SDK deserialises nothing with serde: serde's
/// error formatting alone pulls about 20 KiB of float-printing code into the wasm, and reading by
/// hand gives errors that name the field in the user's terms.
pub struct Reader {
    obj: JsValue,
    /// How fields are named in problems, e.g. `config.` or `wait options.`.
    prefix: &'static str,
    pub problems: Vec<crate::error::FieldProblem>,
}

impl Reader {
    /// `undefined` and `null` read as an empty object; anything else that is not an object is a
    /// problem.
    pub fn new(obj: &JsValue, prefix: &'static str) -> Reader {
        let mut r = Reader {
            obj: obj.clone(),
            prefix,
            problems: Vec::new(),
        };
        if obj.is_undefined() || obj.is_null() {
            r.obj = js_sys::Object::new().into();
        } else if !obj.is_object() {
            r.problem(prefix.trim_end_matches('.'), "must be an object".into());
            r.obj = js_sys::Object::new().into();
        }
        r
    }

    fn problem(&mut self, field: &str, message: String) {
        self.problems.push(crate::error::FieldProblem {
            field: field.to_string(),
            message,
        });
    }

    fn get(&self, key: &str) -> Option<JsValue> {
        js_sys::Reflect::get(&self.obj, &key.into())
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    /// Problems for keys not in `known` (a typo is better caught than ignored).
    pub fn only(&mut self, known: &[&str]) {
        let keys = js_sys::Object::keys(self.obj.unchecked_ref::<js_sys::Object>());
        for k in keys.iter().filter_map(|k| k.as_string()) {
            if !known.contains(&k.as_str()) {
                let field = format!("{}{k}", self.prefix);
                self.problem(
                    &field,
                    format!("is not an option (expected one of: {})", known.join(", ")),
                );
            }
        }
    }

    pub fn value(&self, key: &str) -> Option<JsValue> {
        self.get(key)
    }

    pub fn string(&mut self, key: &str) -> Option<String> {
        let v = self.get(key)?;
        let s = v.as_string();
        if s.is_none() {
            self.problem(&format!("{}{key}", self.prefix), "must be a string".into());
        }
        s
    }

    pub fn number(&mut self, key: &str) -> Option<f64> {
        let v = self.get(key)?;
        let n = v.as_f64();
        if n.is_none() {
            self.problem(&format!("{}{key}", self.prefix), "must be a number".into());
        }
        n
    }

    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        let v = self.get(key)?;
        let b = v.as_bool();
        if b.is_none() {
            self.problem(
                &format!("{}{key}", self.prefix),
                "must be true or false".into(),
            );
        }
        b
    }

    pub fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        let v = self.get(key)?;
        let items: Option<Vec<String>> = js_sys::Array::is_array(&v)
            .then(|| {
                js_sys::Array::from(&v)
                    .iter()
                    .map(|s| s.as_string())
                    .collect()
            })
            .flatten();
        if items.is_none() {
            self.problem(
                &format!("{}{key}", self.prefix),
                "must be an array of strings".into(),
            );
        }
        items
    }

    /// The problems as a `ValidationError`, or the value.
    pub fn finish<T>(self, value: T) -> Result<T> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(SdkError::validation(self.problems))
        }
    }
}

use wasm_bindgen::JsCast;
