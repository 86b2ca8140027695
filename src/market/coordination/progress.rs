//! One stream of stage events for a paid job: `packaging`, `uploading`, `escrow`, `claims`,
//! `running`, `verifying`, `settling`, `done`, each `{ stage, at, ... }` with what that stage
//! knows. `submit()` resolves once the job is in escrow, so a listener added then would miss the
//! first stages: both `on('progress', fn)` and the async iterator `progress()` start from the
//! first event (they are kept; a job has a few dozen at most), then follow live until `done`.
//! `submit({ onStage })` is a listener added before the first event: it hears each stage as it
//! happens, `packaging`, `uploading` and `escrow` before `submit()` resolves.

use crate::core::boundary::error::FieldProblem;
use crate::core::boundary::js::{Obj, ToJs};
use crate::core::boundary::platform::now_ms;
use crate::core::boundary::promise::promise;
use js_sys::{Function, Promise, Reflect, Symbol};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The `submit()` option this layer adds (registered in `register()`, declared in `handle.rs`).
pub const ON_STAGE: &str = "onStage";

pub fn check_on_stage(v: &JsValue) -> Option<FieldProblem> {
    (!v.is_function() && !v.is_undefined()).then(|| {
        FieldProblem::new(
            "submit options.onStage",
            "must be a function (event) => void",
        )
    })
}

#[derive(Default)]
pub struct Progress {
    history: RefCell<Vec<JsValue>>,
    listeners: RefCell<Vec<Function>>,
    /// Iterators waiting for the next event: resolved (and cleared) by each event.
    waiting: RefCell<Vec<Function>>,
    ended: Cell<bool>,
}

impl Progress {
    /// Reports a stage: `fields` are the stage's own (`txHash`, `bytes`, `node`, …).
    pub fn emit(&self, stage: &'static str, fields: &[(&str, &dyn ToJs)]) {
        if self.ended.get() {
            return;
        }
        let o = Obj::new();
        o.set("stage", &stage).set("at", &now_ms());
        for (k, v) in fields {
            o.set(k, *v);
        }
        let event: JsValue = o.into();
        self.history.borrow_mut().push(event.clone());
        let listeners: Vec<Function> = self.listeners.borrow().clone();
        for f in listeners {
            // A listener that throws must not stop the job.
            let _ = f.call1(&JsValue::NULL, &event);
        }
        if stage == "done" {
            self.ended.set(true);
        }
        for wake in self.waiting.take() {
            let _ = wake.call0(&JsValue::NULL);
        }
    }

    /// Adds a listener: it hears every event so far at once, then each new one.
    pub fn listen(&self, f: Function) {
        let past: Vec<JsValue> = self.history.borrow().clone();
        for e in &past {
            let _ = f.call1(&JsValue::NULL, e);
        }
        self.listeners.borrow_mut().push(f);
    }

    pub fn off(&self, f: &Function) -> bool {
        let mut all = self.listeners.borrow_mut();
        let before = all.len();
        all.retain(|g| JsValue::from(g) != JsValue::from(f));
        all.len() != before
    }

    /// The `n`th event, waiting for it; None once the stream ended before it.
    async fn nth(&self, n: usize) -> Option<JsValue> {
        loop {
            if let Some(e) = self.history.borrow().get(n) {
                return Some(e.clone());
            }
            if self.ended.get() {
                return None;
            }
            let mut resolve = None;
            let p = Promise::new(&mut |res, _| resolve = Some(res));
            if let Some(r) = resolve {
                self.waiting.borrow_mut().push(r);
            }
            let _ = JsFuture::from(p).await;
        }
    }

    /// An async iterator over the events from the first (`for await (const e of exec.progress())`).
    pub fn iterator(self: &Rc<Self>) -> JsValue {
        let it = js_sys::Object::new();
        let cursor = Rc::new(Cell::new(0usize));
        let me = self.clone();
        let next = Closure::<dyn FnMut() -> Promise>::new(move || {
            let (me, cursor) = (me.clone(), cursor.clone());
            promise(async move {
                let n = cursor.get();
                let item = me.nth(n).await;
                cursor.set(n + 1);
                let r = Obj::new();
                r.set("done", &item.is_none())
                    .set("value", &item.unwrap_or(JsValue::UNDEFINED));
                Ok(r.into())
            })
        });
        let this = it.clone();
        let iter = Closure::<dyn FnMut() -> JsValue>::new(move || this.clone().into());
        let _ = Reflect::set(&it, &"next".into(), &next.into_js_value());
        let _ = Reflect::set(&it, &Symbol::async_iterator(), &iter.into_js_value());
        it.into()
    }
}
