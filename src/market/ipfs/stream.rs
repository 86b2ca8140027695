//! A JS `ReadableStream<Uint8Array>` whose pieces come from Rust: upload bodies (read from the
//! user's data and hashed on the way) and downloads (verified as they arrive). The stream pulls:
//! nothing is read ahead of what JS asks for, so memory stays flat however large the file.

use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{method, Obj};
use crate::core::boundary::promise::promise;
use js_sys::{Promise, Uint8Array};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// One step of a source: the source back (to be asked again) and the next piece, `None` at the
/// end.
pub type Step<S> = Pin<Box<dyn Future<Output = (S, Result<Option<Vec<u8>>>)>>>;

/// A `ReadableStream` that asks `next` for each piece. When JS cancels the stream, or it ends or
/// fails, the source is dropped (which closes whatever it had open).
pub fn readable<S: 'static>(source: S, next: fn(S) -> Step<S>) -> Result<web_sys::ReadableStream> {
    let cell = Rc::new(RefCell::new(Some(source)));
    let pulling = cell.clone();
    let pull = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |controller: JsValue| {
        let cell = pulling.clone();
        promise(async move {
            // Taken out while it works: a stream asks for one piece at a time.
            let Some(source) = cell.borrow_mut().take() else {
                call(&controller, "close", None);
                return Ok(JsValue::UNDEFINED);
            };
            let (source, piece) = next(source).await;
            match piece? {
                Some(bytes) => {
                    *cell.borrow_mut() = Some(source);
                    call(
                        &controller,
                        "enqueue",
                        Some(&Uint8Array::from(&bytes[..]).into()),
                    );
                }
                None => call(&controller, "close", None),
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    let cancel = Closure::<dyn FnMut(JsValue)>::new(move |_reason: JsValue| {
        cell.borrow_mut().take();
    });
    let underlying = Obj::new();
    // Owned by the JS functions from here on: released with the stream (--weak-refs).
    underlying
        .set("pull", &pull.into_js_value())
        .set("cancel", &cancel.into_js_value());
    web_sys::ReadableStream::new_with_underlying_source(&JsValue::from(underlying).into())
        .map_err(|_| SdkError::new(Code::Unsupported, "this platform has no ReadableStream"))
}

/// `controller.enqueue(piece)` / `controller.close()`.
fn call(controller: &JsValue, name: &str, arg: Option<&JsValue>) {
    if let Some(f) = method(controller, name) {
        let _ = match arg {
            Some(a) => f.call1(controller, a),
            None => f.call0(controller),
        };
    }
}
