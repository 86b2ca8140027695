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
