//! Transport layers (alloy's `Layer`s, viem's transports): each retry, throttle, breaker, auth or
//! hook is a layer of its own around the next one, ending in the platform request (`base.rs`).
//! The core knows no layer; extensions (plugins) build them and give them to a client.

use super::base;
use super::call::{Call, Reply};
use crate::core::boundary::error::Result;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

pub type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

pub trait Layer {
    /// Handles `call`, usually by doing something around `next.run(call)`.
    fn call<'a>(&'a self, call: Call, next: Next) -> Fut<'a, Result<Reply>>;
}

/// The layers a client's requests go through, outermost first.
pub type Stack = Rc<[Rc<dyn Layer>]>;

/// The rest of the stack below a layer. It owns what it needs, so a layer may keep it in a
/// callback (a JS middleware's `next()`) and run it more than once (a retry).
#[derive(Clone)]
pub struct Next {
    stack: Stack,
    at: usize,
}

impl Next {
    pub fn new(stack: Stack) -> Next {
        Next { stack, at: 0 }
    }

    pub fn run(self, call: Call) -> Fut<'static, Result<Reply>> {
        match self.stack.get(self.at).cloned() {
            Some(layer) => {
                let next = Next {
                    stack: self.stack,
                    at: self.at + 1,
                };
                Box::pin(async move { layer.call(call, next).await })
            }
            None => Box::pin(base::send(call)),
        }
    }
}
