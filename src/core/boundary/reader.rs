//! Reading options objects that JS hands in, by hand: unknown keys and wrong types become
//! problems that name the field in the user's terms (`config.endpoint`, `wait options.timeoutMs`),
//! all reported at once. serde's deserialiser would cost about 20 KiB of float-printing code in
//! the wasm for its error messages alone. `#[derive(FromJs)]` writes these readers for option
//! types (and their TypeScript declarations).

use super::error::{FieldProblem, Result, SdkError};
use super::js::{entries, prop};
use js_sys::{Array, Function};
use sandrun_protocol::map::SortedMap;
use wasm_bindgen::{JsCast, JsValue};

/// A type read from a JS options object.
pub trait FromJs: Sized {
    fn from_js(v: &JsValue) -> Result<Self>;
}

pub struct Reader {
    obj: JsValue,
    /// How fields are named in problems, e.g. `config.` or `wait options.`.
    prefix: &'static str,
    pub problems: Vec<FieldProblem>,
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

    pub fn problem(&mut self, field: &str, message: String) {
        self.problems.push(FieldProblem::new(field, message));
    }

    /// A problem with `key`, named with this reader's prefix.
    pub fn bad(&mut self, key: &str, message: impl Into<String>) {
        let field = format!("{}{key}", self.prefix);
        self.problems.push(FieldProblem::new(field, message));
    }

    /// Problems for keys not in `known` (a typo is better caught than ignored).
    pub fn only(&mut self, known: &[&str]) {
        for (k, _) in entries(&self.obj) {
            if !known.contains(&k.as_str()) {
                self.bad(
                    &k,
                    format!("is not an option (expected one of: {})", known.join(", ")),
                );
            }
        }
    }

    /// The keys not in `known`, with their values (for a caller that checks them itself).
    pub fn rest(&self, known: &[&str]) -> Vec<(String, JsValue)> {
        entries(&self.obj)
            .into_iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .collect()
    }

    pub fn value(&self, key: &str) -> Option<JsValue> {
        prop(&self.obj, key)
    }

    pub fn string(&mut self, key: &str) -> Option<String> {
        self.typed(key, "must be a string", |v| v.as_string())
    }

    pub fn number(&mut self, key: &str) -> Option<f64> {
        self.typed(key, "must be a number", |v| v.as_f64())
    }

    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        self.typed(key, "must be true or false", |v| v.as_bool())
    }

    pub fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        self.typed(key, "must be an array of strings", |v| {
            Array::is_array(v)
                .then(|| Array::from(v).iter().map(|s| s.as_string()).collect())
                .flatten()
        })
    }

    pub fn function(&mut self, key: &str) -> Option<Function> {
        self.typed(key, "must be a function", |v| v.clone().dyn_into().ok())
    }

    /// A plain object of name → number (per-operation settings).
    pub fn numbers(&mut self, key: &str) -> Option<SortedMap<f64>> {
        self.typed(key, "must be an object of numbers", |v| {
            v.is_object()
                .then(|| {
                    entries(v)
                        .into_iter()
                        .map(|(k, n)| n.as_f64().map(|n| (k, n)))
                        .collect()
                })
                .flatten()
        })
    }

    fn typed<T>(&mut self, key: &str, what: &str, f: impl Fn(&JsValue) -> Option<T>) -> Option<T> {
        let v = self.value(key)?;
        let got = f(&v);
        if got.is_none() {
            self.bad(key, what);
        }
        got
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

/// How `#[derive(FromJs)]` reads a field of each type.
pub trait Field: Sized {
    fn read(r: &mut Reader, key: &str) -> Self;
}

impl Field for Option<String> {
    fn read(r: &mut Reader, key: &str) -> Self {
        r.string(key)
    }
}

impl Field for Option<f64> {
    fn read(r: &mut Reader, key: &str) -> Self {
        r.number(key)
    }
}

impl Field for Option<bool> {
    fn read(r: &mut Reader, key: &str) -> Self {
        r.boolean(key)
    }
}

impl Field for Option<Vec<String>> {
    fn read(r: &mut Reader, key: &str) -> Self {
        r.strings(key)
    }
}

impl Field for Option<JsValue> {
    fn read(r: &mut Reader, key: &str) -> Self {
        r.value(key)
    }
}

impl Field for Option<Function> {
    fn read(r: &mut Reader, key: &str) -> Self {
        r.function(key)
    }
}

impl Field for Option<SortedMap<f64>> {
    fn read(r: &mut Reader, key: &str) -> Self {
        r.numbers(key)
    }
}
