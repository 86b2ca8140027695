//! An `SdkError` becomes the JS error a caller catches: an instance of its code's class from
//! `js/errors.js` (made by the platform's `makeError`, so the classes live in one JS module users
//! can import), with the context fields that apply.

use super::error::{Code, SdkError};
use super::js::Obj;
use super::platform::make_error;
use wasm_bindgen::{JsCast, JsValue};

impl SdkError {
    pub fn into_js(self) -> JsValue {
        // A SandrunError a middleware or hook rethrew reaches the caller as it was.
        if let (Some(js), false) = (&self.js, self.code == Code::Plugin) {
            return js.clone();
        }
        let c = &self.context;
        let d = Obj::new();
        d.set("retryable", &self.retryable);
        let strings = [
            ("operation", c.operation.map(String::from)),
            ("endpoint", c.endpoint.clone()),
            ("jobId", c.job_id.clone()),
            ("cause", c.cause.clone()),
            ("plugin", c.plugin.clone()),
        ];
        for (key, value) in strings {
            if let Some(v) = value {
                d.set(key, &v);
            }
        }
        if let Some(s) = c.status {
            d.set("status", &(s as f64));
        }
        if let Some(ms) = c.retry_after_ms {
            d.set("retryAfterMs", &ms);
        }
        if let Some(n) = c.attempt {
            d.set("attempt", &n);
        }
        if let (Some(js), true) = (&self.js, self.code == Code::Plugin) {
            d.set("cause", js);
        }
        if !c.errors.is_empty() {
            d.set("errors", &c.errors);
        }
        if let Some(report) = &self.report {
            d.set("report", report);
        }
        let d: JsValue = d.into();
        if let Some(more) = &self.details {
            js_sys::Object::assign(
                d.unchecked_ref::<js_sys::Object>(),
                more.unchecked_ref::<js_sys::Object>(),
            );
        }
        make_error(self.code.as_str(), &self.message, &d)
    }
}

impl From<SdkError> for JsValue {
    fn from(e: SdkError) -> JsValue {
        e.into_js()
    }
}
