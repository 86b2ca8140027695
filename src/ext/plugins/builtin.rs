//! The built-in plugins (`retryPlugin()`, `metricsPlugin()`, …): Rust objects behind one JS
//! handle, `BuiltinPlugin`. Each lives in a file of its own and adds transport layers at the
//! stage it works at; the pipeline asks them, not the other way round.

use super::Pipeline;
use crate::core::boundary::error::SdkError;
use crate::core::boundary::js::Obj;
use crate::core::boundary::reader::Reader;
use crate::core::transport::Layer;
use std::any::Any;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// Where a layer sits in a client's stack, outermost first. The order is the built-ins' meaning:
/// a deadline spans the retries, each retry takes a rate-limit token and passes the breaker
/// before auth headers are added, and the hooks see the request as it is sent.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Stage {
    /// Per operation, outside the retries (the timeout plugin's overall deadline).
    Deadline,
    Retry,
    /// Per attempt, from here on.
    RateLimit,
    Breaker,
    Auth,
    Timeout,
}

pub trait Builtin: Any {
    fn name(&self) -> &'static str;
    fn as_any(&self) -> &dyn Any;
    /// The layers it adds to a client whose pipeline it is in.
    fn layers(self: Rc<Self>, _pipeline: &Rc<Pipeline>) -> Vec<(Stage, Rc<dyn Layer>)> {
        Vec::new()
    }
    /// `snapshot()`: what it can show of its state.
    fn snapshot(&self) -> JsValue {
        Obj::new().into()
    }
    /// `prometheus()`: metrics in the Prometheus text format.
    fn prometheus(&self) -> String {
        String::new()
    }
    /// Values that must never reach a log (tokens, keys).
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }
}

thread_local! {
    static REGISTRY: RefCell<Vec<Weak<dyn Builtin>>> = const { RefCell::new(Vec::new()) };
}

/// The handle a built-in factory returns; pass it to `.use()`.
#[wasm_bindgen]
pub struct BuiltinPlugin {
    inner: Rc<dyn Builtin>,
    id: u32,
}

/// Registers a built-in: `.use()` finds it again from the handle's `__sandrunBuiltin` id.
pub fn register(b: Rc<dyn Builtin>) -> BuiltinPlugin {
    let id = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.push(Rc::downgrade(&b));
        r.len() as u32 - 1
    });
    BuiltinPlugin { inner: b, id }
}

/// The built-in behind a `BuiltinPlugin` handle (or `{ __sandrunBuiltin: id }`).
pub fn lookup(id: f64) -> Option<Rc<dyn Builtin>> {
    REGISTRY.with(|r| r.borrow().get(id as usize).and_then(Weak::upgrade))
}

/// A factory's options read, or its `ValidationError`.
pub fn made(r: Reader, b: Rc<dyn Builtin>) -> Result<BuiltinPlugin, JsValue> {
    r.finish(()).map_err(SdkError::into_js)?;
    Ok(register(b))
}

#[wasm_bindgen]
impl BuiltinPlugin {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().into()
    }

    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").into()
    }

    #[wasm_bindgen(getter)]
    pub fn priority(&self) -> f64 {
        0.0
    }

    #[wasm_bindgen(getter, js_name = "__sandrunBuiltin")]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Metrics: counters and histograms as JSON. Circuit breaker: each endpoint's circuit.
    /// Timeout: the learned adaptive timeout. Others: `{}`.
    #[wasm_bindgen(unchecked_return_type = "Record<string, any>")]
    pub fn snapshot(&self) -> JsValue {
        self.inner.snapshot()
    }

    /// Metrics in the Prometheus text format (empty for other plugins).
    pub fn prometheus(&self) -> String {
        self.inner.prometheus()
    }
}
