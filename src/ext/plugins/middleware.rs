//! The middleware chain: JS objects with `execute(next, context)`, outermost first, around every
//! operation (the log stream too: its innermost `next()` opens the socket and resolves
//! `{ status: 101 }`). JS composes the chain; Rust only builds the innermost `next()` and reads
//! what the outermost resolves with.

use super::hooks::call_ctx;
use super::{thrown_error, Pipeline};
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::method;
use crate::core::boundary::platform::{Response, Socket};
use crate::core::boundary::promise::promise;
use crate::core::transport::status::status_error;
use crate::core::transport::{Call, Fut, Layer, Next, Reply};
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub struct Chain(pub Rc<Pipeline>);

/// What the innermost `next()` left behind: the error it failed with (so that a middleware that
/// rethrows it unchanged gives the caller the original typed error) and the socket it opened.
#[derive(Default)]
struct Inner {
    error: Option<(JsValue, SdkError)>,
    socket: Option<Rc<Socket>>,
}

impl Layer for Chain {
    fn call<'a>(&'a self, call: Call, next: Next) -> Fut<'a, Result<Reply>> {
        Box::pin(async move {
            let (op, stream) = (call.op, call.stream);
            let ctx = call_ctx(&call);
            let inner: Rc<RefCell<Inner>> = Rc::default();
            let innermost: JsValue = {
                let inner = inner.clone();
                Closure::<dyn FnMut() -> Promise>::new(move || {
                    let (next, call, inner) = (next.clone(), call.clone(), inner.clone());
                    let p = promise(async move {
                        match next.run(call).await {
                            Ok(Reply::Http(res)) => Ok(res.to_js_object()),
                            Ok(Reply::Stream(sock)) => {
                                inner.borrow_mut().socket = Some(sock);
                                let res = Response {
                                    status: 101,
                                    headers: Vec::new(),
                                    body: Vec::new(),
                                };
                                Ok(res.to_js_object())
                            }
                            Err(e) => {
                                let js = e.clone().into_js();
                                inner.borrow_mut().error = Some((js, e.clone()));
                                Err(e)
                            }
                        }
                    });
                    p
                })
                .into_js_value()
            };
            let mut next_js = innermost;
            for mw in self.0.middleware.iter().rev() {
                let (mw, prev, ctx) = (mw.clone(), next_js.clone(), ctx.clone());
                next_js = Closure::<dyn FnMut() -> JsValue>::new(move || -> JsValue {
                    let Some(f) = method(&mw, "execute") else {
                        return Promise::reject(&"middleware has no execute()".into()).into();
                    };
                    match f.call2(&mw, &prev, &ctx) {
                        Ok(v) => v,
                        Err(e) => Promise::reject(&e).into(),
                    }
                })
                .into_js_value();
            }
            let first: &Function = next_js.unchecked_ref();
            let out = match first.call0(&JsValue::NULL) {
                Ok(v) => JsFuture::from(Promise::resolve(&v)).await,
                Err(e) => Err(e),
            };
            let socket = inner.borrow_mut().socket.take();
            match out {
                Ok(v) => match (Response::from_js_object(&v), stream) {
                    (Some(_), true) => socket.map(Reply::Stream).ok_or_else(|| {
                        SdkError::new(
                            Code::Plugin,
                            "stream: a middleware answered the stream without opening it",
                        )
                    }),
                    (Some(res), false) if (200..300).contains(&res.status) => Ok(Reply::Http(res)),
                    (Some(res), false) => Err(status_error(op, &res)),
                    (None, _) => Err(SdkError::new(
                        Code::Plugin,
                        format!("{op}: a middleware resolved with something else than a response"),
                    )),
                },
                Err(thrown) => {
                    if let Some(s) = socket {
                        s.close();
                    }
                    if let Some((js, e)) = inner.borrow_mut().error.take() {
                        if js == thrown {
                            return Err(e);
                        }
                    }
                    Err(thrown_error(op, thrown, "a middleware"))
                }
            }
        })
    }
}
