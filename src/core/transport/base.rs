//! The innermost layer: the platform's request (or socket), and the answer's status read into an
//! error when it is not 2xx.

use super::call::{Call, Reply};
use super::status::status_error;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::pairs_js;
use crate::core::boundary::platform::{self, Failure, Request, Socket};
use std::rc::Rc;
use wasm_bindgen::JsValue;

pub async fn send(call: Call) -> Result<Reply> {
    let op = call.op;
    if call.stream {
        return match Socket::open(&call.url).await? {
            Ok(socket) => Ok(Reply::Stream(Rc::new(socket))),
            Err(why) => Err(SdkError::new(
                Code::Network,
                format!("stream: could not open {}: {why}", call.url),
            )),
        };
    }
    let req = Request {
        method: call.method.to_string(),
        url: call.url.clone(),
        headers: pairs_js(&call.headers),
        body: call
            .body
            .as_ref()
            .map(|b| js_sys::Uint8Array::from(&b.bytes[..]).into()),
        timeout_ms: Some(call.timeout_ms),
        signal: call.signal.clone(),
        on_progress: call.on_progress.clone().map(JsValue::from),
    };
    match platform::request(req).await? {
        Ok(res) if (200..300).contains(&res.status) => Ok(Reply::Http(res)),
        Ok(res) => Err(status_error(op, &res)),
        Err(Failure::Aborted) => Err(SdkError::new(Code::Cancelled, format!("{op} was aborted"))),
        Err(Failure::TimedOut) => Err(SdkError::new(
            Code::Timeout,
            format!("{op}: no answer from {} in time", call.endpoint),
        )),
        Err(Failure::Network(cause)) => Err(SdkError::new(
            Code::Network,
            format!("{op}: could not reach {}: {cause}", call.endpoint),
        )
        .cause(cause)),
    }
}
