//! Futures and the JS event loop: one promise helper, one way to run work in the background, a
//! value settled once for many waiters, a stop switch for interval loops, and event listeners.

use super::error::{Result, SdkError};
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};

type JsFut = Pin<Box<dyn Future<Output = std::result::Result<JsValue, JsValue>>>>;
type UnitFut = Pin<Box<dyn Future<Output = ()>>>;

/// A Rust future as a JS promise; an `SdkError` rejects it with its JS error. Boxed to one type,
/// so `future_to_promise`'s machinery is compiled once instead of once per call site (kilobytes
/// of wasm each).
pub fn promise(f: impl Future<Output = Result<JsValue>> + 'static) -> Promise {
    let f: JsFut = Box::pin(async move { f.await.map_err(SdkError::into_js) });
    future_to_promise(f)
}

/// Runs a future in the background (its own task on the JS event loop).
pub fn spawn(f: impl Future<Output = ()> + 'static) {
    let f: UnitFut = Box::pin(f);
    spawn_local(f)
}

enum Slot<T> {
    Idle,
    /// Someone runs it; the others await `done`, which resolves when the slot changes.
    Running {
        done: Promise,
        resolve: Function,
    },
    Done(T),
}

/// A value computed once, by the first caller, and shared with every caller who comes while it
/// runs or after (a consensus group's outcome, say). Waiters await a JS promise the runner
/// resolves: no polling.
pub struct Settle<T>(RefCell<Slot<T>>);

impl<T> Default for Settle<T> {
    fn default() -> Self {
        Settle(RefCell::new(Slot::Idle))
    }
}

impl<T: Clone> Settle<T> {
    /// The value if it is there already.
    pub fn get(&self) -> Option<T> {
        match &*self.0.borrow() {
            Slot::Done(v) => Some(v.clone()),
            _ => None,
        }
    }

    pub async fn get_or_run<F: Future<Output = T>>(&self, run: impl FnOnce() -> F) -> T {
        loop {
            let waiting = match &*self.0.borrow() {
                Slot::Done(v) => return v.clone(),
                Slot::Running { done, .. } => Some(done.clone()),
                Slot::Idle => None,
            };
            match waiting {
                Some(done) => {
                    let _ = JsFuture::from(done).await;
                }
                None => break,
            }
        }
        let mut resolve: Option<Function> = None;
        let done = Promise::new(&mut |res, _| resolve = Some(res));
        let Some(resolve) = resolve else {
            // Promise executors run synchronously; this cannot happen.
            return run().await;
        };
        *self.0.borrow_mut() = Slot::Running { done, resolve };
        // If the runner is dropped before it finishes, the slot goes back to idle and the
        // waiters wake up: one of them runs it instead of all waiting forever.
        let guard = Reset(&self.0);
        let v = run().await;
        std::mem::forget(guard);
        let prev = std::mem::replace(&mut *self.0.borrow_mut(), Slot::Done(v.clone()));
        wake(prev);
        v
    }
}

fn wake<T>(slot: Slot<T>) {
    if let Slot::Running { resolve, .. } = slot {
        let _ = resolve.call0(&JsValue::NULL);
    }
}

struct Reset<'a, T>(&'a RefCell<Slot<T>>);

impl<T> Drop for Reset<'_, T> {
    fn drop(&mut self) {
        let prev = std::mem::replace(&mut *self.0.borrow_mut(), Slot::Idle);
        wake(prev);
    }
}

/// Stops interval loops on `close()`: an `AbortController` whose signal their sleeps take.
pub struct Stopper(Option<web_sys::AbortController>);

impl Stopper {
    pub fn new() -> Stopper {
        Stopper(web_sys::AbortController::new().ok())
    }

    pub fn signal(&self) -> JsValue {
        self.0
            .as_ref()
            .map(|c| c.signal().into())
            .unwrap_or(JsValue::UNDEFINED)
    }

    pub fn stop(&self) {
        if let Some(c) = &self.0 {
            c.abort();
        }
    }
}

impl Default for Stopper {
    fn default() -> Self {
        Stopper::new()
    }
}

/// Listeners by event name; callbacks get one payload object.
#[derive(Default)]
pub struct Events(RefCell<Vec<(String, Function)>>);

impl Events {
    /// Adds a listener for one of `known` events (another name is a `ValidationError`).
    pub fn on(&self, known: &[&str], event: &str, cb: Function) -> Result<()> {
        if !known.contains(&event) {
            return Err(SdkError::field(
                "event",
                format!("\"{event}\" is not one of: {}", known.join(", ")),
            ));
        }
        self.0.borrow_mut().push((event.into(), cb));
        Ok(())
    }

    /// Removes a listener added with `on` (the same function); true if there was one.
    pub fn off(&self, event: &str, cb: &Function) -> bool {
        let mut all = self.0.borrow_mut();
        let before = all.len();
        all.retain(|(e, f)| !(e == event && JsValue::from(f.clone()) == JsValue::from(cb.clone())));
        all.len() != before
    }

    pub fn emit(&self, event: &str, payload: &JsValue) {
        let cbs: Vec<Function> = self
            .0
            .borrow()
            .iter()
            .filter(|(e, _)| e == event)
            .map(|(_, f)| f.clone())
            .collect();
        for f in cbs {
            // A listener that throws must not break the SDK's own work.
            let _ = f.call1(&JsValue::NULL, payload);
        }
    }

    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}
